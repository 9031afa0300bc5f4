"""``/contention``: the herd's contended record over HTTP (RFC 9110 section 13.1.1
conditional writes, 412; RFC 6585 section 3, 428), in-process and over sockets."""

import httpx
import pytest

from labkit import Simulator, VirtualClock


@pytest.fixture(params=["inprocess", "loopback"])
def client(request):
    sim = Simulator(clock=VirtualClock(), name=f"test-contention-{request.param}")
    try:
        if request.param == "inprocess":
            c = sim.client()
        else:
            c = httpx.Client(base_url=sim.serve().origin_url, timeout=5)
        with c:
            yield c
    finally:
        sim.stop()


def test_read_then_conditional_write(client):
    first = client.get("/contention?key=k")
    assert first.status_code == 200 and first.headers["etag"] == '"0"'
    assert first.json() == {"key": "k", "version": 0}
    assert first.headers["cache-control"] == "no-store"
    ok = client.put("/contention?key=k", headers={"if-match": '"0"'})
    assert ok.status_code == 200 and ok.headers["etag"] == '"1"' and ok.json()["version"] == 1
    # A second writer that read version 0 loses: 412, and learns the current ETag.
    stale = client.put("/contention?key=k", headers={"if-match": first.headers["etag"]})
    assert stale.status_code == 412 and stale.headers["etag"] == '"1"'
    assert stale.headers["content-type"] == "application/problem+json"
    assert "version 1" in stale.json()["detail"]
    stats = client.get("/contention/stats?key=k").json()
    assert (stats["version"], stats["calls"], stats["conflicts"]) == (1, 2, 1)
    assert stats["load"] == {"0": 2} and stats["served"] == {"0": 1}


def test_keys_are_independent_and_delete_forgets(client):
    assert client.put("/contention?key=a", headers={"if-match": '"0"'}).status_code == 200
    assert client.get("/contention?key=b").headers["etag"] == '"0"'
    assert client.delete("/contention?key=a").status_code == 204
    assert client.get("/contention/stats?key=a").status_code == 404
    assert client.get("/contention?key=a").headers["etag"] == '"0"'


@pytest.mark.parametrize("headers, status", [
    ({}, 428),                          # unconditional write refused (RFC 6585 section 3)
    ({"if-match": "seven"}, 400),       # not an entity tag at all
    ({"if-match": '"seven"'}, 412),     # a tag this record never had
    ({"if-match": 'W/"0"'}, 412),       # If-Match compares strongly: weak tags never match
    ({"if-match": '"5", "0"'}, 200),    # a list matches if any tag does
])
def test_bad_preconditions(client, headers, status):
    response = client.put("/contention?key=p", headers=headers)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.headers["content-type"] == "application/problem+json"


def test_if_match_star_needs_an_existing_record(client):
    # RFC 9110 section 13.1.1: "*" is true only if a current representation exists.
    assert client.put("/contention?key=s", headers={"if-match": "*"}).status_code == 412
    response = client.put("/contention?key=s", headers={"if-match": "*"})
    assert response.status_code == 200 and response.headers["etag"] == '"1"'


def test_other_methods_and_bad_keys(client):
    response = client.post("/contention?key=m")
    assert response.status_code == 405 and "PUT" in response.headers["allow"]
    assert client.get("/contention?key=" + "x" * 65).status_code == 400
    assert client.get("/contention/stats?key=never").status_code == 404
