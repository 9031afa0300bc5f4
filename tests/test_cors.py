"""CORS and the captive portal: the gateway's ``cors`` option, and a web app's fetch() in Chromium."""

import os

import httpx
import pytest

from labkit import Simulator, VirtualClock
from labkit.core import Disconnect, Request
from labkit.gateway import MODES, Gateway
from labkit.labs import CHROMIUM, CORS_MODES, CorsRow, run_cors

API = "http://api.test/status/200"
APP = "http://app.test"
LOGIN = "http://portal.labkit.test/login"
PREFLIGHT = {"origin": APP, "access-control-request-method": "POST",
             "access-control-request-headers": "content-type,x-request-id"}
CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-methods",
                "access-control-allow-headers", "access-control-max-age")


@pytest.fixture
def sim():
    return Simulator(clock=VirtualClock(), name="test-cors")


def device(sim, addr="127.0.0.2"):
    return sim.client(device=addr, gateway=True)


def cors_of(response):
    return {name: response.headers[name] for name in CORS_HEADERS if name in response.headers}


# -- the gateway's option ----------------------------------------------------------
def test_cors_is_off_by_default_and_validated(sim):
    assert sim.gateway.cors is False
    assert Gateway(upstream=sim.origin, cors=True).cors is True
    for bad in ("yes", 1, None):
        with pytest.raises(ValueError, match="cors must be True or False"):
            sim.gateway.cors = bad
    assert sim.gateway.cors is False
    sim.gateway.cors = True
    assert "cors=True" in repr(sim.gateway)


@pytest.mark.parametrize("mode", list(MODES))
def test_without_the_option_no_refusal_carries_cors_headers(sim, mode):
    sim.gateway.mode = mode
    client = device(sim)
    assert cors_of(client.get(API, headers={"origin": APP})) == {}
    assert cors_of(client.options(API, headers=PREFLIGHT)) == {}


# mode -> (status of a simple GET, its Access-Control-Allow-Origin, status of a preflight)
REFUSALS = {
    "rfc6585": (511, "*", 204),
    "redirect": (302, "*", 204),
    "redirect-307": (307, "*", 204),
    "spoof": (200, "*", 204),
    "cacheable": (511, "*", 204),
    # A proxy's 407 is the browser's to handle (it asks for credentials), never a script's.
    "proxy-auth": (407, None, 407),
}


def test_the_refusal_table_covers_every_mode():
    assert set(REFUSALS) == set(MODES)


@pytest.mark.parametrize("mode,expected", REFUSALS.items())
def test_with_the_option_each_mode_shares_its_refusal(sim, mode, expected):
    status, allow_origin, preflight_status = expected
    sim.gateway.mode, sim.gateway.cors = mode, True
    client = device(sim)
    r = client.get(API, headers={"origin": APP, "accept": "application/json"})
    assert (r.status_code, r.headers.get("access-control-allow-origin")) == (status, allow_origin)
    assert r.headers["via"] == "1.1 labkit-gateway"
    p = client.options(API, headers=PREFLIGHT)
    assert p.status_code == preflight_status
    if preflight_status == 204:
        assert cors_of(p) == {
            "access-control-allow-origin": "*",
            "access-control-allow-methods": "POST",
            "access-control-allow-headers": "content-type, x-request-id",
            "access-control-max-age": "0",
        }
        assert p.headers["cache-control"] == "no-store" and p.content == b""
    else:
        assert cors_of(p) == {}


def test_the_511_a_script_can_read_names_the_login_page(sim):
    sim.gateway.cors = True
    r = device(sim).post(API, json={"order": 1}, headers={"origin": APP, "accept": "application/json"})
    assert r.status_code == 511
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["login_url"] == LOGIN


@pytest.mark.parametrize("asked,allowed", [
    ("x-request-id", "x-request-id"),
    ("Content-Type, X-Request-Id", "content-type, x-request-id"),
    ("x-ok, bad header, also:bad", "x-ok"),  # only tokens are echoed (RFC 9110 section 5.6.2)
    ("", None),
])
def test_a_preflight_grant_echoes_only_header_names(sim, asked, allowed):
    sim.gateway.cors = True
    r = device(sim).options(API, headers={"origin": APP, "access-control-request-method": "PUT",
                                          "access-control-request-headers": asked})
    assert r.status_code == 204
    assert r.headers.get("access-control-allow-headers") == allowed
    assert r.headers["access-control-allow-methods"] == "PUT"


def test_a_preflight_grant_never_echoes_a_method_that_is_not_a_token(sim):
    sim.gateway.cors = True
    r = device(sim).options(API, headers={"origin": APP, "access-control-request-method": "GET POST"})
    assert r.status_code == 204 and "access-control-allow-methods" not in r.headers


