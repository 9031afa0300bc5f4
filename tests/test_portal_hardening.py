"""The portal hardened as a real one: cross-site requests, repeated wrong passwords, framing."""

import httpx
import pytest

from labkit import Simulator, VirtualClock
from labkit.gateway import Gateway, InvalidCredentials, Portal, TooManyAttempts, submit_login
from labkit.gateway._site import origin_of
from labkit.transport import InProcessTransport

URL = "http://news.test/status/200"
PORTAL = "http://portal.labkit.test"
LOGIN = PORTAL + "/login"
GOOD = {"user": "guest", "password": "letmein"}
BAD = {"user": "guest", "password": "wrong"}


@pytest.fixture
def sim():
    return Simulator(clock=VirtualClock(), name="test-portal-hardening")


def device(sim, addr="127.0.0.2"):
    return sim.client(device=addr, gateway=True)


# -- cross-site requests ------------------------------------------------------------
# (request headers, allowed?): Origin wins; Referer counts only without Origin.
SOURCES = [
    ({}, True),  # curl, httpx, the notebooks' forms
    ({"origin": PORTAL}, True),  # the portal's own form, as Chromium posts it
    ({"origin": "http://PORTAL.labkit.test"}, True),
    ({"origin": PORTAL + ":80"}, True),  # the default port is the same origin
    ({"referer": LOGIN + "?next=http%3A%2F%2Fnews.test%2F"}, True),
    ({"origin": PORTAL, "referer": "http://evil.example/"}, True),
    ({"origin": "http://evil.example"}, False),
    ({"origin": "http://evil.example", "referer": LOGIN}, False),
    ({"origin": "null"}, False),  # a sandboxed frame or a data: page
    ({"origin": "https://portal.labkit.test"}, False),  # another scheme, another origin
    ({"origin": PORTAL + ":8080"}, False),
    ({"origin": "http://sub.portal.labkit.test"}, False),
    ({"origin": "http://portal.labkit.test.evil.example"}, False),
    ({"referer": "http://evil.example/trap.html"}, False),
    ({"referer": "about:blank"}, False),
]


@pytest.mark.parametrize("headers,allowed", SOURCES)
def test_sign_in_only_from_the_portals_own_origin(sim, headers, allowed):
    r = device(sim).post(LOGIN, data=GOOD, headers=headers)
    assert r.status_code == (200 if allowed else 403)
    assert sim.gateway.portal.state("127.0.0.2").captive is not allowed
    if not allowed:
        assert r.headers["content-type"].startswith("text/html")
        assert "Cross-site request refused" in r.text and 'href="http://portal.labkit.test/login"' in r.text
        assert sim.gateway.portal.state("127.0.0.2").failed_attempts == 0  # the form was not read


@pytest.mark.parametrize("path", ["/logout", "/extend"])
@pytest.mark.parametrize("headers,allowed", SOURCES)
def test_a_page_on_another_site_cannot_sign_out_or_extend(sim, path, headers, allowed):
    sim.gateway.portal.session_seconds = 100
    client = device(sim)
    sim.gateway.portal.sign_in("127.0.0.2", "guest", "letmein")
    sim.clock.advance(50)
    r = client.post(PORTAL + path, headers=headers)
    assert r.status_code == (200 if allowed else 403)
    state = sim.gateway.portal.state("127.0.0.2")
    if allowed:
        assert state.captive if path == "/logout" else state.seconds_remaining == 100
    else:
        assert not state.captive and state.seconds_remaining == 50  # untouched
        assert client.get(URL).status_code == 200


def test_cross_site_refusal_as_problem_json(sim):
    r = device(sim).post(PORTAL + "/logout", headers={"origin": "http://evil.example",
                                                      "accept": "application/json"})
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    doc = r.json()
    assert doc["status"] == 403 and doc["title"] == "Forbidden"
    assert doc["sent_origin"] == "http://evil.example" and doc["portal_origin"] == PORTAL
    assert "another site" in doc["detail"] and LOGIN in doc["detail"]


@pytest.mark.parametrize("path", ["/login", "/venue", "/api/captive"])
def test_reading_the_portal_from_another_origin_is_not_refused(sim, path):
    # Safe methods change nothing (RFC 9110 section 9.2.1): a link from anywhere may open them.
    r = device(sim).get(PORTAL + path, headers={"origin": "http://evil.example",
                                                "referer": "http://evil.example/"})
    assert r.status_code == 200


