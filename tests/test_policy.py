"""The retry decision, table-driven: every status class, every method, transport errors."""

import random
from email.utils import formatdate

import httpx
import pytest

from labkit import Response
from labkit.retry import IDEMPOTENT_METHODS, Backoff, RetryPolicy, parse_retry_after

POLICY = RetryPolicy(backoff=Backoff(kind="exponential", base=1.0, cap=30.0, attempts=4),
                     max_retry_after=60.0)
METHODS = ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "POST", "PATCH"]
NOW = 1767225600.0


def decide(outcome, method="GET", **kw):
    kw.setdefault("attempt", 1)
    return POLICY.decide(outcome, method=method, rng=random.Random(0), now=NOW, **kw)


def resp(status, **headers):
    return Response(status, [(k.replace("_", "-"), v) for k, v in headers.items()])


def test_idempotent_methods_are_rfc9110s():
    assert IDEMPOTENT_METHODS == {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("status", [200, 201, 204, 206, 301, 302, 304, 308])
def test_success_and_redirects_are_final(status, method):
    d = decide(resp(status), method)
    assert (d.action, d.retry, d.delay) == ("done", False, 0.0)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses_retry_only_idempotent_methods(status, method):
    d = decide(resp(status), method)
    if method in IDEMPOTENT_METHODS:
        assert d.action == "retry" and d.delay == 1.0, d
        assert "idempotent" in d.reason
    else:
        assert d.action == "stop" and "Idempotency-Key" in d.reason, d


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("status", [429, 503])
def test_an_idempotency_key_makes_a_post_retryable(status, method):
    d = decide(resp(status), method, idempotency_key=True)
    assert d.action == "retry" and "Idempotency-Key" in d.reason


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("status", [400, 403, 404, 405, 406, 409, 410, 413, 415, 422, 431])
def test_other_client_errors_never_retry(status, method):
    for key in (False, True):
        if status == 409 and key:
            continue  # the Idempotency-Key draft's 409: see below
        d = decide(resp(status), method, idempotency_key=key)
        assert d.action == "stop" and "client error" in d.reason, d


@pytest.mark.parametrize("method", METHODS)
def test_409_is_retried_only_with_an_idempotency_key(method):
    # The draft: a retry "while the original request is still being processed" gets 409,
    # and 409 is the one error it exempts from correcting the request before a retry.
    d = decide(resp(409), method, idempotency_key=True)
    assert d.action == "retry" and d.delay == 1.0 and "Idempotency-Key" in d.reason
    assert decide(resp(409), method, idempotency_key=True, attempt=4).action == "stop"


@pytest.mark.parametrize("status", [501, 505, 507, 508])
def test_non_transient_server_errors_stop(status):
    assert decide(resp(status)).action == "stop"


@pytest.mark.parametrize("method", METHODS)
def test_511_says_sign_in_whatever_the_method(method):
    d = decide(resp(511), method)
    assert d.action == "sign-in" and not d.retry
    assert "RFC 6585 section 6" in d.reason
    again = decide(resp(511), method, attempt=2, signed_in=True)
    assert again.action == "stop" and "after signing in" in again.reason


@pytest.mark.parametrize("method", METHODS)
def test_401_refreshes_once_then_stops(method):
    d = decide(resp(401, www_authenticate='Bearer realm="labkit", error="invalid_token"'), method)
    assert d.action == "refresh" and d.retry and d.delay == 0.0
    again = decide(resp(401), method, attempt=2, refreshed=True)
    assert again.action == "stop" and "rejected" in again.reason


def test_511_and_401_do_not_spend_the_backoff_budget():
    # The 4-attempt budget is for transient failures; sign-in and refresh are not backoff.
    assert decide(resp(511), attempt=4).action == "sign-in"
    assert decide(resp(401), attempt=4).action == "refresh"


def test_the_attempt_budget_stops_retries():
    assert decide(resp(503), attempt=3).action == "retry"
    d = decide(resp(503), attempt=4)
    assert d.action == "stop" and "gave up after 4 attempts" in d.reason


def test_backoff_delay_follows_the_schedule():
    assert [decide(resp(503), attempt=n).delay for n in (1, 2, 3)] == [1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    "status, header, expected",
    [
        (429, "7", 7.0),
        (503, "0", 0.0),
        (503, " 12 ", 12.0),
        (503, "3600", 60.0),  # capped
        (503, formatdate(NOW + 30, usegmt=True), 30.0),
        (503, formatdate(NOW - 30, usegmt=True), 0.0),  # a date in the past: now
        (503, formatdate(NOW + 7200, usegmt=True), 60.0),
        (503, "soon", 1.0),  # unusable: fall back to the schedule
        (503, "-5", 1.0),
        (500, "7", 1.0),  # Retry-After is for 429 and 503 (and 3xx), not 500
    ],
)
def test_retry_after_in_both_forms_capped(status, header, expected):
    d = decide(resp(status, retry_after=header))
    assert d.action == "retry"
    assert d.delay == pytest.approx(expected)
    if header.strip() == "3600":
        assert "capped from 3600 s" in d.reason


def test_retry_after_date_is_measured_from_the_response_date_without_a_clock():
    r = resp(503, retry_after=formatdate(NOW + 20, usegmt=True), date=formatdate(NOW, usegmt=True))
    d = POLICY.decide(r, attempt=1, method="GET")
    assert d.delay == 20.0


def test_retry_after_can_be_ignored():
    policy = RetryPolicy(backoff=Backoff(kind="constant", base=2.0), respect_retry_after=False)
    assert policy.decide(resp(429, retry_after="30"), attempt=1).delay == 2.0


@pytest.mark.parametrize(
    "value, now, expected",
    [("120", None, 120.0), ("abc", NOW, None), (None, NOW, None),
     ("Thu, 01 Jan 2026 00:01:00 GMT", NOW, 60.0), ("Thu, 01 Jan 2026 00:01:00 GMT", None, None)],
)
def test_parse_retry_after(value, now, expected):
    assert parse_retry_after(value, now=now) == expected


REQUEST = httpx.Request("POST", "http://origin.test/orders")


@pytest.mark.parametrize(
    "error, method, key, action",
    [
        (httpx.ConnectError("refused", request=REQUEST), "POST", False, "retry"),  # never sent
        (httpx.ConnectTimeout("slow", request=REQUEST), "PATCH", False, "retry"),
        (httpx.ReadTimeout("silent", request=REQUEST), "POST", False, "stop"),  # maybe acted
        (httpx.ReadTimeout("silent", request=REQUEST), "GET", False, "retry"),
        (httpx.RemoteProtocolError("dropped", request=REQUEST), "POST", False, "stop"),
        (httpx.RemoteProtocolError("dropped", request=REQUEST), "POST", True, "retry"),
        (httpx.RemoteProtocolError("dropped", request=REQUEST), "PUT", False, "retry"),
        (httpx.ReadError("reset", request=REQUEST), "DELETE", False, "retry"),
        (ValueError("a bug"), "GET", False, "stop"),  # not a network failure
    ],
)
def test_transport_errors(error, method, key, action):
    d = decide(error, method, idempotency_key=key)
    assert d.action == action, d
    assert type(error).__name__ in d.reason


def test_transport_error_budget():
    error = httpx.ConnectError("refused", request=REQUEST)
    assert decide(error, attempt=4).action == "stop"


def test_httpx_responses_and_bare_codes_decide_alike():
    for status in (200, 401, 404, 429, 503, 511):
        core = decide(resp(status, retry_after="3"))
        real = decide(httpx.Response(status, headers={"Retry-After": "3"}))
        assert core == real
        assert decide(status).action == core.action


def test_bad_inputs_get_clear_errors():
    with pytest.raises(ValueError, match="numbered from 1"):
        decide(resp(503), attempt=0)
    with pytest.raises(TypeError, match="cannot decide"):
        decide("503")


def test_decorrelated_uses_the_previous_delay():
    policy = RetryPolicy(backoff=Backoff(kind="decorrelated", base=1.0, cap=100.0, attempts=9))
    d = policy.decide(resp(503), attempt=2, previous_delay=10.0, rng=random.Random(3))
    assert 1.0 <= d.delay <= 30.0


def test_captured_exchanges_decide_like_responses():
    from labkit.inspector import Exchange

    ex = Exchange.build(503, {"Retry-After": "9"})
    assert decide(ex) == decide(resp(503, retry_after="9"))
    assert decide(Exchange.build(511)).action == "sign-in"
    failed = Exchange.build(0, error="ReadTimeout: The server sent nothing (stalled).")
    assert decide(failed, "POST").action == "stop"
    assert decide(failed, "GET").action == "retry" and "ReadTimeout" in decide(failed).reason
    never_sent = Exchange.build(0, error="ConnectError: refused")
    assert decide(never_sent, "POST").action == "retry"


def test_an_exchange_recorded_by_capture():
    import labkit
    from labkit.inspector import Capture

    sim = labkit.Simulator(clock=labkit.VirtualClock(), name="test-policy-capture")
    cap = Capture()
    client = sim.client(capture=cap)
    client.get("/ratelimit?rate=0.5&burst=1&key=cap")
    client.get("/ratelimit?rate=0.5&burst=1&key=cap")
    d = decide(cap[-1])
    assert cap[-1].status == 429 and d.action == "retry" and d.delay == 2.0
