"""A real RFC 9111 cache (hishel) between client and network: 511 is never stored;
the cacheable and spoof portals poison caches so the portal outlives sign-in."""

import httpx
import pytest

from labkit import Capture, Simulator, attribute, inspect, with_cache

URL = "http://origin.test/status/200"


@pytest.fixture
def sim():
    # RealClock on purpose: hishel ages responses by the wall clock (see labkit.inspector._cache).
    s = Simulator(name="test-cache")
    yield s
    s.stop()


def browse(sim, mode, *, rfc=True, device="127.0.0.20"):
    """Visit URL captive, sign in, visit again: the two exchanges the client saw."""
    sim.gateway.mode = mode
    cap = Capture()
    client = sim.client(gateway=True, device=device, capture=cap, cache={"rfc": rfc})
    before = client.get(URL)
    sim.gateway.portal.sign_in(device, "guest", "letmein")
    after = client.get(URL)
    return cap, before, after


@pytest.mark.parametrize("rfc", [True, False], ids=["rfc9111-cache", "naive-cache"])
def test_correct_511_is_never_stored(sim, rfc):
    cap, before, after = browse(sim, "rfc6585", rfc=rfc)
    assert before.status_code == 511 and after.status_code == 200
    assert cap[0].cache == {"from_cache": False, "revalidated": False, "stored": False}
    assert attribute(cap[1]).answered_by == "origin"
    assert [f.id for f in inspect(cap[0]) if f.level in ("error", "warning")] == []


def test_cacheable_511_poisons_an_rfc9111_cache(sim):
    cap, before, after = browse(sim, "cacheable")
    assert cap[0].cache["stored"] is True
    # Signed in, yet the cache answers with the stored 511.
    assert after.status_code == 511 and cap[1].from_cache
    assert "age" in after.headers
    who = attribute(cap[1])
    assert (who.answered_by, who.generated_by) == ("cache", "gateway")
    ids = [f.id for f in inspect(cap[1])]
    assert "511-from-cache" in ids and "511-storable" in ids
    assert "511-storable" in [f.id for f in inspect(cap[0])]  # flagged before any harm was done


def test_spoof_page_poisons_a_cache_that_stores_successes(sim):
    cap, before, after = browse(sim, "spoof", rfc=False)
    assert before.status_code == 200 and b"<form" in before.content
    assert after.status_code == 200 and after.content == before.content  # the portal page, again
    assert cap[1].from_cache
    assert attribute(cap[1]).generated_by == "gateway"
    assert "gateway-response-from-cache" in [f.id for f in inspect(cap[1])]
    assert "gateway-response-storable" in [f.id for f in inspect(cap[0])]


def test_spoof_page_in_an_rfc9111_cache_lives_as_long_as_its_freshness(sim):
    cap, before, after = browse(sim, "spoof")
    assert cap[0].cache["stored"] is True  # a 200 is heuristically cacheable (RFC 9110 section 15.1)
    # Like a static file, the spoof page carries Last-Modified: heuristically fresh
    # (RFC 9111 section 4.2.2), so after sign-in the cache still serves the portal.
    assert cap[0].header("last-modified")
    assert cap[1].from_cache is True
    assert attribute(cap[1]).generated_by == "gateway"


def test_origin_auth_responses_are_not_stored(sim):
    cap = Capture()
    client = sim.client(capture=cap, cache=True)
    for _ in range(2):
        client.get("/basic-auth/u/p")
        client.get("/bearer")
    assert all(not ex.from_cache and not ex.cache["stored"] for ex in cap)


def test_cache_over_loopback_through_the_gateway_proxy(sim):
    sim.serve()
    sim.gateway.mode = "cacheable"
    cap = Capture()
    proxy = sim.gateway_url
    client = httpx.Client(transport=cap.transport(with_cache(httpx.HTTPTransport(proxy=proxy)), proxy=proxy))
    url = sim.origin_url + "/status/200"
    assert client.get(url).status_code == 511
    sim.gateway.portal.sign_in("127.0.0.1", "guest", "letmein")
    assert client.get(url).status_code == 511
    assert cap[1].from_cache and cap[1].transport == "socket"
    sim.gateway.mode = "rfc6585"
    fresh = httpx.Client(transport=with_cache(httpx.HTTPTransport(proxy=proxy)))
    assert fresh.get(url).status_code == 200  # a new cache: the network was fine all along


def test_with_cache_refuses_async_clients_and_the_wrong_order(sim):
    with pytest.raises(TypeError, match="anysqlite"):
        sim.async_client(cache=True)
    with pytest.raises(TypeError, match="anysqlite"):
        with_cache(httpx.AsyncHTTPTransport())
    with pytest.raises(TypeError, match="not a client"):
        with_cache(sim.client())
    with pytest.raises(TypeError):
        with_cache("client")
    with pytest.raises(ValueError, match="capture in the cache"):
        with_cache(Capture().transport())
