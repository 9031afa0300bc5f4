"""The retry endpoints answer alike in-process and over loopback, on a virtual clock."""

from email.utils import parsedate_to_datetime

import httpx
import pytest

from labkit import Simulator, VirtualClock


@pytest.fixture(scope="module")
def sim():
    sim = Simulator(clock=VirtualClock(), name="test-endpoints-retry")
    sim.serve()
    yield sim
    sim.stop()


@pytest.fixture(params=["inprocess", "loopback"])
def client(request, sim):
    if request.param == "inprocess":
        c = sim.client()
    else:
        c = httpx.Client(base_url=sim.origin_url, timeout=5)
    c.transport_name = request.param
    with c:
        yield c


@pytest.fixture
def key(request, client):
    # One counter per test and transport: concurrent tests never share state.
    return f"{request.node.name}"[:64]


def test_flaky_fails_n_times_then_succeeds(client, key):
    codes = [client.get(f"/flaky?fail=3&status=502&key={key}").status_code for _ in range(5)]
    assert codes == [502, 502, 502, 200, 200]
    body = client.get(f"/flaky?fail=3&key={key}").json()
    assert body["ok"] and body["call"] == 6


def test_flaky_counts_per_key(client, key):
    assert client.get(f"/flaky?fail=1&key={key}-a").status_code == 503
    assert client.get(f"/flaky?fail=1&key={key}-b").status_code == 503
    assert client.get(f"/flaky?fail=1&key={key}-a").status_code == 200
    # The header is an alternative to ?key=.
    assert client.get("/flaky?fail=1", headers={"X-Client-Key": f"{key}-c"}).status_code == 503
    assert client.get("/flaky?fail=1", headers={"X-Client-Key": f"{key}-c"}).status_code == 200


def test_flaky_reset_and_retry_after(client, key):
    r = client.get(f"/flaky?fail=1&status=429&retry_after=7&key={key}")
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert r.headers["content-type"] == "application/problem+json"
    assert client.delete(f"/flaky?key={key}").status_code == 204
    assert client.get(f"/flaky?fail=1&key={key}").status_code == 503


def test_flaky_drops_the_connection(client, key):
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"/flaky?fail=1&mode=disconnect&key={key}")
    assert client.get(f"/flaky?fail=1&mode=disconnect&key={key}").status_code == 200


def test_flaky_times_out_without_a_long_wait(client, key):
    # In-process the timeout is immediate; over loopback the server stays silent
    # until the client's 20 ms read timeout hangs up (bounded: at most 1 s).
    with pytest.raises(httpx.ReadTimeout):
        client.get(f"/flaky?fail=1&mode=timeout&key={key}", timeout=0.02)
    assert client.get(f"/flaky?fail=1&mode=timeout&key={key}").status_code == 200


@pytest.mark.parametrize("form", ["seconds", "date"])
def test_unavailable_sends_retry_after_then_recovers(client, sim, key, form):
    r = client.get(f"/unavailable?retry_after=30&form={form}&key={key}")
    assert r.status_code == 503
    value = r.headers["retry-after"]
    if form == "seconds":
        assert value == "30"
    else:
        when = parsedate_to_datetime(value).timestamp()
        assert when - parsedate_to_datetime(r.headers["date"]).timestamp() == 30
    sim.clock.advance(10)
    early = client.get(f"/unavailable?retry_after=30&form={form}&key={key}")
    assert early.status_code == 503
    if form == "seconds":
        assert early.headers["retry-after"] == "20"
    sim.clock.advance(20)
    assert client.get(f"/unavailable?retry_after=30&form={form}&key={key}").status_code == 200


def test_ratelimit_is_a_token_bucket(client, sim, key):
    url = f"/ratelimit?rate=0.5&burst=2&key={key}"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    r = client.get(url)
    assert r.status_code == 429 and r.headers["retry-after"] == "2"  # one token per 2 s
    sim.clock.advance(2)
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 429


