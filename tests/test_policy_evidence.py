"""The decisions that depend on who answered: 511 from the network or from an origin,
a CONNECT refused with 511 (HTTPS through the captive gateway), and 407 with or without
proxy credentials."""

import random

import httpx
import pytest

from labkit import Exchange, Response, Simulator, VirtualClock
from labkit.labs import inspect_handler, seed_page_app
from labkit.retry import Backoff, RetryPolicy, refused_connect, run

POLICY = RetryPolicy(backoff=Backoff(kind="exponential", base=1.0, cap=30.0, attempts=4))
GUEST = ("guest", "letmein")  # the gateway's documented test credentials
METHODS = ["GET", "PUT", "POST", "PATCH"]


def decide(outcome, method="GET", policy=POLICY, **kw):
    kw.setdefault("attempt", 1)
    return policy.decide(outcome, method=method, rng=random.Random(0), **kw)


@pytest.fixture
def sim():
    return Simulator(clock=VirtualClock(), name="test-policy-evidence")


# -- HTTPS through the captive gateway: the CONNECT is refused with 511 ------------------

@pytest.mark.parametrize("method", METHODS)
def test_a_connect_refused_with_511_means_sign_in_whatever_the_method(method):
    error = httpx.ProxyError("511 Network Authentication Required")
    assert refused_connect(error) == 511
    d = decide(error, method)
    assert d.action == "sign-in", d
    assert "CONNECT" in d.reason and "RFC 6585 section 6" in d.reason and "never left" in d.reason
    again = decide(error, method, attempt=2, signed_in=True)
    assert again.action == "stop" and "did not take" in again.reason


def test_a_captured_refused_connect_decides_alike():
    ex = Exchange(method="POST", url="https://news.test/orders", status=0,
                  error="ProxyError: 511 Network Authentication Required")
    assert decide(ex, "POST").action == "sign-in"


def test_https_through_the_loopback_gateway_asks_to_sign_in(sim):
    with sim, sim.proxy_client(device="127.0.0.61") as client:
        for method in ("GET", "POST"):
            r = run(client, method, "https://news.test/orders?key=tls", policy=POLICY, clock=sim.clock)
            assert isinstance(r.error, httpx.ProxyError) and "511" in str(r.error)
            assert (r.decision, len(r.attempts), r.status) == ("sign-in", 1, "ProxyError"), r.timeline


@pytest.mark.parametrize(("message", "method", "action"), [
    ("502 Bad Gateway", "POST", "retry"),         # refused tunnel: nothing was sent, any method
    ("403 Forbidden", "GET", "stop"),             # not transient
    ("407 Proxy Authentication Required", "GET", "stop"),  # credentials belong in the proxy URL
    ("Unable to connect to proxy", "GET", "retry"),   # no status: an ordinary network failure
    ("Unable to connect to proxy", "POST", "stop"),
])
def test_other_proxy_errors(message, method, action):
    d = decide(httpx.ProxyError(message), method)
    assert d.action == action, d
    if message.startswith("407"):
        assert "proxy URL" in d.reason


# -- 511 from an origin: stop -----------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_an_origin_sent_511_stops(sim, method):
    r = run(sim.client(), method, "/status/511", policy=POLICY, clock=sim.clock, json={"sku": "lamp"})
    assert (r.decision, len(r.attempts)) == ("stop", 1), r.timeline
    reason = r.attempts[0].reason
    assert "from the origin" in reason and "Server: labkit-origin" in reason
    assert "X-Request-Id" in reason and "SHOULD NOT" in reason


def test_an_origin_sent_511_on_a_post_stops_even_through_the_gateway(sim):
    sim.gateway.portal.sign_in("127.0.0.9", *GUEST)
    phone = sim.client(device="127.0.0.9", gateway=True)
    r = run(phone, "POST", "http://shop.test/status/511", json={"sku": "lamp"}, policy=POLICY,
            clock=sim.clock, sign_in=lambda: pytest.fail("an origin's 511 must not lead to a sign-in"))
    assert (r.decision, len(r.attempts)) == ("stop", 1), r.timeline


