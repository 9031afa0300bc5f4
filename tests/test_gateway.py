"""The gateway in-process: every mode, devices, the portal state machine, RFC 8908, probes."""

import base64
import json
import time

import httpx
import pytest

from labkit import Simulator, VirtualClock
from labkit.core import Request, Response
from labkit.gateway import (
    ANDROID_PROBE_URL,
    CAPTIVE_JSON,
    DETECTORS,
    MODES,
    Gateway,
    InvalidCredentials,
    Portal,
    PortalMode,
    android_validation,
    android_verdict,
    apple_verdict,
    chromium_verdict,
    firefox_verdict,
    networkmanager_verdict,
    run_probes,
    submit_login,
)
from labkit.labs import survey
from labkit.origin._probes import FIREFOX_CANONICAL
from labkit.transport._asgi import _proxy_target

URL = "http://news.test/status/200"
LOGIN = "http://portal.labkit.test/login"
API = "http://portal.labkit.test/api/captive"


@pytest.fixture
def sim():
    return Simulator(clock=VirtualClock(), name="test-gateway")


def device(sim, addr="127.0.0.2", **kw):
    return sim.client(device=addr, gateway=True, **kw)


def sign_in(sim, addr="127.0.0.2"):
    sim.gateway.portal.sign_in(addr, "guest", "letmein")


# -- RFC 6585 section 6: the 511 itself -----------------------------------------
def test_511_html_links_to_login_and_is_never_stored(sim):
    r = device(sim).get(URL)
    assert r.status_code == 511
    assert r.reason_phrase == "Network Authentication Required"
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-store"
    assert f'href="{LOGIN}"' in r.text
    assert f'http-equiv="refresh" content="0; url={LOGIN}"' in r.text
    # A link, not the login interface, and no challenge (RFC 6585 section 6).
    assert "<form" not in r.text and 'type="password"' not in r.text
    assert "www-authenticate" not in r.headers
    # Attributable to the network hop, not the origin.
    assert r.headers["via"] == "1.1 labkit-gateway"
    assert r.headers["server"] == "labkit-gateway"
    assert "x-request-id" not in r.headers
    assert "date" in r.headers


@pytest.mark.parametrize("accept", ["application/json", "application/problem+json", "application/json, */*;q=0.1"])
def test_511_for_json_clients_is_problem_json_with_the_same_link(sim, accept):
    r = device(sim).get(URL, headers={"accept": accept})
    assert r.status_code == 511
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["cache-control"] == "no-store"
    doc = r.json()
    assert doc["status"] == 511 and doc["title"] == "Network Authentication Required"
    assert doc["login_url"] == LOGIN and doc["captive_api"] == API
    assert r.headers["via"] == "1.1 labkit-gateway"


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"])
@pytest.mark.parametrize("host", ["news.test", "example.com", "127.0.0.1:8080", "origin.test"])
def test_every_host_and_method_is_captive_until_sign_in(sim, method, host):
    r = device(sim).request(method, f"http://{host}/status/200")
    assert r.status_code == 511
    if method == "HEAD":
        assert r.content == b"" and int(r.headers["content-length"]) > 0


def test_sign_in_admits_the_device_and_forwards_with_origin_attribution(sim):
    client = device(sim)
    assert client.get(URL).status_code == 511
    sign_in(sim)
    r = client.get(URL, headers={"x-request-id": "abc123"})
    assert r.status_code == 200
    assert r.headers["server"] == "labkit-origin"
    assert r.headers["x-request-id"] == "abc123"
    assert r.headers["via"] == "1.1 labkit-gateway"
    # The gateway added Via to the forwarded request too (RFC 9110 section 7.6.3).
    assert r.json()["request"]["headers"]["via"] == "1.1 labkit-gateway"


def test_hop_by_hop_fields_are_not_forwarded(sim):
    sign_in(sim)
    r = device(sim).get(URL, headers={
        "connection": "keep-alive, x-secret-hop", "x-secret-hop": "1",
        "proxy-connection": "keep-alive", "x-end-to-end": "kept"})
    seen = r.json()["request"]["headers"]
    assert seen["x-end-to-end"] == "kept"
    for name in ("connection", "x-secret-hop", "proxy-connection"):
        assert name not in seen, name