@pytest.mark.parametrize("headers", [
    {"access-control-request-method": "POST"},  # no Origin: not a CORS request
    {"origin": APP},                             # no Access-Control-Request-Method: a plain OPTIONS
])
def test_an_options_that_is_not_a_preflight_meets_the_mode(sim, headers):
    sim.gateway.cors = True
    r = device(sim).options(API, headers=headers)
    assert r.status_code == 511 and r.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/login", "/api/captive", "/venue"])
def test_the_portals_own_pages_are_never_shared(sim, path):
    sim.gateway.cors = True
    client = device(sim)
    r = client.get(f"http://portal.labkit.test{path}", headers={"origin": APP})
    assert r.status_code == 200 and cors_of(r) == {}
    p = client.options(f"http://portal.labkit.test{path}", headers=PREFLIGHT)
    assert p.status_code != 204 and cors_of(p) == {}


def test_proxy_auth_shares_nothing_even_for_the_portal(sim):
    sim.gateway.mode, sim.gateway.cors = "proxy-auth", True
    r = device(sim).get("http://portal.labkit.test/login", headers={"origin": APP})
    assert r.status_code == 407 and cors_of(r) == {}


def test_https_still_fails_as_the_mode_says(sim):
    sim.gateway.cors = True
    connect = Request("CONNECT", "api.test:443", headers=[("host", "api.test:443"), ("origin", APP)],
                      client=("127.0.0.2", 1), scheme="https", authority="api.test:443")
    r = sim.gateway(connect)
    assert r.status == 511 and r.header("access-control-allow-origin") is None
    with pytest.raises(httpx.RemoteProtocolError):  # in-process: the connection is cut
        device(sim).get("https://api.test/status/200", headers={"origin": APP})
    sim.gateway.mode = "spoof"
    with pytest.raises(Disconnect):
        sim.gateway(connect)


def test_after_sign_in_the_origin_answers_for_itself(sim):
    """labkit's origin sends no CORS headers: once forwarded, the portal's grant is gone."""
    sim.gateway.cors = True
    sim.gateway.portal.sign_in("127.0.0.2", "guest", "letmein")
    client = device(sim)
    r = client.get(API, headers={"origin": APP})
    assert r.status_code == 200 and r.headers["server"] == "labkit-origin" and cors_of(r) == {}
    p = client.options(API, headers=PREFLIGHT)
    assert p.status_code == 200 and p.headers["server"] == "labkit-origin" and cors_of(p) == {}


# -- run_cors without a browser ------------------------------------------------------
def test_run_cors_without_chromium_says_missing_for_every_row(tmp_path):
    absent = str(tmp_path / "no-chromium")
    rows = run_cors(modes=["rfc6585", "spoof"], chromium=absent)
    # 2 modes x 2 settings x before/after x 4 calls
    assert len(rows) == 32
    assert {r.status for r in rows} == {"missing"}
    assert all(absent in r.error for r in rows)
    assert {r.client for r in rows} == {"chromium fetch", "chromium fetch (preflight)",
                                        "chromium fetch (same-origin probe)"}
    assert {(r.mode, r.portal_cors, r.signed_in, r.https) for r in rows} == {
        (m, c, s, h) for m in ("rfc6585", "spoof") for c in (False, True) for s in (False, True) for h in (False, True)}
    d = rows[0].as_dict()
    assert {"client", "mode", "https", "status", "error", "network_status", "portal_cors"} <= set(d)


