"""Every connectivity probe, table-driven: the probe hosts' exact answers, and each detector's reading.

The expected texts below are written out byte for byte from their sources (not
imported from labkit), so a change to what the lab serves cannot pass unseen:

- Windows: Microsoft Learn KB 4494446, "NCSI active probes and the network status alert";
- Firefox: modules/libpref/init/all.js (captivedetect.canonicalContent), b2g/app/b2g.js ("success\\n");
- NetworkManager: src/core/nm-config.h (NM_CONFIG_DEFAULT_CONNECTIVITY_RESPONSE) and
  nm-connectivity.c (HEADER_STATUS_ONLINE);
- Android and Chromium: generate_204 answers 204 with no content.
"""

import httpx
import pytest

from labkit import Simulator, VirtualClock
from labkit.gateway import (
    DETECTOR_RULES,
    DETECTORS,
    WINDOWS_LEGACY_PROBE_URL,
    WINDOWS_PROBE_URL,
    android_verdict,
    apple_verdict,
    chromium_verdict,
    firefox_verdict,
    networkmanager_verdict,
    run_probes,
    windows_verdict,
)
from labkit.labs import probe_table

FIREFOX_CANONICAL = b'<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>'
APPLE_PAGE = b"<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"

# path on the probe host -> (status, media type, exact content)
ONLINE_ANSWERS = {
    "/generate_204": (204, None, b""),
    "/hotspot-detect.html": (200, "text/html", APPLE_PAGE),
    "/connecttest.txt": (200, "text/plain", b"Microsoft Connect Test"),
    "/ncsi.txt": (200, "text/plain", b"Microsoft NCSI"),
    "/canonical.html": (200, "text/html", FIREFOX_CANONICAL),
    "/success.txt": (200, "text/plain", b"success\n"),
    "/check_network_status.txt": (200, "text/plain", b"NetworkManager is online\n"),
}

# Each detector's exact URL: the constant in its source (Chromium: CaptivePortalDetector::kDefaultURL).
URLS = {
    "android": "http://connectivitycheck.gstatic.com/generate_204",
    "apple": "http://captive.apple.com/hotspot-detect.html",
    "chromium": "http://www.gstatic.com/generate_204",
    "firefox": "http://detectportal.firefox.com/canonical.html",
    "networkmanager": "http://nmcheck.gnome.org/check_network_status.txt",
    "windows": "http://www.msftconnecttest.com/connecttest.txt",
}

LOGIN = "http://portal.labkit.test/login"
PORTAL_511 = b"<!DOCTYPE html><title>Network Authentication Required</title><a href='/login'>sign in</a>"
LOGIN_PAGE = b"<html><form method=post action=/login><input name=password></form></html>"


def judge(name, status, body, location=None, headers=None):
    """One detector's verdict on one answer, as run_probes reads it (no proxy)."""
    if name == "android":
        return android_verdict(status, body, location)
    if name == "networkmanager":
        return networkmanager_verdict(status, body, headers=headers)
    return {"apple": apple_verdict, "chromium": chromium_verdict, "firefox": firefox_verdict,
            "windows": windows_verdict}[name](status, body)


