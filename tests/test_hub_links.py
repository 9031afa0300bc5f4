"""Under JupyterHub: the notebook's links reach the portal through a real jupyter-server-proxy.

The Jupyter server runs as JupyterHub runs a user's (``base_url=/user/alice/``,
token auth); ``JUPYTERHUB_SERVICE_PREFIX`` is what the hub sets in the kernel.
The browser's side is played by httpx, sending what a browser would.
"""

import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from labkit import Simulator, VirtualClock

from _jupyterlab import jupyterlab

pytest.importorskip("jupyter_server_proxy")

PREFIX = "/user/alice/"


@pytest.fixture(scope="module")
def hub():
    with tempfile.TemporaryDirectory() as tmp, jupyterlab(Path(tmp), base_url=PREFIX) as (base, token):
        yield base, token


@pytest.fixture
def sim(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", PREFIX)
    s = Simulator(clock=VirtualClock(), name="test-hub-links").serve()
    yield s
    s.stop()


def links(html: str) -> list[str]:
    """Every URL of a page: link and form targets, and the meta refresh's."""
    return [a or b for a, b in re.findall(r'(?:href|action)="([^"]*)"|url=([^"]*)"', html)]


def test_hub_links_reach_the_portal_through_jupyter_server_proxy(hub, sim):
    base, token = hub
    root = "{0.scheme}://{0.netloc}".format(urlsplit(base))  # the hub's host, as the browser sees it
    gw_port = urlsplit(sim.gateway_url).port
    mount = f"{PREFIX}proxy/{gw_port}"
    auth = {"authorization": f"token {token}"}

    start = sim.browser_url("/")
    assert start == f"{mount}/"
    with httpx.Client(base_url=root, headers=auth, timeout=10) as browser:
        captive = browser.get(start)
        assert captive.status_code == 511, captive.text
        assert captive.headers["via"] == "1.1 labkit-gateway"
        assert links(captive.text) == [f"{mount}/login", f"{mount}/login"]  # the refresh and the link

        login = browser.get(sim.browser_url("/login"))
        assert login.status_code == 200
        assert '<input name="password" type="password"' in login.text
        # Every link and form of the page stays under the prefix, on the hub's host.
        assert links(login.text) == [f"{mount}/login"]

        # Sign in with the form, as the browser would post it from that page.
        signed = browser.post(f"{mount}/login", data={"user": "guest", "password": "letmein"},
                              headers={"origin": root, "referer": root + f"{mount}/login"})
        assert signed.status_code == 200, signed.text
        assert "<title>You are online</title>" in signed.text
        assert all(link.startswith(f"{mount}/") for link in links(signed.text))
        # jupyter-server-proxy connects from this machine's loopback: the browser is 127.0.0.1,
        # the device the notebook's clients are by default.
        assert '<code id="device">127.0.0.1</code>' in signed.text
    assert not sim.gateway.portal.state("127.0.0.1").captive
    with sim.client(gateway=True) as notebook:
        assert notebook.get("http://news.test/status/200").status_code == 200


def test_a_cross_site_post_through_the_hub_is_refused(hub, sim):
    base, token = hub
    root = "{0.scheme}://{0.netloc}".format(urlsplit(base))
    sim.gateway.portal.sign_in("127.0.0.1", "guest", "letmein")
    r = httpx.post(root + sim.browser_url("/logout"), headers={"authorization": f"token {token}",
                                                                "origin": "http://evil.example"})
    assert r.status_code == 403
    assert not sim.gateway.portal.state("127.0.0.1").captive