# -- devices (RFC 8952 section 2.4) -------------------------------------------------
def test_devices_are_told_apart_by_address(sim):
    a, b = device(sim, "127.0.0.2"), device(sim, "127.0.0.3")
    submit = submit_login(a, "guest", "letmein")
    assert submit.online
    assert a.get(URL).status_code == 200
    assert b.get(URL).status_code == 511, "signing in one device must never admit another"
    states = {s.device: s.captive for s in sim.gateway.portal.devices()}
    assert states == {"127.0.0.2": False, "127.0.0.3": True}  # .3 met the 511, so it is listed, captive
    sim.gateway.portal.sign_in("127.0.0.3", "guest", "letmein")
    assert b.get(URL).status_code == 200


# -- the portal: form, wrong credentials, sign-out, expiry ----------------------------
def test_login_page_is_a_form_and_always_reachable(sim):
    r = device(sim).get(LOGIN + "?next=http%3A%2F%2Fnews.test%2F")
    assert r.status_code == 200
    assert '<form method="post"' in r.text and 'type="password"' in r.text
    assert 'name="next" value="http://news.test/"' in r.text
    assert r.headers["server"] == "labkit-gateway" and r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("user,password,status", [
    ("guest", "wrong", 403),
    ("nobody", "letmein", 403),
    ("guest", "", 400),
    ("", "letmein", 400),
])
def test_bad_credentials_get_a_clear_error_and_stay_captive(sim, user, password, status):
    client = device(sim)
    r = client.post(LOGIN, data={"user": user, "password": password})
    assert r.status_code == status
    assert 'class="error"' in r.text and '<form method="post"' in r.text
    assert "www-authenticate" not in r.headers
    assert client.get(URL).status_code == 511


def test_wrong_password_via_code_raises_and_is_counted(sim):
    with pytest.raises(InvalidCredentials, match="stays captive"):
        sim.gateway.portal.sign_in("127.0.0.2", "guest", "nope")
    assert sim.gateway.portal.state("127.0.0.2").failed_attempts == 1


def test_form_must_be_urlencoded(sim):
    r = device(sim).post(LOGIN, json={"user": "guest", "password": "letmein"})
    assert r.status_code == 415
    assert r.headers["content-type"] == "application/problem+json"


def test_escapes_what_the_client_sent(sim):
    r = device(sim).post(LOGIN, data={"user": "<script>x</script>", "password": "p",
                                     "next": "javascript:alert(1)"})
    assert "<script>x" not in r.text and "&lt;script&gt;" in r.text
    assert "javascript:" not in r.text


def test_sign_out_makes_the_device_captive_again(sim):
    client = device(sim)
    sign_in(sim)
    assert client.get(URL).status_code == 200
    assert client.get("http://portal.labkit.test/logout").status_code == 405  # not a GET
    r = client.post("http://portal.labkit.test/logout")
    assert r.status_code == 200 and "captive again" in r.text
    assert client.get(URL).status_code == 511


def test_session_expires_on_the_injected_clock(sim):
    clock = sim.clock
    sim.gateway.portal.session_seconds = 600
    client = device(sim)
    sign_in(sim)
    clock.advance(599)
    assert client.get(URL).status_code == 200
    assert sim.gateway.portal.state("127.0.0.2").seconds_remaining == 1
    clock.advance(1)
    assert client.get(URL).status_code == 511
    assert sim.gateway.portal.state("127.0.0.2").captive


def test_extend_restarts_the_session(sim):
    sim.gateway.portal.session_seconds = 100
    client = device(sim)
    assert client.post("http://portal.labkit.test/extend").status_code == 409
    sign_in(sim)
    sim.clock.advance(90)
    assert client.post("http://portal.labkit.test/extend").status_code == 200
    sim.clock.advance(90)
    assert client.get(URL).status_code == 200


def test_portal_rejects_bad_settings():
    with pytest.raises(ValueError, match="session_seconds"):
        Portal(session_seconds=0)
    with pytest.raises(ValueError, match="unknown gateway mode 'open'"):
        Gateway(lambda r: Response(200), mode="open")


# -- RFC 8908: the Captive Portal API ----------------------------------------------
def test_captive_api_follows_the_device(sim):
    client = device(sim)
    sim.gateway.portal.session_seconds = 300
    get = lambda: client.get(API, headers={"accept": CAPTIVE_JSON})
    r = get()
    assert r.status_code == 200
    assert r.headers["content-type"] == CAPTIVE_JSON
    assert r.headers["cache-control"] == "no-store"  # RFC 8908 section 5: private or stricter
    assert r.json() == {"captive": True, "user-portal-url": LOGIN,
                        "venue-info-url": "http://portal.labkit.test/venue"}
    sign_in(sim)
    sim.clock.advance(100)
    doc = get().json()
    assert doc["captive"] is False and doc["seconds-remaining"] == 200
    assert doc["can-extend-session"] is True
    sim.clock.advance(200)
    assert get().json()["captive"] is True
    assert client.post(API).status_code == 405