def test_the_seed_page_handler_511_fools_the_client_as_it_would_any_client():
    # FastAPI behind uvicorn: portals run such software too, so "Server: uvicorn"
    # is no positive evidence of an origin, and the code itself says "network"
    # (RFC 6585 section 6.1). That is the seed page's harm: its 511 sends a
    # client off to sign in to a network that never asked for it.
    d = decide(inspect_handler(seed_page_app, method="POST"), "POST")
    assert d.action == "sign-in" and "from the network" in d.reason


def test_a_511_the_network_answered_signs_in_and_then_resends_a_post(sim):
    phone = sim.client(device="127.0.0.10", gateway=True)
    r = run(phone, "POST", "http://shop.test/orders?key=net", json={"sku": "lamp"}, policy=POLICY,
            clock=sim.clock, sign_in=lambda: sim.gateway.portal.sign_in("127.0.0.10", *GUEST))
    assert [a.decision for a in r.attempts] == ["sign-in", "done"] and r.ok
    assert "Server: labkit-gateway" in r.attempts[0].reason
    assert sim.client().get("/orders?key=net").json()["count"] == 1


def test_a_511_without_evidence_is_taken_at_its_word():
    for outcome in (511, Response(511, [("content-type", "text/html")])):
        d = decide(outcome, "POST")
        assert d.action == "sign-in" and "from the network" in d.reason


def test_a_cached_511_after_signing_in_blames_the_cache():
    ex = Exchange.build(511, [("server", "labkit-gateway"), ("age", "30")])
    assert decide(ex).action == "sign-in"
    d = decide(ex, attempt=2, signed_in=True)
    assert d.action == "stop" and "cache" in d.reason and "MUST NOT be stored" in d.reason


# -- 407: Proxy-Authorization when credentials are at hand ------------------------------

def _proxy_auth(sim, device):
    sim.gateway.mode = "proxy-auth"
    return sim.client(device=device, gateway=True)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_407_with_credentials_retries_with_proxy_authorization(sim, method):
    client = _proxy_auth(sim, "127.0.0.11")
    policy = RetryPolicy(backoff=POLICY.backoff, proxy_credentials=GUEST)
    r = run(client, method, "http://news.test/orders?key=p", json={"sku": "lamp"}, policy=policy,
            clock=sim.clock)
    assert [(a.status, a.decision) for a in r.attempts] == [(407, "retry"), (201 if method == "POST"
                                                             else 200, "done")], r.timeline
    assert "Proxy-Authorization" in r.attempts[0].reason and r.attempts[0].delay == 0
    assert r.response.request.headers["proxy-authorization"].startswith("Basic ")
    assert "letmein" not in repr(policy) and "Basic" not in repr(policy.decide(407, attempt=1))


def test_407_without_credentials_stops(sim):
    r = run(_proxy_auth(sim, "127.0.0.12"), "GET", "http://news.test/status/200", policy=POLICY,
            clock=sim.clock)
    assert (r.decision, len(r.attempts)) == ("stop", 1)
    assert "Proxy-Authenticate: Basic" in r.attempts[0].reason and "proxy_credentials" in r.attempts[0].reason


def test_407_with_wrong_credentials_stops_after_one_try(sim):
    policy = RetryPolicy(backoff=POLICY.backoff, proxy_credentials=("guest", "wrong"))
    r = run(_proxy_auth(sim, "127.0.0.13"), "GET", "http://news.test/status/200", policy=policy,
            clock=sim.clock)
    assert [a.decision for a in r.attempts] == ["retry", "stop"]
    assert "rejects those credentials" in r.attempts[-1].reason


def test_407_decisions_from_bare_statuses():
    assert decide(407).action == "stop"
    with_creds = RetryPolicy(backoff=POLICY.backoff, proxy_credentials=GUEST)
    d = decide(407, "POST", policy=with_creds)
    assert d.action == "retry" and dict(d.headers)["Proxy-Authorization"] == "Basic Z3Vlc3Q6bGV0bWVpbg=="
    assert decide(407, policy=with_creds, attempt=4).action == "stop"  # the budget still binds


def test_an_origin_sent_407_is_not_answered_with_proxy_credentials():
    with_creds = RetryPolicy(backoff=POLICY.backoff, proxy_credentials=GUEST)
    ex = Exchange.build(407, [("server", "labkit-origin"), ("x-request-id", "r1")])
    d = decide(ex, policy=with_creds)
    assert d.action == "stop" and "from the origin" in d.reason
