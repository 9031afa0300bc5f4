"""The portal hardened as a real one: repeated wrong passwords."""

import pytest

from labkit import Simulator, VirtualClock
from labkit.gateway import InvalidCredentials, Portal, TooManyAttempts, submit_login

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