# (answer, status, body, location) x detector -> (verdict, a phrase of its reason)
ANSWERS = {
    "511": (511, PORTAL_511, None),
    "302": (302, b"", LOGIN),
    "200-login": (200, LOGIN_PAGE, None),
    "204": (204, b"", None),
    "empty-200": (200, b"", None),
    "no answer": (0, b"", None),
}
EXPECTED = {
    "android": {
        "511": ("no internet", "511 is outside 200-399"),
        "302": ("portal", "opens its Location"),
        "200-login": ("portal", "the probe URL itself"),
        "204": ("online", "204: validated"),
        "empty-200": ("no internet", "200 with 0 bytes"),
        "no answer": ("no internet", "no HTTP answer"),
    },
    "apple": {
        "511": ("portal", "without the Success page"),
        "302": ("portal", "without the Success page"),
        "200-login": ("portal", "without the Success page"),
        "204": ("portal", "without the Success page"),
        "empty-200": ("portal", "without the Success page"),
        "no answer": ("no internet", "no HTTP answer"),
    },
    "chromium": {
        "511": ("portal", "RFC 6585"),
        "302": ("portal", "RESULT_BEHIND_CAPTIVE_PORTAL"),
        "200-login": ("portal", "RESULT_BEHIND_CAPTIVE_PORTAL"),
        "204": ("online", "RESULT_INTERNET_CONNECTED"),
        "empty-200": ("online", "0 or 1 byte"),
        "no answer": ("no internet", "RESULT_NO_RESPONSE"),
    },
    "firefox": {
        "511": ("portal", "RFC 6585"),
        "302": ("portal", "redirected"),
        "200-login": ("portal", "not the canonical page"),
        "204": ("portal", "redirected or rewritten"),
        "empty-200": ("portal", "not the canonical page"),
        "no answer": ("no internet", "no HTTP answer"),
    },
    "networkmanager": {
        "511": ("portal", "PORTAL"),
        "302": ("portal", "PORTAL"),
        "200-login": ("portal", "PORTAL"),
        "204": ("portal", "PORTAL"),  # a text is expected; a 204 has none
        "empty-200": ("portal", "PORTAL"),
        "no answer": ("no internet", "LIMITED"),
    },
    "windows": {
        "511": ("portal", 'without "Microsoft Connect Test"'),
        "302": ("portal", "its own redirect page"),
        "200-login": ("portal", 'without "Microsoft Connect Test"'),
        "204": ("portal", 'without "Microsoft Connect Test"'),
        "empty-200": ("portal", 'without "Microsoft Connect Test"'),
        "no answer": ("no internet", "network alert"),
    },
}


@pytest.fixture
def sim():
    return Simulator(clock=VirtualClock(), name="test-probes")


def test_every_detector_has_a_rule_and_a_table_row():
    assert list(DETECTOR_RULES) == list(DETECTORS) == list(EXPECTED) == list(URLS)
    for name, rule in DETECTOR_RULES.items():
        assert rule.url == URLS[name], name
        assert rule.source and rule.expects, name
    assert WINDOWS_PROBE_URL == URLS["windows"]
    assert WINDOWS_LEGACY_PROBE_URL == "http://www.msftncsi.com/ncsi.txt"


@pytest.mark.parametrize("name", list(EXPECTED))
@pytest.mark.parametrize("answer", list(ANSWERS))
def test_each_detector_reads_each_answer(name, answer):
    status, body, location = ANSWERS[answer]
    verdict, reason = judge(name, status, body, location)
    assert (verdict, EXPECTED[name][answer][1] in reason) == (EXPECTED[name][answer][0], True), reason


@pytest.mark.parametrize("name", list(DETECTOR_RULES))
def test_each_detector_takes_its_own_online_answer_for_online(name, sim):
    rule = DETECTOR_RULES[name]
    r = sim.client().get(rule.url)  # straight to the probe host, no gateway
    assert (r.status_code, r.content) == (rule.online_status, rule.online_body)
    path = "/" + rule.url.split("/", 3)[3]
    assert (r.status_code, r.content) == ONLINE_ANSWERS[path][::2]
    assert judge(name, r.status_code, r.content, headers=r.headers)[0] == "online"


@pytest.fixture(scope="module")
def served():
    with Simulator(clock=VirtualClock(), name="test-probes-loopback") as s:
        yield s


@pytest.mark.parametrize("path", list(ONLINE_ANSWERS))
def test_probe_hosts_answer_byte_exact_and_identically_over_loopback(path, served):
    status, kind, content = ONLINE_ANSWERS[path]
    with served.client() as local, httpx.Client(base_url=served.origin_url) as remote:
        answers = [local.get(path), remote.get(path)]
    for r in answers:
        assert (r.status_code, r.content) == (status, content)
        assert r.headers.get("content-type") == kind
        assert r.headers["cache-control"] == "no-cache, no-store"
    a, b = answers
    for name in ("content-type", "content-length", "cache-control", "x-networkmanager-status", "server"):
        assert a.headers.get(name) == b.headers.get(name), name
    expected_header = "online" if path == "/check_network_status.txt" else None
    assert a.headers.get("x-networkmanager-status") == expected_header


@pytest.mark.parametrize("status,body,expected,verdict", [
    (200, b"Microsoft Connect Test", b"Microsoft Connect Test", "online"),
    (200, b"Microsoft Connect Test\r\n", b"Microsoft Connect Test", "online"),  # "contains", as documented
    (200, b"Microsoft NCSI", b"Microsoft NCSI", "online"),  # Windows 8.1 and earlier
    (200, b"Microsoft NCSI", b"Microsoft Connect Test", "portal"),
    (200, b"microsoft connect test", b"Microsoft Connect Test", "portal"),
    (511, b"Microsoft Connect Test", b"Microsoft Connect Test", "portal"),  # not a successful download
])
def test_windows_compares_the_text_it_documents(status, body, expected, verdict):
    assert windows_verdict(status, body, expected=expected)[0] == verdict