def test_outage_then_capacity_then_stats(client, sim, key):
    assert client.put(f"/outage?duration=5&capacity=2&key={key}").status_code == 201
    down = client.get(f"/outage?key={key}")
    assert down.status_code == 503 and "Outage" in down.json()["detail"]
    assert "retry-after" not in down.headers  # the clients' schedules decide
    sim.clock.advance(5)
    assert [client.get(f"/outage?key={key}").status_code for _ in range(3)] == [200, 200, 503]
    sim.clock.advance(1)
    assert client.get(f"/outage?key={key}").status_code == 200
    stats = client.get(f"/outage/stats?key={key}").json()
    assert stats["load"] == {"0": 1, "5": 3, "6": 1}
    assert stats["served"] == {"0": 0, "5": 2, "6": 1}
    assert stats["peak_rps"] == 3 and stats["calls"] == 5


def test_orders_lost_reply_duplicates_a_blind_retry(client, key):
    url = f"/orders?lose=1&key={key}"
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(url, json={"sku": "lamp"})
    assert client.post(url, json={"sku": "lamp"}).status_code == 201
    listing = client.get(f"/orders?key={key}").json()
    assert listing["count"] == 2  # the learner sees the duplicate
    assert [o["item"] for o in listing["orders"]] == [{"sku": "lamp"}] * 2


def test_orders_idempotency_key_makes_the_retry_safe(client, key):
    url = f"/orders?lose=1&key={key}"
    headers = {"Idempotency-Key": "order-42"}
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(url, json={"sku": "lamp"}, headers=headers)
    r = client.post(url, json={"sku": "lamp"}, headers=headers)
    assert r.status_code == 201 and r.headers["idempotent-replayed"] == "true"
    assert client.get(f"/orders?key={key}").json()["count"] == 1
    # Same key, different request: refused (the draft's 422).
    assert client.post(url, json={"sku": "sofa"}, headers=headers).status_code == 422
    assert client.delete(f"/orders?key={key}").status_code == 204
    assert client.get(f"/orders?key={key}").json()["count"] == 0


def test_orders_lost_reply_as_timeout(client, key):
    with pytest.raises(httpx.ReadTimeout):
        client.post(f"/orders?lose=1&lose_as=timeout&key={key}", json={}, timeout=0.02)
    assert client.get(f"/orders?key={key}").json()["count"] == 1


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("/flaky?fail=abc", "not an integer"),
        ("/flaky?fail=-1", "out of range"),
        ("/flaky?mode=explode", "use one of"),
        ("/flaky?status=200", "out of range"),
        ("/unavailable?form=fortnight", "use one of"),
        ("/ratelimit?rate=nan", "out of range"),
        ("/ratelimit?burst=0", "out of range"),
        ("/outage?capacity=0", "out of range"),
        ("/orders?lose=x", "not an integer"),
        ("/flaky?key=" + "k" * 65, "key must be"),
    ],
)
def test_bad_parameters_are_400_problems(client, url, fragment):
    r = client.get(url)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert fragment in r.json()["detail"]


def test_orders_bad_body_and_method(client, key):
    r = client.post(f"/orders?key={key}", content=b"{not json")
    assert r.status_code == 400
    r = client.patch(f"/orders?key={key}", json={})
    assert r.status_code == 405 and "POST" in r.headers["allow"]


def test_routes_are_listed_on_the_index(client):
    routes = client.get("/").json()["routes"]
    for prefix in ("/flaky", "/unavailable", "/ratelimit", "/outage", "/orders"):
        assert prefix in routes


def test_a_stall_over_loopback_is_bounded():
    # A client with a long timeout is not held forever: after Stall.seconds the
    # server drops the connection (here 50 ms, so the test stays fast).
    import time

    from labkit import LoopbackServer, Stall

    def stall(request):
        raise Stall(0.05)

    with LoopbackServer(stall, name="test-stall-bound") as server:
        started = time.perf_counter()
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(server.url + "/", timeout=5)
        assert time.perf_counter() - started < 2


def test_per_key_state_is_bounded(monkeypatch):
    # A server fed fresh keys forever forgets the oldest instead of growing.
    from labkit.origin import _keyed

    monkeypatch.setattr(_keyed, "MAX_KEYS", 3)
    sim = Simulator(clock=VirtualClock(), name="test-bounded-keys")
    c = sim.client()
    for k in range(5):
        assert c.get(f"/flaky?fail=1&key=k{k}").status_code == 503
    assert c.get("/flaky?fail=1&key=k4").status_code == 200  # recent: remembered
    assert c.get("/flaky?fail=1&key=k0").status_code == 503  # oldest: forgotten, starts over
