"""The runner and its tenacity twin: both transports, sync and async, 511 and 401,
the duplicate order, all on a virtual clock."""

import asyncio

import httpx
import pytest

from labkit import Simulator, VirtualClock
from labkit.retry import (
    Attempt,
    Backoff,
    RetryPolicy,
    arun,
    arun_tenacity,
    run,
    run_tenacity,
)

EXP = RetryPolicy(backoff=Backoff(kind="exponential", base=1.0, cap=30.0, attempts=5))
FULL = RetryPolicy(backoff=Backoff(kind="full", base=1.0, cap=30.0, attempts=6))
GUEST = ("guest", "letmein")  # the portal's documented test credentials


def fresh(name):
    return Simulator(clock=VirtualClock(), name=name)


def rows(result):
    return [(a.attempt, a.time, a.status, a.delay, a.decision) for a in result.attempts]


# -- both transports, sync and async ------------------------------------------------


@pytest.fixture(scope="module")
def served():
    sim = fresh("test-retry-runner")
    sim.serve()
    yield sim
    sim.stop()


def clients(sim, transport):
    if transport == "inprocess":
        return sim.client(), sim.async_client()
    return (httpx.Client(base_url=sim.origin_url, timeout=5),
            httpx.AsyncClient(base_url=sim.origin_url, timeout=5))


@pytest.mark.parametrize("transport", ["inprocess", "loopback"])
def test_sync_runner_over_both_transports(served, transport):
    client, _ = clients(served, transport)
    with client:
        result = run(client, "GET", f"/flaky?fail=3&key=sync-{transport}", policy=EXP,
                     clock=served.clock)
    assert rows(result) == [
        (1, 0.0, 503, 1.0, "retry"),
        (2, 1.0, 503, 2.0, "retry"),
        (3, 3.0, 503, 4.0, "retry"),
        (4, 7.0, 200, 0.0, "done"),
    ]
    assert result.ok and result.response.json()["call"] == 4


@pytest.mark.parametrize("transport", ["inprocess", "loopback"])
def test_async_runner_over_both_transports(served, transport):
    _, client = clients(served, transport)

    async def go():
        async with client:
            return await arun(client, "GET", f"/flaky?fail=2&mode=disconnect&key=async-{transport}",
                              policy=EXP, clock=served.clock)

    result = asyncio.run(go())
    assert [a.status for a in result.attempts] == ["RemoteProtocolError", "RemoteProtocolError", 200]
    assert result.elapsed == 3.0 and result.ok


@pytest.mark.parametrize("transport", ["inprocess", "loopback"])
def test_timeouts_are_retried_without_waiting_long(served, transport):
    client, _ = clients(served, transport)
    with client:
        result = run(client, "GET", f"/flaky?fail=1&mode=timeout&key=timeout-{transport}",
                     policy=EXP, clock=served.clock, timeout=0.02)
    assert [a.status for a in result.attempts] == ["ReadTimeout", 200]


def test_budget_exhausted_keeps_the_last_response(served):
    result = run(served.client(), "GET", "/flaky?fail=10&key=budget", policy=EXP, clock=served.clock)
    assert [a.decision for a in result.attempts] == ["retry"] * 4 + ["stop"]
    assert result.response.status_code == 503 and not result.ok
    assert "gave up after 5 attempts" in result.attempts[-1].reason


def test_retry_after_is_honoured_and_capped(served):
    clock = served.clock
    policy = RetryPolicy(backoff=Backoff(kind="constant", base=1.0, attempts=5), max_retry_after=60)
    result = run(served.client(), "GET", "/unavailable?retry_after=100&form=date&key=capped",
                 policy=policy, clock=clock)
    assert [(a.time, a.status, a.delay) for a in result.attempts] == [
        (0.0, 503, 60.0), (60.0, 503, 40.0), (100.0, 200, 0.0)]


def test_timeline_is_a_dataframe():
    sim = fresh("test-retry-frame")
    result = run(sim.client(), "GET", "/ratelimit?rate=0.25&burst=1&key=f", policy=EXP, clock=sim.clock)
    result = run(sim.client(), "GET", "/ratelimit?rate=0.25&burst=1&key=f", policy=EXP, clock=sim.clock)
    frame = result.timeline
    assert list(frame.columns) == ["time", "status", "delay", "decision", "reason"]
    assert frame.index.name == "attempt"
    assert frame["delay"].tolist() == [4.0, 0.0]
    assert "Retry-After: 4" in frame["reason"].iloc[0]


