"""A real browser with no proxy set: the portal at the gateway's own address, on a laptop and under a hub.

Debian's Chromium, driven by Playwright. On a laptop it opens the loopback URLs
a notebook prints; under JupyterHub it opens them through jupyter-server-proxy
on a Jupyter server mounted at ``/user/alice/``. Either way the browser is
device 127.0.0.1, and signing in brings that device online.
"""

import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from labkit import Simulator, VirtualClock

from _jupyterlab import have_chromium, jupyterlab, launch_chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not have_chromium(), reason="Chromium is not installed (apt-get install chromium)"),
]

PREFIX = "/user/alice/"


@pytest.fixture(scope="module")
def network():
    s = Simulator(clock=VirtualClock(), name="test-browser-direct").serve()
    yield s
    s.stop()


@pytest.fixture
def sim(network, monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    network.gateway.portal.reset()
    network.gateway.mode = "rfc6585"
    return network


@pytest.fixture(scope="module")
def browser():
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        b = launch_chromium(p)  # no --proxy-server: the learner's own browser, as it is
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def sign_in(sim, page, login_url: str, page_origin: str) -> None:
    assert page.title() == "Sign in to the network"
    page.fill("input[name=user]", "guest")
    page.fill("input[name=password]", "letmein")
    with page.expect_request(login_url) as posted:
        page.click("#sign-in")
    # Chromium names the form's origin; the portal takes the address it was sent to as its own.
    assert posted.value.header_value("origin") == page_origin
    page.wait_for_selector("#remaining", timeout=10_000)
    assert page.title() == "You are online"
    assert page.inner_text("#device") == "127.0.0.1"
    assert not sim.gateway.portal.state("127.0.0.1").captive


def test_browser_follows_the_511_link_at_the_gateway_address_and_signs_in(sim, page):
    """Open the printed gateway URL, click the 511's link, sign in: the device is online."""
    start = sim.browser_url("/")
    assert start == sim.gateway_url + "/"

    # The gateway's real answer, without its meta refresh, so that only the link moves on.
    def without_refresh(route):
        answer = route.fetch()
        body = answer.text().replace('<meta http-equiv="refresh"', '<meta data-was-refresh')
        route.fulfill(response=answer, body=body)

    page.route(start, without_refresh)
    response = page.goto(start)
    assert response.status == 511
    assert response.headers["via"] == "1.1 labkit-gateway"
    assert page.title() == "Network Authentication Required"
    assert page.get_attribute("a#login", "href") == sim.portal_url
    page.click("a#login")
    page.wait_for_url(sim.portal_url, timeout=10_000)
    sign_in(sim, page, sim.portal_url, sim.gateway_url)

    # Signed in, the gateway's address shows this device's session; the notebook's device is online.
    page.unroute(start)
    again = page.goto(start)
    assert again.status == 200 and page.title() == "You are online"
    with sim.proxy_client(device="127.0.0.1") as notebook:
        assert notebook.get("http://news.test/status/200").status_code == 200
    assert sim.gateway.portal.state("127.0.0.2").captive


def test_browser_meta_refresh_leads_to_the_login_page_with_the_way_back(sim, page):
    asked = sim.browser_url("/status/200")
    response = page.goto(asked, wait_until="commit")
    assert response.status == 511
    page.wait_for_url(sim.portal_url + "?next=**", timeout=10_000)
    sign_in(sim, page, sim.portal_url, sim.gateway_url)
    assert page.get_attribute("#continue", "href") == asked


def test_browser_under_a_hub_signs_in_through_jupyter_server_proxy(network, page, monkeypatch):
    pytest.importorskip("jupyter_server_proxy")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", PREFIX)
    network.gateway.portal.reset()
    with tempfile.TemporaryDirectory() as tmp, jupyterlab(Path(tmp), base_url=PREFIX) as (base, token):
        root = "{0.scheme}://{0.netloc}".format(urlsplit(base))
        # Log in to the Jupyter server once, as the hub's login would: a cookie for the rest.
        assert page.goto(f"{base}/api/status?token={token}").status == 200

        start = network.browser_url("/")
        mount = f"{PREFIX}proxy/{urlsplit(network.gateway_url).port}"
        assert start == f"{mount}/"  # a path: the browser resolves it on the hub's host
        response = page.goto(root + start, wait_until="commit")
        assert response.status == 511
        page.wait_for_url(f"{root}{mount}/login", timeout=10_000)
        sign_in(network, page, f"{root}{mount}/login", root)
        assert page.get_attribute("form:has(#sign-out)", "action") == f"{mount}/logout"