@pytest.mark.parametrize("origin,allowed", [
    ("http://127.0.0.1:8080", True),
    ("http://127.0.0.1:9999", False),
    ("http://localhost:8080", False),
])
def test_the_target_origin_counts_when_the_portal_is_at_a_loopback_address(origin, allowed):
    # A portal served at the gateway's own address: its origin is where the request went.
    clock = VirtualClock()
    sim = Simulator(clock=clock, name="test-portal-at-loopback")
    gateway = Gateway(upstream=sim.origin, clock=clock, portal_host="127.0.0.1")
    client = httpx.Client(transport=InProcessTransport(gateway, client=("127.0.0.2", 50000)))
    r = client.post("http://127.0.0.1:8080/login", data=GOOD, headers={"origin": origin})
    assert r.status_code == (200 if allowed else 403)


@pytest.mark.parametrize("url,origin", [
    ("http://portal.labkit.test/login?x=1", "http://portal.labkit.test"),
    ("HTTP://Portal.Labkit.Test:80/", "http://portal.labkit.test"),
    ("https://portal.labkit.test:443/a", "https://portal.labkit.test"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    ("http://[::1]:8080/", "http://[::1]:8080"),
    ("http://user:pw@portal.labkit.test/", "http://portal.labkit.test"),
    ("null", "null"),
    ("data:text/html,hi", "null"),
    ("http://bad:port/", "null"),
    ("", "null"),
])
def test_origin_of(url, origin):
    assert origin_of(url) == origin


# -- repeated wrong passwords -----------------------------------------------------
def test_five_wrong_passwords_lock_the_device_out_for_a_while(sim):
    client = device(sim)
    statuses = [client.post(LOGIN, data=BAD).status_code for _ in range(5)]
    assert statuses == [403, 403, 403, 403, 429]
    state = sim.gateway.portal.state("127.0.0.2")
    assert state.failed_attempts == 5 and state.locked_seconds_remaining == 300

    # Locked: even the right password is not looked at.
    r = client.post(LOGIN, data=GOOD)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "300"  # RFC 6585 section 4
    assert r.headers["cache-control"] == "no-store"
    assert "Too many failed sign-ins" in r.text and '<form method="post"' in r.text
    assert client.get(URL).status_code == 511

    sim.clock.advance(299.5)
    assert client.post(LOGIN, data=GOOD).headers["retry-after"] == "1"
    sim.clock.advance(0.5)
    assert sim.gateway.portal.state("127.0.0.2").locked_seconds_remaining is None
    assert client.post(LOGIN, data=GOOD).status_code == 200
    state = sim.gateway.portal.state("127.0.0.2")
    assert not state.captive and state.failed_attempts == 0


def test_after_a_lockout_the_count_starts_again(sim):
    client = device(sim)
    for _ in range(5):
        client.post(LOGIN, data=BAD)
    sim.clock.advance(300)
    assert sim.gateway.portal.state("127.0.0.2").failed_attempts == 0
    assert [client.post(LOGIN, data=BAD).status_code for _ in range(5)] == [403] * 4 + [429]


def test_a_successful_sign_in_resets_the_count(sim):
    client = device(sim)
    for _ in range(4):
        assert client.post(LOGIN, data=BAD).status_code == 403
    assert sim.gateway.portal.state("127.0.0.2").failed_attempts == 4
    assert client.post(LOGIN, data=GOOD).status_code == 200
    assert sim.gateway.portal.state("127.0.0.2").failed_attempts == 0
    assert [client.post(LOGIN, data=BAD).status_code for _ in range(4)] == [403] * 4


def test_the_lockout_is_per_device(sim):
    for _ in range(5):
        device(sim, "127.0.0.2").post(LOGIN, data=BAD)
    assert device(sim, "127.0.0.2").post(LOGIN, data=GOOD).status_code == 429
    assert device(sim, "127.0.0.3").post(LOGIN, data=GOOD).status_code == 200


def test_lockout_as_problem_json(sim):
    client = device(sim)
    for _ in range(5):
        client.post(LOGIN, data=BAD)
    sim.clock.advance(100)
    r = client.post(LOGIN, data=GOOD, headers={"accept": "application/json"})
    assert r.status_code == 429 and r.headers["retry-after"] == "200"
    assert r.headers["content-type"] == "application/problem+json"
    doc = r.json()
    assert doc["title"] == "Too Many Requests" and doc["retry_after"] == 200
    assert "200 s" in doc["detail"]


def test_lockout_in_code_and_its_settings():
    clock = VirtualClock()
    portal = Portal(clock=clock, max_failures=2, lockout_seconds=30)
    with pytest.raises(InvalidCredentials):
        portal.sign_in("d", "guest", "x")
    with pytest.raises(TooManyAttempts, match="2 wrong passwords in a row") as locked:
        portal.sign_in("d", "guest", "x")
    assert locked.value.retry_after == 30
    clock.advance(10)
    with pytest.raises(TooManyAttempts) as locked:
        portal.sign_in("d", "guest", "letmein")
    assert locked.value.retry_after == 20 and portal.locked_for("d") == 20
    assert [s.locked_seconds_remaining for s in portal.devices()] == [20]
    portal.reset()
    assert portal.locked_for("d") is None and portal.devices() == []
    for bad in ({"max_failures": 0}, {"max_failures": 2.5}, {"lockout_seconds": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Portal(**bad)


def test_submit_login_reports_the_lockout(sim):
    client = device(sim)
    results = [submit_login(client, "guest", "wrong") for _ in range(5)]
    assert [r.status for r in results] == [403] * 4 + [429]
    assert "try again in 300 s" in results[-1].message


# -- framing -----------------------------------------------------------------------
@pytest.mark.parametrize("method,path,headers", [
    ("GET", "/login", {}),
    ("GET", "/venue", {}),
    ("GET", "/api/captive", {}),
    ("GET", "/nowhere", {}),
    ("POST", "/logout", {}),
    ("POST", "/logout", {"origin": "http://evil.example"}),
    ("PUT", "/login", {}),
])
def test_every_portal_page_refuses_to_be_framed(sim, method, path, headers):
    r = device(sim).request(method, PORTAL + path, headers=headers)
    assert r.headers["content-security-policy"] == "frame-ancestors 'none'"  # CSP Level 3
    assert r.headers["x-frame-options"] == "DENY"  # RFC 7034


def test_the_origins_pages_are_not_changed_by_the_portals_framing_rules(sim):
    sim.gateway.portal.sign_in("127.0.0.2", "guest", "letmein")
    r = device(sim).get(URL)
    assert r.status_code == 200 and "x-frame-options" not in r.headers
    assert "content-security-policy" not in r.headers


# -- the lockout in notebook 03's retry lab ---------------------------------------
def test_retry_lab_portal_lockout_is_a_429_no_loop_can_wait_out():
    from labkit.labs import EXPERIMENTS, run_experiment
    from labkit.retry import Backoff, RetryPolicy

    assert EXPERIMENTS["portal lockout"].method == "POST"
    # Without a key the POST is not resent at all; the answer is for the person.
    first, sim = run_experiment("portal lockout", policy=RetryPolicy())
    assert (first.decision, first.status, first.response.headers["retry-after"]) == ("stop", 429, "300")
    assert sim.gateway.portal.state("127.0.0.9").failed_attempts == 5

    # With a key and attempts to spare, the loop comes back every 60 s (the cap),
    # meets the lockout four more times, and at 300 s the same wrong password: 403.
    patient = RetryPolicy(backoff=Backoff(attempts=8))
    result, sim = run_experiment("portal lockout", policy=patient, idempotency_key=True)
    assert [(a.time, a.status) for a in result.attempts] == [
        (0.0, 429), (60.0, 429), (120.0, 429), (180.0, 429), (240.0, 429), (300.0, 403)]
    assert result.decision == "stop" and sim.gateway.portal.state("127.0.0.9").captive


def test_retry_lab_widget_offers_the_portal_lockout():
    from labkit.widgets import RetryLab

    lab = RetryLab(experiment="portal lockout")
    assert "portal lockout" in lab.experiment.options
    assert lab.result.status == 429
    assert "Outcome: <b>stop</b> after 1 attempt(s)" in lab.about.value
    assert "said <code>Retry-After: 300</code>" in lab.about.value
    lab.key.value = True
    lab.attempts.value = 6
    assert lab.result.status == 403 and lab.result.elapsed == 300
