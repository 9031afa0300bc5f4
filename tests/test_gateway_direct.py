"""Direct visits: the portal at the gateway's own address, for a browser with no proxy set.

An origin-form request naming the gateway (``GET / HTTP/1.1``, ``Host:
127.0.0.1:PORT``) is for the gateway itself; an absolute-form one
(``GET http://news.test/ HTTP/1.1``) asks it, as a proxy, for a host behind it.
"""

import json
import shutil
import socket
import subprocess
from urllib.parse import quote

import httpx
import pytest

from labkit import Simulator, VirtualClock
from labkit.core import Request
from labkit.gateway import MODES, Gateway
from labkit.gateway._site import _safe_next
from labkit.origin import Origin

OWN = "127.0.0.1:5555"
BASE = f"http://{OWN}"
PORTAL_LOGIN = "http://portal.labkit.test/login"
HUB_PREFIX = "/user/alice/proxy/5555"
GOOD = b"user=guest&password=letmein"
FORM = ("content-type", "application/x-www-form-urlencoded")


@pytest.fixture
def gateway():
    return Gateway(Origin(clock=VirtualClock()), clock=VirtualClock(), address=OWN)


def origin_form(method="GET", path="/", *, host=OWN, headers=(), body=b"", device="127.0.0.1", query=""):
    """A request as a browser sends it to a server it was pointed at directly."""
    return Request(method, path, query, [("host", host), *headers], body, (device, 50000), "http", None)


def absolute_form(url_host, method="GET", path="/", *, headers=(), body=b"", device="127.0.0.1"):
    """A request as a client configured with the gateway as its proxy sends it."""
    return Request(method, path, "", [("host", url_host), *headers], body, (device, 50000), "http", url_host)