# -- the duplicate order ---------------------------------------------------------


def test_post_with_a_lost_reply_is_not_retried_blindly():
    sim = fresh("test-retry-orders-1")
    c = sim.client()
    result = run(c, "POST", "/orders?lose=1&key=shop", json={"sku": "lamp"}, policy=EXP, clock=sim.clock)
    assert result.decision == "stop" and isinstance(result.error, httpx.RemoteProtocolError)
    assert "Idempotency-Key" in result.attempts[0].reason
    assert c.get("/orders?key=shop").json()["count"] == 1  # committed, but the client cannot know


def test_a_blind_retry_of_post_duplicates_the_order():
    sim = fresh("test-retry-orders-2")
    c = sim.client()
    reckless = RetryPolicy(backoff=EXP.backoff, idempotent_methods=frozenset({"GET", "POST"}))
    result = run(c, "POST", "/orders?lose=1&key=shop", json={"sku": "lamp"}, policy=reckless,
                 clock=sim.clock)
    assert result.ok
    assert c.get("/orders?key=shop").json()["count"] == 2  # the duplicate


@pytest.mark.parametrize("runner", [run, run_tenacity])
def test_an_idempotency_key_makes_the_retry_safe(runner):
    sim = fresh("test-retry-orders-3")
    c = sim.client()
    result = runner(c, "POST", "/orders?lose=2&key=shop", json={"sku": "lamp"}, policy=EXP,
                    clock=sim.clock, idempotency_key=True)
    assert result.ok and result.response.headers["idempotent-replayed"] == "true"
    assert [a.decision for a in result.attempts] == ["retry", "retry", "done"]
    orders = c.get("/orders?key=shop").json()
    assert orders["count"] == 1 and orders["orders"][0]["idempotency_key"] == result.idempotency_key


# -- 511: sign in to the network, then retry -----------------------------------------


def test_511_stops_and_says_sign_in():
    sim = fresh("test-retry-511-a")
    client = sim.client(device="127.0.0.2", gateway=True)
    result = run(client, "GET", "/flaky?fail=0&key=portal", policy=EXP, clock=sim.clock)
    assert len(result.attempts) == 1 and result.decision == "sign-in"
    assert result.status == 511 and not result.ok
    assert "sign in" in result.attempts[0].reason


@pytest.mark.parametrize("runner", [run, run_tenacity])
def test_511_then_sign_in_then_success(runner):
    sim = fresh("test-retry-511-b")
    client = sim.client(device="127.0.0.2", gateway=True)
    signed = []

    def sign_in():
        signed.append(sim.gateway.portal.sign_in("127.0.0.2", *GUEST))

    # A POST too: the gateway answered the 511, the origin never saw the order.
    result = runner(client, "POST", "/orders?key=captive", json={"sku": "tea"}, policy=EXP,
                    clock=sim.clock, sign_in=sign_in)
    assert [(a.status, a.decision) for a in result.attempts] == [(511, "sign-in"), (201, "done")]
    assert len(signed) == 1 and result.ok
    assert result.response.headers["server"] == "labkit-origin"
    assert sim.client().get("/orders?key=captive").json()["count"] == 1


def test_511_again_after_a_failed_sign_in_stops():
    sim = fresh("test-retry-511-c")
    client = sim.client(device="127.0.0.4", gateway=True)
    result = run(client, "GET", "/flaky?fail=0", policy=EXP, clock=sim.clock,
                 sign_in=lambda: None)  # "signed in" without the portal knowing
    assert [a.decision for a in result.attempts] == ["sign-in", "stop"]
    assert "after signing in" in result.attempts[-1].reason


def test_511_over_a_real_proxy_socket():
    sim = fresh("test-retry-511-d")
    try:
        client = sim.proxy_client(device="127.0.0.3", timeout=5)
        with client:
            result = run(client, "GET", "http://origin.test/flaky?fail=1&key=proxy", policy=EXP,
                         clock=sim.clock,
                         sign_in=lambda: sim.gateway.portal.sign_in("127.0.0.3", *GUEST))
        assert [(a.status, a.decision) for a in result.attempts] == [
            (511, "sign-in"), (503, "retry"), (200, "done")]
        assert result.response.headers["via"] == "1.1 labkit-gateway"
    finally:
        sim.stop()


# -- 401: refresh the credentials once -------------------------------------------


def bearer_setup(sim, expires_in=60):
    c = sim.client()
    pair = c.post(f"/bearer/token?expires_in={expires_in}").json()
    sim.clock.advance(expires_in + 1)  # the access token has expired
    return c, pair