@pytest.mark.parametrize("kwargs,message", [
    ({"modes": ["captive"]}, "unknown gateway mode 'captive'"),
    ({"portal_cors": ["on"]}, "cors must be True or False"),
    ({"fetch_timeout": 0}, "fetch_timeout must be"),
    ({"fetch_timeout": 60}, "fetch_timeout must be"),
])
def test_run_cors_rejects_bad_arguments_before_starting_anything(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_cors(**kwargs)


# -- the measurement in Chromium ------------------------------------------------------
browser = pytest.mark.browser
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                    reason=f"{CHROMIUM} is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def table():
    pytest.importorskip("playwright.sync_api")
    rows = run_cors()
    return {(r.mode, r.portal_cors, r.signed_in, r.client, r.https): r for r in rows}


def row(table, mode, *, cors=False, signed_in=False, preflight=False, probe=False, https=False) -> CorsRow:
    client = ("chromium fetch (preflight)" if preflight else
              "chromium fetch (same-origin probe)" if probe else "chromium fetch")
    return table[(mode, cors, signed_in, client, https)]


@browser
@needs_chromium
def test_every_mode_setting_and_call_has_a_row(table):
    assert len(table) == len(CORS_MODES) * 2 * 2 * 4
    assert all("fetch" in r.client and r.status != "missing" for r in table.values())


@browser
@needs_chromium
@pytest.mark.parametrize("mode", ["rfc6585", "cacheable"])
def test_a_511_without_cors_headers_is_a_type_error_to_the_script_but_511_on_the_wire(table, mode):
    r = row(table, mode)
    assert (r.status, r.error) == (None, "TypeError: Failed to fetch")
    assert r.network_status == 511
    assert r.devtools == "net::ERR_FAILED (MissingAllowOriginHeader)"


@browser
@needs_chromium
@pytest.mark.parametrize("mode", ["rfc6585", "cacheable"])
def test_with_portal_cors_the_script_reads_511_and_the_login_link(table, mode):
    for preflight in (False, True):
        r = row(table, mode, cors=True, preflight=preflight)
        assert (r.status, r.error, r.network_status) == (511, None, 511)
        assert r.content_type == "application/problem+json" and r.login_url == LOGIN
    assert row(table, mode, cors=True, preflight=True).preflight_status == 204


@browser
@needs_chromium
@pytest.mark.parametrize("mode,preflight_status,reason", [
    ("rfc6585", 511, "PreflightMissingAllowOriginHeader"),
    ("cacheable", 511, "PreflightMissingAllowOriginHeader"),
    ("redirect", 302, "PreflightDisallowedRedirect"),  # a preflight never follows a redirect
    ("spoof", 200, "PreflightMissingAllowOriginHeader"),
])
def test_a_refused_preflight_means_the_request_is_never_sent(table, mode, preflight_status, reason):
    r = row(table, mode, preflight=True)
    assert (r.status, r.error) == (None, "TypeError: Failed to fetch")
    assert r.preflight_status == preflight_status
    assert r.network_status is None and r.wire == ()
    assert r.devtools == f"net::ERR_FAILED ({reason})"


@browser
@needs_chromium
def test_a_shared_302_still_fails_at_the_login_page(table):
    r = row(table, "redirect", cors=True)
    assert r.status is None and r.error == "TypeError: Failed to fetch"
    assert r.wire == (302, 200)  # followed to the portal's page, which shares nothing
    assert r.devtools == "net::ERR_FAILED (MissingAllowOriginHeader)"


@browser
@needs_chromium
def test_a_shared_spoof_hands_the_script_a_200_of_html(table):
    for preflight in (False, True):
        r = row(table, "spoof", cors=True, preflight=preflight)
        assert (r.status, r.network_status) == (200, 200)
        assert r.content_type.startswith("text/html")


@browser
@needs_chromium
@pytest.mark.parametrize("mode,status", [("cacheable", 511), ("spoof", 200)])
def test_a_stored_refusal_outlives_the_sign_in_when_the_script_could_read_it(table, mode, status):
    after = row(table, mode, cors=True, signed_in=True)
    assert (after.status, after.from_cache, after.network_status) == (status, True, None)
    # Without the CORS header, the same call went to the network after signing in.
    plain = row(table, mode, signed_in=True)
    assert (plain.from_cache, plain.network_status) == (False, 200)


@browser
@needs_chromium
@pytest.mark.parametrize("cors", [False, True])
def test_after_sign_in_the_origins_own_missing_cors_header_fails_the_call(table, cors):
    r = row(table, "rfc6585", cors=cors, signed_in=True)
    assert (r.status, r.network_status) == (None, 200)
    assert r.devtools == "net::ERR_FAILED (MissingAllowOriginHeader)"
    p = row(table, "rfc6585", cors=cors, signed_in=True, preflight=True)
    assert (p.status, p.preflight_status, p.network_status) == (None, 200, None)


@browser
@needs_chromium
@pytest.mark.parametrize("mode,reasons", [
    ("rfc6585", {"net::ERR_TUNNEL_CONNECTION_FAILED"}),
    ("cacheable", {"net::ERR_TUNNEL_CONNECTION_FAILED"}),
    # The spoofing gateway cuts the connection: closed or reset, as the timing falls.
    ("spoof", {"net::ERR_CONNECTION_CLOSED", "net::ERR_CONNECTION_RESET"}),
])
def test_https_through_a_refused_connect_is_a_type_error_with_no_status(table, mode, reasons):
    for cors in (False, True):
        r = row(table, mode, cors=cors, https=True)
        assert (r.status, r.error, r.network_status) == (None, "TypeError: Failed to fetch", None)
        assert r.devtools in reasons


@browser
@needs_chromium
def test_a_proxy_407_leaves_the_script_waiting_until_it_gives_up(table):
    for cors in (False, True):
        for signed_in in (False, True):
            r = row(table, "proxy-auth", cors=cors, signed_in=signed_in)
            assert (r.status, r.error) == (None, "TimeoutError: signal timed out")
            assert r.network_status is None and r.devtools == "net::ERR_ABORTED"


@browser
@needs_chromium
@pytest.mark.parametrize("mode,status,response_type,wire", [
    ("rfc6585", 511, "basic", (511,)),
    ("cacheable", 511, "basic", (511,)),
    ("spoof", 200, "basic", (200,)),  # HTML where a 204 was due: not the app's server
    ("redirect", 0, "opaqueredirect", (302,)),  # redirect: "manual" keeps the page where it is
])
def test_a_same_origin_probe_reads_the_portal_without_anyones_cors_headers(table, mode, status, response_type, wire):
    for cors in (False, True):
        r = row(table, mode, cors=cors, probe=True)
        assert (r.status, r.response_type, r.wire) == (status, response_type, wire)
        after = row(table, mode, cors=cors, probe=True, signed_in=True)
        assert (after.status, after.response_type, after.network_status) == (204, "basic", 204)


@browser
@needs_chromium
def test_navigator_online_is_true_behind_the_portal(table):
    """The HTML Standard: "inherently unreliable"; here it never once said false."""
    assert {r.navigator_online for r in table.values()} == {True}
    assert any(r.status is None and not r.signed_in for r in table.values())


@pytest.mark.parametrize("fields,reads,saw", [
    (dict(status=None, error="TypeError: Failed to fetch", wire=(511,), network_status=511,
          devtools="net::ERR_FAILED (MissingAllowOriginHeader)"),
     "TypeError: Failed to fetch", "511, net::ERR_FAILED (MissingAllowOriginHeader)"),
    (dict(status=None, error="TypeError: Failed to fetch", preflight_status=302,
          devtools="net::ERR_FAILED (PreflightDisallowedRedirect)"),
     "TypeError: Failed to fetch", "OPTIONS 302, net::ERR_FAILED (PreflightDisallowedRedirect)"),
    (dict(status=511, preflight_status=204, wire=(511,), network_status=511, response_type="cors"),
     "511", "OPTIONS 204, 511"),
    (dict(status=0, wire=(302,), response_type="opaqueredirect", devtools="net::ERR_ABORTED"),
     "0 (opaqueredirect)", "302"),
    (dict(status=511, from_cache=True, response_type="cors"), "511", "from the browser's cache"),
    (dict(status="missing", error="no Chromium at /x"), "missing: no Chromium at /x", "nothing"),
])
def test_a_rows_two_summaries(fields, reads, saw):
    r = CorsRow("chromium fetch", "rfc6585", False, False, False, **fields)
    assert (r.script_reads, r.network_saw) == (reads, saw)
    assert r.as_dict()["script_reads"] == reads and r.as_dict()["network_saw"] == saw


def test_cors_table_puts_the_two_settings_side_by_side_in_the_order_measured():
    from labkit.labs import cors_table

    def r(mode, cors, status, **kw):
        return CorsRow("chromium fetch", mode, False, cors, False, status, **kw)

    rows = [
        r("spoof", False, None, error="TypeError: Failed to fetch", wire=(200,)),
        r("spoof", True, 200, wire=(200,)),
        r("rfc6585", False, None, error="TypeError: Failed to fetch", wire=(511,)),
        r("rfc6585", True, 511, wire=(511,)),
        CorsRow("chromium fetch", "rfc6585", False, True, True, 200),  # signed in: another table
    ]
    table = cors_table(rows)
    assert list(table.index) == [("spoof", "chromium fetch"), ("rfc6585", "chromium fetch")]
    assert table.loc[("rfc6585", "chromium fetch"), ("portal CORS off", "script reads")] == "TypeError: Failed to fetch"
    assert table.loc[("rfc6585", "chromium fetch"), ("portal CORS off", "DevTools saw")] == "511"
    assert table.loc[("rfc6585", "chromium fetch"), ("portal CORS on", "script reads")] == "511"
    assert list(cors_table(rows, signed_in=True).index) == [("rfc6585", "chromium fetch")]
    assert cors_table(rows, https=True).empty


def test_run_cors_takes_one_mode_or_one_setting_alone_and_nothing_at_all(tmp_path):
    absent = str(tmp_path / "no-chromium")
    rows = run_cors(modes="rfc6585", portal_cors=True, chromium=absent, https=False)
    assert {(r.mode, r.portal_cors, r.https) for r in rows} == {("rfc6585", True, False)}
    assert len(rows) == 2 * 3  # before/after x GET, preflight, probe
    assert run_cors(modes=[], chromium=absent) == []


def test_run_cors_reports_a_browser_that_does_not_start(tmp_path):
    pytest.importorskip("playwright.sync_api")
    fake = tmp_path / "not-chromium"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    rows = run_cors(modes=["rfc6585"], portal_cors=[False], chromium=str(fake))
    assert rows and {r.status for r in rows} == {"missing"}
    assert all(r.error.startswith(f"Chromium at {fake} did not start") for r in rows)