# -- connectivity probes (each table row cites the detector's source) ----------------------
@pytest.mark.parametrize("status,body,location,verdict", [
    (204, b"", None, "online"),
    (200, b"", None, "no internet"),  # NetworkMonitor.sendHttpProbe: "Empty 200 ... failed"
    (200, b"1234", None, "no internet"),  # "Content-length <= 4 interpreted as failed"
    (200, b"12345", None, "portal"),
    (200, b"<html>login</html>", None, "portal"),
    (302, b"", "http://portal/", "portal"),
    (307, b"", "http://portal/", "portal"),
    (511, b"<html>", None, "no internet"),
    (407, b"", None, "no internet"),
    (0, b"", None, "no internet"),
])
def test_android_verdicts(status, body, location, verdict):
    assert android_verdict(status, body, location)[0] == verdict


@pytest.mark.parametrize("http,https,verdict", [
    ("online", "online", "online"),
    ("online", "no internet", "partial connectivity"),
    ("portal", "no internet", "portal"),
    ("portal", "online", "portal"),  # an HTTP portal wins
    ("no internet", "online", "online"),  # a conclusive HTTPS 204
    ("no internet", "no internet", "no internet"),
])
def test_android_validation_combines_http_and_https(http, https, verdict):
    assert android_validation(http, https)[0] == verdict


@pytest.mark.parametrize("status,body,verdict", [
    (200, b"<HTML><BODY>Success</BODY></HTML>", "online"),
    (200, b"<html>login</html>", "portal"),
    (511, b"", "portal"),
    (0, b"", "no internet"),
])
def test_apple_verdicts(status, body, verdict):
    assert apple_verdict(status, body)[0] == verdict


@pytest.mark.parametrize("status,body,verdict", [
    (204, b"", "online"),
    (200, b"", "online"),  # Chromium still takes an empty 200 for a 204
    (200, b"x", "online"),
    (200, b"xy", "portal"),
    (302, b"", "portal"),
    (511, b"<html>", "portal"),  # explicit in GetCaptivePortalResultFromResponse
    (503, b"", "no internet"),
    (407, b"", "no internet"),
    (0, b"", "no internet"),
])
def test_chromium_verdicts(status, body, verdict):
    assert chromium_verdict(status, body)[0] == verdict


@pytest.mark.parametrize("status,body,proxied,verdict", [
    (200, FIREFOX_CANONICAL, False, "online"),
    (200, FIREFOX_CANONICAL + b"\n", False, "portal"),  # an exact comparison
    (200, b"<html>login</html>", False, "portal"),
    (204, b"", False, "portal"),
    (302, b"", False, "portal"),
    (511, b"<html>", False, "portal"),  # "Got a RFC 6585 ... error page"
    (503, b"", False, "no internet"),
    (511, b"<html>", True, "online"),  # usedProxy(): no portal is ever reported
    (0, b"", True, "no internet"),
])
def test_firefox_verdicts(status, body, proxied, verdict):
    assert firefox_verdict(status, body, proxied=proxied)[0] == verdict


@pytest.mark.parametrize("status,body,verdict", [
    (200, b"NetworkManager is online\n", "online"),
    (511, b"NetworkManager is online", "online"),  # only the content is compared
    (200, b"", "portal"),
    (204, b"", "portal"),
    (511, b"<html>", "portal"),
    (302, b"", "portal"),
    (0, b"", "no internet"),
])
def test_networkmanager_verdicts(status, body, verdict):
    assert networkmanager_verdict(status, body)[0] == verdict


def test_probes_through_the_gateway_before_and_after(sim):
    client = device(sim)
    before = {p.probe: p for p in run_probes(client)}
    assert list(before) == list(DETECTORS)
    assert before["android"].status == 511 and before["android"].verdict == "no internet"
    # The payoff of a correct 511: every other detector recognises a captive portal.
    for name in ("apple", "chromium", "firefox", "networkmanager", "windows"):
        assert before[name].status == 511 and before[name].verdict == "portal", name
    sim.gateway.mode = "redirect"
    assert run_probes(client)[0].portal_url.startswith(LOGIN)
    sim.gateway.mode = "spoof"  # no Location: Android opens the probe URL itself
    assert run_probes(client, detectors=["android"])[0].portal_url == ANDROID_PROBE_URL
    sign_in(sim)
    after = {p.probe: p for p in run_probes(client)}
    assert after["android"].status == 204 and after["android"].verdict == "online"
    assert after["apple"].status == 200 and after["apple"].verdict == "online"
    assert {p.verdict for p in after.values()} == {"online"}
    with pytest.raises(ValueError, match="unknown detector 'blackberry'"):
        run_probes(client, detectors=["blackberry"])


