"""Origin authentication: Basic and Bearer answer 401 with the challenge the RFCs require."""

import base64

import httpx
import pytest

from labkit import Simulator, VirtualClock
from labkit.origin._auth import EXPIRED_TOKEN


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def client(clock):
    sim = Simulator(clock=clock, name="test-auth")
    with sim.client() as c:
        yield c


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    "authorization, status",
    [
        (None, 401),
        (basic("alice", "s3cret"), 200),
        (basic("alice", "wrong"), 401),
        (basic("bob", "s3cret"), 401),
        ("Basic !!!notbase64", 401),
        ("Bearer abc", 401),
        (base64.b64encode(b"alice:s3cret").decode(), 401),  # no scheme
    ],
)
def test_basic_auth(client, authorization, status):
    headers = {"authorization": authorization} if authorization else {}
    r = client.get("/basic-auth/alice/s3cret", headers=headers)
    assert r.status_code == status
    assert r.headers["cache-control"] == "no-store"
    if status == 401:
        # RFC 9110 section 11.6.1: a 401 MUST carry at least one challenge.
        assert r.headers["www-authenticate"] == 'Basic realm="labkit", charset="UTF-8"'
        assert r.headers["content-type"] == "application/problem+json"
    else:
        assert r.json() == {"authenticated": True, "user": "alice"}
        assert "www-authenticate" not in r.headers


def test_basic_auth_with_httpx_auth_and_escaped_path(client):
    r = client.get("/basic-auth/al%20ice/p%3Ass", auth=("al ice", "p:ss"))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("path", ["/basic-auth", "/basic-auth/alice", "/basic-auth/alice/", "/basic-auth/a/b/c"])
def test_basic_auth_bad_paths_are_clear_404s(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "/basic-auth/{user}/{password}" in r.json()["detail"]


def test_status_401_stays_bare(client):
    r = client.get("/status/401")
    assert r.status_code == 401
    assert "www-authenticate" not in r.headers


def test_bearer_without_credentials_has_no_error_code(client):
    r = client.get("/bearer")
    assert r.status_code == 401
    # RFC 6750 section 3.1: no error code when the request had no authentication.
    assert r.headers["www-authenticate"] == 'Bearer realm="labkit"'


def test_bearer_token_lifecycle_with_virtual_clock(client, clock):
    pair = client.post("/bearer/token", params={"expires_in": 30}).json()
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 30
    auth = {"authorization": f"Bearer {pair['access_token']}"}
    ok = client.get("/bearer", headers=auth)
    assert ok.status_code == 200 and ok.json()["expires_in"] == 30

    clock.advance(31)
    expired = client.get("/bearer", headers=auth)
    assert expired.status_code == 401
    challenge = expired.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="labkit", error="invalid_token"')
    assert "expired" in challenge

    fresh = client.post("/bearer/refresh", data={"refresh_token": pair["refresh_token"]}).json()
    assert fresh["access_token"] != pair["access_token"]
    assert fresh["refresh_token"] == pair["refresh_token"]
    again = client.get("/bearer", headers={"authorization": f"Bearer {fresh['access_token']}"})
    assert again.status_code == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        lambda t: {"json": {"refresh_token": t}},
        lambda t: {"data": {"refresh_token": t}},
        lambda t: {"headers": {"authorization": f"Bearer {t}"}},
    ],
)
def test_refresh_accepts_json_form_or_header(client, kwargs):
    pair = client.post("/bearer/token").json()
    r = client.post("/bearer/refresh", **kwargs(pair["refresh_token"]))
    assert r.status_code == 200 and r.json()["access_token"].startswith("access-")


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"data": {"refresh_token": "refresh-999"}}, "invalid_grant"),
        ({}, "invalid_request"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, "invalid_request"),
    ],
)
def test_refresh_errors(client, kwargs, error):
    r = client.post("/bearer/refresh", **kwargs)
    assert r.status_code == 400
    assert r.json()["error"] == error


@pytest.mark.parametrize(
    "authorization, status, error",
    [
        (f"Bearer {EXPIRED_TOKEN}", 401, 'error="invalid_token"'),
        ("Bearer access-unknown", 401, 'error="invalid_token"'),
        ("Bearer", 400, 'error="invalid_request"'),
        ("Basic abc", 400, 'error="invalid_request"'),
        ("Bearer a b", 400, 'error="invalid_request"'),
    ],
)
def test_bearer_bad_tokens(client, authorization, status, error):
    r = client.get("/bearer", headers={"authorization": authorization})
    assert r.status_code == status
    assert error in r.headers["www-authenticate"]


@pytest.mark.parametrize("path, method", [("/bearer/token", "GET"), ("/bearer/refresh", "PUT")])
def test_token_endpoints_are_post_only(client, path, method):
    r = client.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == "POST"


@pytest.mark.parametrize("value", ["-1", "abc", "86401", ""])
def test_token_lifetime_is_validated(client, value):
    r = client.post("/bearer/token", params={"expires_in": value})
    assert r.status_code == 400
    assert "expires_in" in r.json()["detail"]


def test_unknown_bearer_subpath(client):
    assert client.get("/bearer/nope").status_code == 404


def test_auth_over_loopback_matches_in_process():
    sim = Simulator(name="test-auth-loopback").serve()
    try:
        with httpx.Client(base_url=sim.origin_url) as c:
            r = c.get("/basic-auth/u/p")
            assert r.status_code == 401 and "www-authenticate" in r.headers
            assert c.get("/basic-auth/u/p", auth=("u", "p")).status_code == 200
    finally:
        sim.stop()