def login_link(body: bytes) -> str:
    text = body.decode()
    return text.split('<a id="login" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


# -- origin-form to the gateway: the portal, at the address it came in on ----------------
def test_visit_to_the_gateway_root_is_the_511_linking_to_the_login_page_there(gateway):
    r = gateway(origin_form())
    assert r.status == 511
    assert r.header("cache-control") == "no-store"
    assert r.header("via") == "1.1 labkit-gateway" and r.header("server") == "labkit-gateway"
    # Nothing to come back to: the login page is the way on.
    assert login_link(r.body) == f"{BASE}/login"
    assert f'http-equiv="refresh" content="0; url={BASE}/login"' in r.body.decode()
    assert "portal.labkit.test" not in r.body.decode()


def test_any_other_path_names_itself_as_next(gateway):
    r = gateway(origin_form(path="/some/page", query="x=1"))
    assert r.status == 511
    assert login_link(r.body) == f"{BASE}/login?next=" + quote(f"{BASE}/some/page?x=1", safe="")


@pytest.mark.parametrize("host", ["localhost:5555", "127.0.0.1:5555", "LOCALHOST:5555", "[::1]:5555"])
def test_links_use_the_host_the_request_named(gateway, host):
    r = gateway(origin_form(host=host))
    assert r.status == 511
    assert login_link(r.body) == f"http://{host.lower()}/login"


def test_json_clients_get_problem_details_with_the_direct_login_url(gateway):
    r = gateway(origin_form(headers=[("accept", "application/json")]))
    doc = json.loads(r.body)
    assert r.status == 511 and doc["status"] == 511
    assert doc["login_url"] == f"{BASE}/login"
    assert doc["captive_api"] == f"{BASE}/api/captive"


@pytest.mark.parametrize("mode", list(MODES))
def test_a_direct_visit_meets_no_mode(gateway, mode):
    """The gateway's own web server is no proxy: no redirect, spoof or 407 there (openNDS: 511)."""
    gateway.mode = mode
    assert gateway(origin_form()).status == 511
    assert gateway(origin_form(path="/login")).status == 200


def test_login_sign_in_and_online_page_at_the_gateway_address(gateway):
    form = gateway(origin_form(path="/login", query="next=" + quote(f"{BASE}/some/page", safe="")))
    assert form.status == 200
    page = form.body.decode()
    assert f'action="{BASE}/login"' in page
    assert f'name="next" value="{BASE}/some/page"' in page

    # The browser's form, as Chromium posts it: Origin is the page's own.
    signed = gateway(origin_form("POST", "/login", headers=[FORM, ("origin", BASE)], body=GOOD))
    assert signed.status == 200
    page = signed.body.decode()
    assert "<title>You are online</title>" in page
    assert '<code id="device">127.0.0.1</code>' in page  # which device this browser is
    assert f'action="{BASE}/logout"' in page and f'action="{BASE}/extend"' in page
    assert not gateway.portal.state("127.0.0.1").captive
    assert gateway.portal.state("127.0.0.2").captive

    # Signed in, the gateway's root is the online page (openNDS: its status page).
    root = gateway(origin_form())
    assert root.status == 200 and '<code id="device">127.0.0.1</code>' in root.body.decode()
    # And the network now forwards this device's requests.
    assert gateway(absolute_form("news.test", path="/status/200")).status == 200

    out = gateway(origin_form("POST", "/logout", headers=[("origin", BASE)]))
    assert out.status == 200 and f'href="{BASE}/login"' in out.body.decode()
    assert gateway.portal.state("127.0.0.1").captive


def test_captive_api_at_the_gateway_address(gateway):
    r = gateway(origin_form(path="/api/captive", headers=[("accept", "application/captive+json")]))
    doc = json.loads(r.body)
    assert doc["captive"] is True
    assert doc["user-portal-url"] == f"{BASE}/login"
    assert doc["venue-info-url"] == f"{BASE}/venue"


def test_cross_site_post_to_the_gateway_address_is_refused(gateway):
    gateway.portal.sign_in("127.0.0.1", "guest", "letmein")
    r = gateway(origin_form("POST", "/logout", headers=[("origin", "http://evil.example"),
                                                        ("accept", "application/json")]))
    assert r.status == 403
    assert json.loads(r.body)["portal_origin"] == BASE
    assert not gateway.portal.state("127.0.0.1").captive


# -- absolute-form: a proxy request, answered as before -----------------------------------
def test_proxy_request_for_the_portal_host_keeps_the_portal_host(gateway):
    r = gateway(absolute_form("portal.labkit.test", path="/login"))
    page = r.body.decode()
    assert r.status == 200
    assert f'action="{PORTAL_LOGIN}"' in page
    assert 'id="device"' not in page


def test_proxy_request_for_another_host_gets_the_portal_hosts_511(gateway):
    r = gateway(absolute_form("news.test", path="/status/200"))
    assert r.status == 511
    assert login_link(r.body) == PORTAL_LOGIN


def test_proxy_request_to_the_gateways_own_address_is_a_visit_too(gateway):
    """As openNDS decides: by the host asked for, whichever way it was asked."""
    r = gateway(absolute_form(OWN))
    assert r.status == 511 and login_link(r.body) == f"{BASE}/login"


@pytest.mark.parametrize("host", ["127.0.0.1:6666", "127.0.0.1", "news.test:5555", "192.0.2.1:5555"])
def test_other_hosts_and_ports_are_behind_the_gateway(gateway, host):
    # 127.0.0.1:6666 could be the origin's own loopback port: asked through the proxy, it is forwarded.
    for r in (gateway(origin_form(host=host)), gateway(absolute_form(host))):
        assert r.status == 511 and login_link(r.body) == PORTAL_LOGIN


def test_without_an_address_nothing_is_a_direct_visit():
    gw = Gateway(Origin(clock=VirtualClock()), clock=VirtualClock())
    r = gw(origin_form())
    assert r.status == 511 and login_link(r.body) == PORTAL_LOGIN


def test_connect_to_the_gateway_address_is_no_visit(gateway):
    r = gateway(Request("CONNECT", OWN, "", [("host", OWN)], b"", ("127.0.0.1", 50000), "https", OWN))
    # Refused as any captive tunnel is: no page of the gateway's own is served inside it.
    assert r.status == 511 and login_link(r.body) == PORTAL_LOGIN


# -- behind a path-prefixing reverse proxy (jupyter-server-proxy under JupyterHub) --------
def hub(method="GET", path="/", *, headers=(), body=b"", query=""):
    return origin_form(method, path, host="hub.example.org", query=query, body=body,
                       headers=[("x-forwarded-prefix", HUB_PREFIX), *headers])


def test_under_a_prefix_every_link_stays_under_it(gateway):
    r = gateway(hub())
    assert r.status == 511 and login_link(r.body) == f"{HUB_PREFIX}/login"
    r = gateway(hub(path="/page"))
    assert login_link(r.body) == f"{HUB_PREFIX}/login?next=" + quote(f"{HUB_PREFIX}/page", safe="")

    form = gateway(hub(path="/login", query="next=" + quote(f"{HUB_PREFIX}/page", safe="")))
    page = form.body.decode()
    assert f'action="{HUB_PREFIX}/login"' in page
    assert f'name="next" value="{HUB_PREFIX}/page"' in page  # a path on the same host is kept

    body = GOOD + b"&next=" + quote(f"{HUB_PREFIX}/page", safe="").encode()
    signed = gateway(hub("POST", "/login", headers=[FORM, ("origin", "http://hub.example.org")], body=body))
    page = signed.body.decode()
    assert signed.status == 200 and '<code id="device">127.0.0.1</code>' in page
    assert f'action="{HUB_PREFIX}/logout"' in page
    assert f'href="{HUB_PREFIX}/page"' in page


def test_under_a_prefix_behind_tls_the_forwarded_scheme_is_the_pages_origin(gateway):
    post = dict(headers=[FORM, ("origin", "https://hub.example.org")], body=GOOD)
    assert gateway(hub("POST", "/login", **post)).status == 403  # http://hub... is not https://hub...
    post["headers"].append(("x-forwarded-proto", "https,http"))
    assert gateway(hub("POST", "/login", **post)).status == 200


@pytest.mark.parametrize("prefix", ["//evil.example", "/a b", "user", "/x\\y"])
def test_an_unusable_prefix_is_ignored(gateway, prefix):
    r = gateway(origin_form(host="hub.example.org", headers=[("x-forwarded-prefix", prefix)]))
    assert r.status == 511 and login_link(r.body) == PORTAL_LOGIN


def test_a_prefix_on_a_proxy_request_changes_nothing(gateway):
    r = gateway(absolute_form("news.test", headers=[("x-forwarded-prefix", HUB_PREFIX)]))
    assert r.status == 511 and login_link(r.body) == PORTAL_LOGIN


@pytest.mark.parametrize("url,kept", [
    ("http://news.test/", True),
    ("/user/alice/proxy/5555/page?x=1", True),
    ("//evil.example/", False),
    ("/\\evil.example/", False),
    ("/\t/evil.example/", False),
    ("/ /evil.example/", False),
    ("javascript:alert(1)", False),
    ("page", False),
])
def test_next_keeps_web_urls_and_same_host_paths_only(url, kept):
    assert _safe_next(url) == (url if kept else "")


# -- on loopback: the bytes a browser and a proxy client really send ----------------------
@pytest.fixture
def sim():
    s = Simulator(clock=VirtualClock(), name="test-gateway-direct").serve()
    yield s
    s.stop()


def raw(sim, request_line: str, host: str) -> tuple[int, str]:
    port = int(sim.gateway_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(f"{request_line}\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.decode().partition("\r\n\r\n")
    return int(head.split(" ", 2)[1]), body


def test_on_loopback_origin_form_is_the_portal_and_absolute_form_is_proxied(sim):
    own = sim.gateway_url.removeprefix("http://")
    status, body = raw(sim, "GET / HTTP/1.1", own)
    assert status == 511 and f'href="{sim.gateway_url}/login"' in body
    status, body = raw(sim, "GET /login HTTP/1.1", own)
    assert status == 200 and f'action="{sim.portal_url}"' in body

    status, body = raw(sim, "GET http://portal.labkit.test/login HTTP/1.1", "portal.labkit.test")
    assert status == 200 and f'action="{PORTAL_LOGIN}"' in body
    status, body = raw(sim, "GET http://news.test/status/200 HTTP/1.1", "news.test")
    assert status == 511 and f'href="{PORTAL_LOGIN}"' in body


def test_simulator_knows_the_gateway_address_while_serving(sim):
    assert sim.gateway.address == sim.gateway_url.removeprefix("http://")
    assert sim.portal_url == sim.gateway_url + "/login"
    r = httpx.get(sim.portal_url)
    assert r.status_code == 200 and f'action="{sim.portal_url}"' in r.text
    sim.stop()
    assert sim.gateway.address is None


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_device_is_the_source_address(sim):
    """curl from 127.0.0.2 signs in 127.0.0.2 at the gateway's address; 127.0.0.1 stays captive."""
    out = subprocess.run(["curl", "-sS", "--interface", "127.0.0.2", "-d", "user=guest", "-d", "password=letmein",
                          sim.portal_url], capture_output=True, text=True, timeout=10)
    assert '<code id="device">127.0.0.2</code>' in out.stdout, out.stderr
    assert not sim.gateway.portal.state("127.0.0.2").captive
    assert sim.gateway.portal.state("127.0.0.1").captive


# -- the links a notebook prints ----------------------------------------------------------
def test_browser_url_on_a_laptop_is_the_loopback_url(sim, monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert sim.browser_url() == sim.gateway_url + "/"
    assert sim.browser_url("/login") == sim.portal_url
    assert sim.browser_url("/status/200", server="origin") == sim.origin_url + "/status/200"


@pytest.mark.parametrize("prefix", ["/user/alice/", "/user/alice", "user/alice/"])
def test_browser_url_under_a_hub_goes_through_jupyter_server_proxy(sim, monkeypatch, prefix):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", prefix)
    port = sim.gateway_url.rsplit(":", 1)[1]
    url = sim.browser_url("/login")
    assert url == f"/user/alice/proxy/{port}/login"
    assert url._repr_html_() == f'<a href="{url}" target="_blank" rel="noopener">{url}</a>'
    origin_port = sim.origin_url.rsplit(":", 1)[1]
    assert sim.browser_url("/", server="origin") == f"/user/alice/proxy/{origin_port}/"


def test_browser_url_under_a_hub_mounted_at_the_root(sim, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/")
    assert sim.browser_url("/").startswith("/proxy/")


def test_browser_url_refuses_what_it_cannot_place(sim):
    with pytest.raises(ValueError, match="path"):
        sim.browser_url("login")
    with pytest.raises(ValueError, match="server"):
        sim.browser_url("/", server="portal")


def test_browser_url_needs_the_servers():
    with pytest.raises(RuntimeError, match="serve"):
        Simulator(name="test-gateway-direct-idle").browser_url("/")


def test_a_prefix_sent_straight_to_the_gateway_port_is_ignored(gateway):
    """A page whose host name was rebound to 127.0.0.1 can set any header on its own origin,
    but its Host names the gateway's port, which no reverse proxy in front would pass on."""
    gateway.portal.sign_in("127.0.0.1", "guest", "letmein")
    r = gateway(origin_form("POST", "/logout", host="evil.example:5555",
                            headers=[("x-forwarded-prefix", "/x"), ("origin", "http://evil.example:5555")]))
    assert r.header("server") == "labkit-origin"  # a request for a host behind the gateway
    assert not gateway.portal.state("127.0.0.1").captive


def test_what_a_target_means_follows_the_gateways_address(gateway):
    # The gateway memoises what an absolute-form authority means per address:
    # moving the gateway must move the direct visits with it.
    assert login_link(gateway(absolute_form(OWN)).body) == f"{BASE}/login"  # remembered now
    gateway.address = "127.0.0.1:6666"
    assert login_link(gateway(absolute_form(OWN)).body) == PORTAL_LOGIN  # now a host behind it
    assert login_link(gateway(absolute_form("127.0.0.1:6666")).body) == "http://127.0.0.1:6666/login"
    gateway.address = None
    assert login_link(gateway(absolute_form("127.0.0.1:6666")).body) == PORTAL_LOGIN


def test_many_target_hosts_neither_grow_the_memo_nor_change_answers(gateway):
    for n in range(600):
        assert gateway(absolute_form(f"host{n}.test")).status == 511
    assert len(gateway._targets) <= 256
    assert login_link(gateway(absolute_form(OWN)).body) == f"{BASE}/login"


def test_a_mode_set_by_object_or_name_decides_admission(gateway):
    # The hot path asks the portal directly only for modes that admit by session.
    gateway.portal.sign_in("127.0.0.1", "guest", "letmein")
    assert gateway(absolute_form("news.test", path="/status/200")).status == 200
    gateway.mode = MODES["proxy-auth"]  # admits by credentials on every request, session or not
    assert gateway(absolute_form("news.test", path="/status/200")).status == 407
    gateway.mode = "rfc6585"
    assert gateway(absolute_form("news.test", path="/status/200")).status == 200