def test_survey_names_every_detector(sim):
    rows = {row.client: row for row in survey(sim.gateway)}
    for label in DETECTORS.values():
        assert f"{label} probe" in rows


# -- modes ---------------------------------------------------------------------------
def test_redirect_mode_is_a_302_for_every_method_never_cached(sim):
    # coova-chilli (redir.c), pfSense (captiveportal/index.php), OPNsense (lighttpd-zone.conf).
    sim.gateway.mode = "redirect"
    client = device(sim)
    r = client.get(URL)
    assert r.status_code == 302
    assert r.headers["location"] == LOGIN + "?next=http%3A%2F%2Fnews.test%2Fstatus%2F200"
    assert r.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    for method in ("POST", "PUT", "DELETE", "HEAD"):
        assert client.request(method, URL).status_code == 302, method  # no portal sends 303
    followed = client.get(URL, follow_redirects=True)
    assert followed.status_code == 200 and str(followed.url).startswith(LOGIN)
    assert 'name="next" value="http://news.test/status/200"' in followed.text


def test_redirect_307_mode_redirects_get_and_answers_other_methods_511(sim):
    # openNDS (http_microhttpd.c): send_redirect_temp for GET, send_error(511) otherwise.
    sim.gateway.mode = "redirect-307"
    client = device(sim)
    r = client.get(URL)
    assert r.status_code == 307 and r.reason_phrase == "Temporary Redirect"
    assert r.headers["location"] == LOGIN + "?next=http%3A%2F%2Fnews.test%2Fstatus%2F200"
    assert "cache-control" not in r.headers and r.headers["via"] == "1.1 labkit-gateway"
    for method in ("POST", "HEAD", "PUT"):
        other = client.request(method, URL)
        assert other.status_code == 511 and other.headers["cache-control"] == "no-store", method
    followed = client.get(URL, follow_redirects=True)
    assert followed.status_code == 200 and str(followed.url).startswith(LOGIN)
    probe = run_probes(client, detectors=["android"])[0]
    assert (probe.status, probe.verdict) == (307, "portal") and probe.portal_url.startswith(LOGIN)