@pytest.mark.parametrize("runner", [run, run_tenacity])
def test_401_refreshes_once_then_succeeds(runner):
    sim = fresh("test-retry-401-a")
    c, pair = bearer_setup(sim)

    def refresh():
        new = c.post("/bearer/refresh", json={"refresh_token": pair["refresh_token"]}).json()
        return {"Authorization": f"Bearer {new['access_token']}"}

    result = runner(c, "GET", "/bearer", headers={"Authorization": f"Bearer {pair['access_token']}"},
                    policy=EXP, clock=sim.clock, refresh=refresh)
    assert [(a.status, a.decision) for a in result.attempts] == [(401, "refresh"), (200, "done")]
    assert result.response.json()["authenticated"] is True


def test_401_after_a_refresh_is_final():
    sim = fresh("test-retry-401-b")
    c, pair = bearer_setup(sim)
    result = run(c, "GET", "/bearer", headers={"Authorization": "Bearer forged"}, policy=EXP,
                 clock=sim.clock, refresh=lambda: {"Authorization": "Bearer still-forged"})
    assert [(a.status, a.decision) for a in result.attempts] == [(401, "refresh"), (401, "stop")]


def test_401_without_a_refresh_callback_stops():
    sim = fresh("test-retry-401-c")
    result = run(sim.client(), "GET", "/bearer", policy=EXP, clock=sim.clock)
    assert result.decision == "stop" and "no refresh given" in result.attempts[0].reason


def test_async_refresh_and_sign_in_callbacks_may_be_coroutines():
    sim = fresh("test-retry-async-cb")
    c, pair = bearer_setup(sim)

    async def refresh():
        return {"Authorization": "Bearer " + c.post(
            "/bearer/refresh", json={"refresh_token": pair["refresh_token"]}).json()["access_token"]}

    async def go():
        async with sim.async_client() as ac:
            a = await arun(ac, "GET", "/bearer", headers={"Authorization": "Bearer expired"},
                           policy=EXP, clock=sim.clock, refresh=refresh)
            b = await arun_tenacity(ac, "GET", "/bearer", headers={"Authorization": "Bearer expired"},
                                    policy=EXP, clock=sim.clock, refresh=refresh)
            return a, b

    a, b = asyncio.run(go())
    assert [x.status for x in a.attempts] == [401, 200] == [x.status for x in b.attempts]


# -- tenacity gives the same timeline --------------------------------------------------

SCENARIOS = [
    ("GET", "/flaky?fail=4&key=t", {}),
    ("GET", "/flaky?fail=2&mode=disconnect&key=t", {}),
    ("GET", "/flaky?fail=2&mode=timeout&key=t", {}),
    ("GET", "/flaky?fail=9&key=t", {}),  # gives up
    ("GET", "/unavailable?retry_after=7&form=date&key=t", {}),
    ("GET", "/ratelimit?rate=0.2&burst=1&key=t", {}),
    ("GET", "/outage?duration=20&capacity=5&key=t", {}),
    ("POST", "/orders?lose=2&key=t", {"json": {"sku": 1}, "idempotency_key": True}),
    ("POST", "/orders?lose=1&key=t", {"json": {"sku": 1}}),
    ("DELETE", "/status/404", {}),
]


@pytest.mark.parametrize("method, url, kwargs", SCENARIOS)
@pytest.mark.parametrize("policy", [EXP, FULL], ids=["exponential", "full-jitter"])
def test_tenacity_gives_the_same_timeline(method, url, kwargs, policy):
    results, clocks = [], []
    for runner in (run, run_tenacity):
        sim = fresh("test-retry-twin")
        c = sim.client()
        if "ratelimit" in url:
            c.get(url)  # empty the bucket first
        results.append(runner(c, method, url, policy=policy, clock=sim.clock, seed=11, **kwargs))
        clocks.append(sim.clock.time())
    ours, theirs = results
    assert ours.attempts == theirs.attempts
    assert all(isinstance(a, Attempt) for a in ours.attempts)
    assert clocks[0] == clocks[1]  # both waited the same virtual time


def test_seeded_jitter_is_reproducible_and_varies_with_the_seed():
    def delays(seed):
        sim = fresh("test-retry-seed")
        r = run(sim.client(), "GET", "/flaky?fail=4&key=s", policy=FULL, clock=sim.clock, seed=seed)
        return [a.delay for a in r.attempts]

    assert delays(1) == delays(1)
    assert delays(1) != delays(2)