def test_windows_legacy_probe_through_the_gateway(sim):
    device = sim.client(device="127.0.0.2", gateway=True)
    captive = device.get(WINDOWS_LEGACY_PROBE_URL)
    assert captive.status_code == 511
    assert windows_verdict(captive.status_code, captive.content, expected=b"Microsoft NCSI")[0] == "portal"
    sim.gateway.portal.sign_in("127.0.0.2", "guest", "letmein")
    online = device.get(WINDOWS_LEGACY_PROBE_URL)
    assert online.content == b"Microsoft NCSI"
    assert windows_verdict(online.status_code, online.content, expected=b"Microsoft NCSI")[0] == "online"


@pytest.mark.parametrize("headers,body,verdict", [
    ({"X-NetworkManager-Status": "online"}, b"<html>login</html>", "online"),  # easy_header_cb wins
    ({"x-networkmanager-status": "ONLINE"}, b"", "online"),  # g_ascii_strncasecmp: case aside
    ({"X-NetworkManager-Status": "offline"}, b"", "portal"),
    ({"X-NetworkManager-Status": "online"}, None, "no internet"),  # no HTTP answer at all
    ({}, b"NetworkManager is online", "online"),  # the text without its newline is enough
    ({}, b"NetworkManager is", "portal"),  # "unexpected short response"
])
def test_networkmanager_reads_its_status_header_before_the_content(headers, body, verdict):
    status = 0 if body is None else 511
    assert networkmanager_verdict(status, body or b"", headers=httpx.Headers(headers))[0] == verdict


def test_run_probes_names_windows_and_reads_it(sim):
    device = sim.client(device="127.0.0.2", gateway=True)
    captive = run_probes(device, detectors=["windows"])[0]
    assert (captive.url, captive.status, captive.verdict) == (WINDOWS_PROBE_URL, 511, "portal")
    assert captive.answer.startswith("511 text/html, ")
    sim.gateway.mode = "redirect"
    redirected = run_probes(device, detectors=["windows"])[0]
    assert (redirected.status, redirected.verdict) == (302, "portal")
    assert redirected.portal_url.startswith(LOGIN)
    sim.gateway.portal.sign_in("127.0.0.2", "guest", "letmein")
    online = run_probes(device, detectors=["windows"])[0]
    assert (online.status, online.verdict, online.answer) == (200, "online", "200 text/plain, 22 bytes")


def test_probe_table_has_every_detector_in_both_states(sim):
    rows = probe_table(sim.gateway)
    assert [(r["detector"], r["state"]) for r in rows] == [
        (label, state) for label in DETECTORS.values() for state in ("captive (rfc6585)", "signed in")]
    captive = {r["detector"]: r for r in rows[0::2]}
    online = {r["detector"]: r for r in rows[1::2]}
    assert {label: r["verdict"] for label, r in captive.items()} == {
        "Android": "no internet", "Apple": "portal", "Chromium": "portal", "Firefox": "portal",
        "NetworkManager": "portal", "Windows": "portal"}
    assert {r["verdict"] for r in online.values()} == {"online"}
    assert {r["got"].split(" ")[0] for r in captive.values()} == {"511"}
    assert online["Windows"]["online answer"] == "200, b'Microsoft Connect Test'"
    assert online["Android"]["online answer"] == "204, no content"
    assert online["Windows"]["got"] == "200 text/plain, 22 bytes"
    assert "KB 4494446" in online["Windows"]["rule from"]
    assert "captive_portal_detector.cc" in online["Chromium"]["rule from"]
    assert sim.gateway.portal.state("127.0.0.251").captive  # signed out again


def test_probe_table_follows_the_gateways_mode(sim):
    sim.gateway.mode = "spoof"
    rows = [r for r in probe_table(sim.gateway) if r["state"].startswith("captive")]
    assert {r["state"] for r in rows} == {"captive (spoof)"}
    assert {r["verdict"] for r in rows} == {"portal"}  # a 200 login page fools none of them