def test_spoof_mode_answers_200_with_the_login_form_as_the_content(sim):
    sim.gateway.mode = "spoof"
    r = device(sim).get(URL, headers={"accept": "application/json"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert 'type="password"' in r.text
    assert "cache-control" not in r.headers
    with pytest.raises(json.JSONDecodeError):
        r.json()


def test_cacheable_mode_is_a_511_with_max_age(sim):
    sim.gateway.mode = "cacheable"
    r = device(sim).get(URL)
    assert r.status_code == 511 and r.headers["cache-control"] == "max-age=300"


def test_modes_switch_at_run_time_and_only_affect_captive_devices(sim):
    client = device(sim)
    expected = {"rfc6585": 511, "redirect": 302, "redirect-307": 307, "spoof": 200, "cacheable": 511,
                "proxy-auth": 407}
    assert set(expected) == set(MODES)
    for mode, status in expected.items():
        sim.gateway.mode = mode
        assert client.get(URL).status_code == status, mode
    sign_in(sim)
    for mode in ("rfc6585", "redirect", "redirect-307", "spoof", "cacheable"):
        sim.gateway.mode = mode
        r = client.get(URL)
        assert r.status_code == 200 and r.headers["server"] == "labkit-origin", mode


def test_modes_are_a_table_of_named_behaviours():
    assert list(MODES) == ["rfc6585", "redirect", "redirect-307", "spoof", "cacheable", "proxy-auth"]
    for name, mode in MODES.items():
        assert isinstance(mode, PortalMode) and mode.name == name
        assert mode.description and str(mode) == mode.description
    with pytest.raises(TypeError):
        MODES["teapot"] = MODES["rfc6585"]  # the table is read-only


@pytest.mark.parametrize("mode,names", [
    ("rfc6585", ["openNDS"]),
    ("redirect", ["coova-chilli", "pfSense", "OPNsense"]),
    ("redirect-307", ["openNDS", "nodogsplash"]),
    ("spoof", ["a teaching case", "no portal studied"]),
    ("cacheable", ["a teaching case", "no portal studied"]),
    ("proxy-auth", ["not a portal"]),
])
def test_mode_descriptions_name_the_real_portal_they_stand_for(mode, names):
    for name in names:
        assert name in MODES[mode].description, (mode, name)


def test_modes_are_chosen_by_name_and_unknown_names_list_the_choices(sim):
    assert Gateway(sim.origin, mode="redirect").mode == "redirect"
    sim.gateway.mode = "spoof"
    assert sim.gateway.mode == "spoof" and sim.gateway.portal_mode is MODES["spoof"]
    with pytest.raises(ValueError, match="choose one of: rfc6585, redirect, redirect-307, spoof, cacheable, proxy-auth"):
        sim.gateway.mode = "teapot"
    with pytest.raises(ValueError, match="unknown gateway mode"):
        Gateway(sim.origin, mode="teapot")
    assert sim.gateway.mode == "spoof"


def test_a_new_mode_is_a_new_row(sim):
    class Teapot(PortalMode):
        def answer(self, gateway, request):
            return Response(418, [("content-type", "text/plain")], b"I'm a teapot\n")

    sim.gateway.mode = Teapot("teapot", "418 for every captive device")
    client = device(sim)
    r = client.get(URL)
    assert r.status_code == 418 and r.headers["via"] == "1.1 labkit-gateway"
    assert client.get(LOGIN).status_code == 200  # the walled garden still holds
    sign_in(sim)
    assert client.get(URL).status_code == 200


# -- proxy-auth: 407 (RFC 9110 sections 11.7.1, 15.5.8) ----------------------------------
def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("credentials,status", [
    (None, 407),
    (basic("guest", "wrong"), 407),
    ("Basic !!!notbase64", 407),
    ("Bearer abc", 407),
    (basic("guest", "letmein"), 200),
])
def test_proxy_auth_mode(sim, credentials, status):
    sim.gateway.mode = "proxy-auth"
    headers = {"proxy-authorization": credentials} if credentials else {}
    r = device(sim).get(URL, headers=headers)
    assert r.status_code == status
    assert r.headers["via"] == "1.1 labkit-gateway"
    if status == 407:
        assert r.headers["proxy-authenticate"] == 'Basic realm="labkit-gateway", charset="UTF-8"'
        assert "www-authenticate" not in r.headers
        assert r.headers["server"] == "labkit-gateway"
    else:
        # Consumed by the proxy: never forwarded to the origin (RFC 9110 section 11.7.2).
        assert "proxy-authorization" not in r.json()["request"]["headers"]


def test_proxy_auth_is_per_request_not_per_device(sim):
    sim.gateway.mode = "proxy-auth"
    sign_in(sim)  # a portal session does not help with an explicit proxy
    assert device(sim).get(URL).status_code == 407


# -- HTTPS ---------------------------------------------------------------------------
def test_connect_before_and_after_sign_in(sim):
    gw = sim.gateway
    req = lambda: Request("CONNECT", "news.test:443", headers=[("host", "news.test:443")],
                          client=("127.0.0.2", 1), scheme="https", authority="news.test:443")
    r = gw(req())
    assert r.status == 511 and r.header("via") == "1.1 labkit-gateway"
    gw.mode = "redirect"
    assert gw(req()).status == 302
    gw.mode = "spoof"
    from labkit.core import Disconnect
    with pytest.raises(Disconnect):
        gw(req())
    gw.mode = "rfc6585"
    sign_in(sim)
    r = gw(req())
    assert r.status == 502 and b"no internet behind the gateway" in r.body


def test_in_process_https_while_captive_shows_no_page(sim):
    with pytest.raises(httpx.RemoteProtocolError):
        device(sim).get("https://news.test/")
    sign_in(sim)
    assert device(sim).get("https://news.test/status/200").status_code == 200


@pytest.mark.parametrize("mode", ["rfc6585", "redirect", "redirect-307", "spoof", "cacheable"])
def test_https_drop_times_out_in_process_at_once(sim, mode):
    sim.gateway.mode = mode
    sim.gateway.https = "drop"
    client = device(sim)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.get("https://news.test/")
    assert time.monotonic() - started < 0.05  # no real waiting
    assert client.get(URL).headers["server"] == "labkit-gateway"  # plain HTTP still meets the portal
    # The CONNECT an explicit proxy would receive is held unanswered too.
    connect = Request("CONNECT", "news.test:443", headers=[("host", "news.test:443")],
                      client=("127.0.0.2", 1), scheme="https", authority="news.test:443")
    from labkit.core import Stall
    with pytest.raises(Stall) as held:
        sim.gateway(connect)
    assert held.value.seconds == sim.gateway.drop_seconds == 5.0
    sign_in(sim)
    assert client.get("https://news.test/status/200").status_code == 200


def test_https_drop_leaves_proxy_auth_alone_and_rejects_unknown_behaviours(sim):
    sim.gateway.mode = "proxy-auth"
    sim.gateway.https = "drop"
    connect = Request("CONNECT", "news.test:443", client=("127.0.0.2", 1), scheme="https",
                      authority="news.test:443")
    assert sim.gateway(connect).status == 407  # an explicit proxy asks for credentials
    with pytest.raises(ValueError, match="choose one of: refuse, drop"):
        sim.gateway.https = "hijack"
    with pytest.raises(ValueError, match="unknown https behaviour"):
        Gateway(sim.origin, https="open")
    assert sim.gateway.https == "drop" and "https='drop'" in repr(sim.gateway)


def test_https_drop_fails_android_validation_the_same_way(sim):
    sim.gateway.https = "drop"
    assert run_probes(device(sim), detectors=["android"])[0].verdict == "no internet"


@pytest.mark.parametrize("method,target,expected", [
    ("GET", "http://news.test/a/b", ("http", "news.test", "/a/b")),
    ("GET", "http://news.test", ("http", "news.test", "/")),
    ("GET", "HTTP://News.test:8080/x", ("http", "News.test:8080", "/x")),
    ("CONNECT", "news.test:443", ("https", "news.test:443", "news.test:443")),
    ("GET", "*", ("http", None, "*")),
])
def test_proxy_request_targets(method, target, expected):
    assert _proxy_target(method, target, "http") == expected


# -- the survey behind the mode widget ----------------------------------------------------
def test_survey_rows_per_mode():
    sim = Simulator(clock=VirtualClock(start=time.time()), name="test-survey")
    seen = {}
    for mode in MODES:
        sim.gateway.mode = mode
        seen[mode] = {row.client: row for row in survey(sim.gateway)}
    assert seen["rfc6585"]["browser"].status == 511
    assert "problem+json" in seen["rfc6585"]["API client"].sees
    assert seen["rfc6585"]["shared cache"].status == 200  # the 511 was not stored
    assert seen["cacheable"]["shared cache"].status == 511  # served stale captivity from cache
    assert "from cache" in seen["cacheable"]["shared cache"].sees
    assert "portal" in seen["redirect"]["browser"].sees
    assert "HTML, not JSON" in seen["spoof"]["API client"].sees
    assert seen["proxy-auth"]["API client"].status == 407
    assert seen["rfc6585"]["Android probe"].sees.startswith("no internet")
    assert seen["redirect"]["Android probe"].sees.startswith("portal")
    # The survey's own device is left captive; nobody else was touched.
    assert sim.gateway.portal.devices() == [] or all(d.captive for d in sim.gateway.portal.devices())


# -- async clients and threads ------------------------------------------------------------
@pytest.mark.anyio
async def test_async_client_through_the_gateway(sim):
    async with sim.async_client(device="127.0.0.9", gateway=True) as client:
        assert (await client.get(URL)).status_code == 511
        r = await client.post(LOGIN, data={"user": "guest", "password": "letmein"})
        assert r.status_code == 200
        assert (await client.get(URL)).status_code == 200


def test_devices_on_many_threads_do_not_interfere(sim):
    import threading

    errors = []

    def device_life(n):
        addr = f"127.0.1.{n}"
        try:
            with device(sim, addr) as client:
                for _ in range(20):
                    assert client.get(URL).status_code == 511
                    sim.gateway.portal.sign_in(addr, "guest", "letmein")
                    assert client.get(URL).status_code == 200
                    assert sim.gateway.portal.sign_out(addr)
        except Exception as exc:  # collected: an assert in a thread would be lost
            errors.append((addr, exc))

    threads = [threading.Thread(target=device_life, args=(n,)) for n in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_the_device_list_shows_a_device_that_only_met_the_511():
    import labkit

    sim = labkit.Simulator(clock=labkit.VirtualClock(), name="device-list")
    assert sim.client(device="127.0.0.3", gateway=True).get("http://news.test/").status_code == 511
    states = {d.device: d for d in sim.gateway.portal.devices()}
    assert states["127.0.0.3"].captive and states["127.0.0.3"].failed_attempts == 0
