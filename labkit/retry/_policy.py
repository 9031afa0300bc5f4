"""The retry decision: given what came back, retry or stop, after how long, and why.

The rules, in the order they are checked, each with its reason:

1. A response below 400 is final (``done``).
2. 511 (RFC 6585 section 6): who sent it decides, by the evidence
   :func:`labkit.inspector.attribute` weighs. A 511 the network answered (the
   gateway's ``Server``, or nothing that names an origin: the RFC reserves the
   code for intercepting proxies) means the origin never saw the request:
   ``sign-in``, and after the sign-in the request is sent again once, whatever
   its method. A proxy that refuses an HTTPS tunnel answers the ``CONNECT``
   with 511, which httpx raises as ``httpx.ProxyError`` ("511 Network
   Authentication Required"): the same ``sign-in``, and the request never left
   the client. A 511 an origin generated (its ``Server``, an ``X-Request-Id``)
   is a server misreporting its own failure, which RFC 6585 says origin
   servers SHOULD NOT do: the origin saw the request and may have acted, and no
   sign-in can fix it, so ``stop``.
3. 407 (RFC 9110 section 15.5.8): the proxy wants ``Proxy-Authorization``
   (section 11.7.2). With ``proxy_credentials`` at hand, ``retry`` at once with
   that header (``Decision.headers``), whatever the method: the proxy refused
   before forwarding. Without them, or when they were already sent, ``stop``.
   A refused ``CONNECT`` (407) stops too: the tunnel's credentials go in the
   proxy URL, since a request header never reaches the ``CONNECT``.
4. 401 (RFC 9110 section 15.5.2): ``refresh`` the credentials once, then retry;
   a second 401 stops.
5. A transport error: a connect error means the request never left, so any
   method may be retried; a dropped connection or a read timeout may come after
   the server acted, so only an idempotent method (RFC 9110 section 9.2.2) or a
   request with an ``Idempotency-Key`` is retried.
6. 408, 429, 500, 502, 503, 504: retried if the method is idempotent or the
   request has an ``Idempotency-Key``, while attempts remain, after the server's
   ``Retry-After`` (RFC 9110 section 10.2.3, either form; for 429 and 503, capped
   at ``max_retry_after``) or else the backoff schedule's delay. 409 on a request
   with an ``Idempotency-Key`` too: the Idempotency-Key draft has a resource
   answer 409 "If the request is retried, while the original request is still
   being processed", and asks no correction before retrying it.
7. Any other 4xx: the request itself is wrong; sending it again unchanged cannot
   succeed (RFC 9110 section 15.5). Any other 5xx: not a transient condition.

RFC 9110 section 9.2.2 ends: "A proxy MUST NOT automatically retry
non-idempotent requests. A client SHOULD NOT automatically retry a failed
automatic retry." How this policy stands to it: each call has one budget,
``backoff.attempts`` requests in all, and one loop spends it (``run``,
``arun``, or tenacity driven by this decision with ``stop_never``); the lab's
transports retry nothing by themselves, so no retry ever wraps another. Within
the budget the policy does retry a failed automatic retry, for conditions that
clear by themselves: a deliberate, bounded departure from that SHOULD NOT, as
urllib3's ``Retry`` and httpx-retries make with their default totals. ``Backoff(attempts=2)`` is the
literal reading: one automatic retry, never a retry of a failed one. Signing in
and refreshing are not blind repeats (each follows a change the request lacked)
and happen at most once per call.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from ..core import basic_header, parse_retry_after
from ..inspector import Attribution, Exchange, attribute
from ._schedules import Backoff

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "Decision",
    "RetryPolicy",
    "refused_connect",
]

# RFC 9110 section 9.2.2.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
# Conditions that may clear by themselves (RFC 9110 sections 15.5.9, 15.6; RFC 6585 section 4).
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Where Retry-After is meaningful for a retry (RFC 9110 section 10.2.3, RFC 6585 section 4).
RETRY_AFTER_STATUSES = frozenset({429, 503})

# Errors raised before the request was sent: nothing can have happened on the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# When a proxy answers CONNECT with anything but 2xx, httpcore raises ProxyError
# with the message "<status> <reason phrase>" (httpcore/_sync/http_proxy.py) and
# httpx re-raises it as httpx.ProxyError with the same message. That message is
# the only public trace of the proxy's answer, so the status is read from it.
_CONNECT_STATUS = re.compile(r"\s*([1-5][0-9]{2})(?:\s|$)")


@dataclass(frozen=True, slots=True)
class Decision:
    """``action`` is one of ``done``, ``retry``, ``refresh``, ``sign-in``, ``stop``.

    ``headers``: fields to add to the next attempt (the ``Proxy-Authorization``
    a 407 asks for); left out of the repr, since they hold credentials.
    """

    action: str
    delay: float = 0.0
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def retry(self) -> bool:
        """True when the caller should send the request again (after ``delay``)."""
        return self.action in ("retry", "refresh")


def refused_connect(error: BaseException) -> int | None:
    """The status a proxy refused an HTTPS tunnel (``CONNECT``) with, or None.

    Read from the message of the ``httpx.ProxyError`` httpx raises then, e.g.
    ``"511 Network Authentication Required"``.
    """
    if isinstance(error, httpx.ProxyError):
        m = _CONNECT_STATUS.match(str(error))
        if m:
            return int(m.group(1))
    return None


def _exchange_error(text: str | None) -> BaseException:
    # A captured Exchange keeps its error as "ClassName: message"; rebuild the
    # httpx exception so the same rules apply to a capture as to a live call.
    name, _, message = (text or "TransportError: no response").partition(": ")
    cls = getattr(httpx, name, None)
    if isinstance(cls, type) and issubclass(cls, httpx.TransportError):
        return cls(message)
    return httpx.TransportError(text or "no response")


@dataclass(frozen=True, slots=True)
class _Seen:
    """What decide() can read from an outcome: the status (None: no response),
    response and request header getters, the error, and the evidence for
    attribution (an Exchange, built only when a rule asks for it)."""

    status: int | None
    header: Callable[[str], str | None] | None = None
    error: BaseException | None = None
    request_header: Callable[[str], str | None] | None = None
    exchange: Callable[[], Exchange] | None = None

    def who(self) -> Attribution | None:
        """Who generated the response, as the Inspector judges it; None for a bare status."""
        return attribute(self.exchange()) if self.exchange is not None else None


def _brief(who: Attribution) -> str:
    """The attribution's evidence without its explanations: "Server: labkit-origin; X-Request-Id present"."""
    return "; ".join(e.split(" (", 1)[0] for e in who.evidence)


def _httpx_request(response: httpx.Response) -> httpx.Request | None:
    try:
        return response.request
    except RuntimeError:  # a Response built by hand has no request
        return None


def _read(outcome: Any) -> _Seen:
    """Anything decide() accepts, as a :class:`_Seen`."""
    if isinstance(outcome, BaseException):
        return _Seen(None, error=outcome)
    if isinstance(outcome, int):
        return _Seen(outcome)
    if isinstance(outcome, httpx.Response):
        request = _httpx_request(outcome)
        caching = outcome.extensions.get("caching")  # hishel's CacheStatus, as Capture records it

        def exchange(r: httpx.Response = outcome) -> Exchange:
            cache = {k: bool(v) for k, v in dict(caching).items()} if caching is not None else None
            return Exchange.build(r.status_code, list(r.headers.multi_items()), cache=cache)

        return _Seen(outcome.status_code, outcome.headers.get, None,
                     request.headers.get if request is not None else None, exchange)
    if isinstance(outcome, Exchange):
        if not outcome.status:
            return _Seen(None, error=_exchange_error(outcome.error))
        return _Seen(outcome.status, outcome.header, None, outcome.request_header,
                     lambda ex=outcome: ex)
    if hasattr(outcome, "status") and hasattr(outcome, "header"):  # labkit.core.Response
        return _Seen(outcome.status, outcome.header, None, None,
                     lambda r=outcome: Exchange.build(r.status, list(r.headers)))
    raise TypeError(f"cannot decide on {type(outcome).__name__}: pass a response, an exchange, "
                    "a status or an exception")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Which outcomes to retry and how long to wait; see the module docstring for the rules.

    ``backoff`` gives the delays and the attempt budget; ``max_retry_after``
    caps a server's ``Retry-After`` (as urllib3's ``retry_after_max`` does).
    ``proxy_credentials``: ``(user, password)`` for a proxy that answers 407,
    sent as ``Proxy-Authorization: Basic ...`` (RFC 7617); None: stop on 407.
    """

    backoff: Backoff = field(default_factory=Backoff)
    retry_statuses: frozenset[int] = RETRY_STATUSES
    idempotent_methods: frozenset[str] = IDEMPOTENT_METHODS
    respect_retry_after: bool = True
    max_retry_after: float = 60.0
    proxy_credentials: tuple[str, str] | None = field(default=None, repr=False)

    def decide(
        self,
        outcome: Any,
        *,
        attempt: int,
        method: str = "GET",
        idempotency_key: bool = False,
        previous_delay: float | None = None,
        refreshed: bool = False,
        signed_in: bool = False,
        now: float | None = None,
        rng: random.Random | None = None,
    ) -> Decision:
        """Decide after attempt number ``attempt`` (1 for the first request) ended in
        ``outcome``: an ``httpx.Response``, a captured ``labkit.inspector.Exchange``, a
        ``labkit.core.Response``, a bare status code, or the exception the client raised.

        ``refreshed`` / ``signed_in``: whether credentials were already refreshed or
        the user already signed in during this call. ``now``: the clock's time, for
        an HTTP-date ``Retry-After``. ``rng``: the randomness of jittered schedules.
        A bare status carries no evidence of who sent it: a bare 511 is taken at
        its word, as the network's.
        """
        if attempt < 1:
            raise ValueError("attempts are numbered from 1")
        method = method.upper()
        seen = _read(outcome)
        status, header = seen.status, seen.header
        safe = method in self.idempotent_methods or idempotency_key
        why_safe = (f"{method} is idempotent" if method in self.idempotent_methods
                    else "the Idempotency-Key makes it safe")
        left = attempt < self.backoff.attempts

        if status is None:
            error = seen.error
            name = type(error).__name__
            if not isinstance(error, httpx.TransportError):
                return Decision("stop", 0.0, f"{name} is not a network failure; not retried")
            refused = refused_connect(error)
            if refused is not None:
                return self._refused_tunnel(refused, f"{name}: {error}", attempt, left, signed_in,
                                            previous_delay, rng)
            if isinstance(error, _NOT_SENT):
                why_safe = "the request never left (connect failed), so any method is safe"
            elif not safe:
                return Decision("stop", 0.0, f"{name}: the server may have acted, and {method} "
                                "is not idempotent (RFC 9110 section 9.2.2); send an Idempotency-Key")
            if not left:
                return Decision("stop", 0.0, f"{name}; gave up after {attempt} attempts")
            delay = self._backoff(attempt, previous_delay, rng)
            return Decision("retry", delay, f"{name}: {why_safe}; backoff {delay:.3f} s")

        if status < 400:
            return Decision("done", 0.0, f"{status}: final response")
        if status == 511:
            return self._network_auth(seen, signed_in)
        if status == 407:
            return self._proxy_auth(seen, left, attempt)
        if status == 401:
            if refreshed:
                return Decision("stop", 0.0, "401 again after refreshing credentials: they are rejected")
            return Decision("refresh", 0.0, "401: refresh the credentials once, then retry "
                            "(RFC 9110 section 15.5.2)")
        if status == 409 and idempotency_key:
            if not left:
                return Decision("stop", 0.0, f"409; gave up after {attempt} attempts")
            delay = self._backoff(attempt, previous_delay, rng)
            return Decision("retry", delay, "409 with an Idempotency-Key: the first request may "
                            "still be in progress (the draft's 409, retried unchanged); "
                            f"backoff {delay:.3f} s")
        if status in self.retry_statuses:
            if not safe:
                return Decision("stop", 0.0, f"{status}, but {method} is not idempotent "
                                "(RFC 9110 section 9.2.2); send an Idempotency-Key to retry it")
            if not left:
                return Decision("stop", 0.0, f"{status}; gave up after {attempt} attempts")
            wait = None
            if self.respect_retry_after and status in RETRY_AFTER_STATUSES and header is not None:
                raw = header("retry-after")
                # The Date header is needed only for an HTTP-date read without a clock.
                date = header("date") if raw is not None and now is None else None
                wait = parse_retry_after(raw, now=now, date=date)
                if wait is not None:
                    capped = min(wait, self.max_retry_after)
                    note = f" (capped from {wait:g} s)" if capped < wait else ""
                    return Decision("retry", capped, f"{status}: {why_safe}; Retry-After: {raw} "
                                    f"-> {capped:g} s{note}")
            delay = self._backoff(attempt, previous_delay, rng)
            return Decision("retry", delay, f"{status}: {why_safe}; backoff {delay:.3f} s")
        if status < 500:
            return Decision("stop", 0.0, f"{status}: a client error; the same request will fail "
                            "the same way (RFC 9110 section 15.5)")
        return Decision("stop", 0.0, f"{status}: not a transient server condition; not retried")

    # -- the rules that need more than the status --------------------------------

    def _network_auth(self, seen: _Seen, signed_in: bool) -> Decision:
        """511: sign in when the network answered; stop when an origin sent it."""
        who = seen.who()
        if who is not None and who.generated_by == "origin":
            return Decision("stop", 0.0, f"511 from the origin ({_brief(who)}): RFC 6585 section 6 "
                            "says origin servers SHOULD NOT send it; the origin saw the request and "
                            "may have acted, and no sign-in fixes a server: stop")
        if signed_in:
            if who is not None and who.answered_by == "cache":
                return Decision("stop", 0.0, f"511 again after signing in, from a cache "
                                f"({_brief(who)}): a stored 511 outlives the sign-in "
                                "(RFC 6585 section 6: it MUST NOT be stored)")
            return Decision("stop", 0.0, "511 again after signing in: the sign-in did not take")
        if who is not None and who.generated_by == "gateway":
            evidence = _brief(who)
        else:
            evidence = "nothing names an origin; RFC 6585 section 6 reserves 511 for the network"
        return Decision("sign-in", 0.0, f"511 from the network ({evidence}): sign in first "
                        "(RFC 6585 section 6); the origin never saw the request, so afterwards "
                        "any method may be sent again")

    def _proxy_auth(self, seen: _Seen, left: bool, attempt: int) -> Decision:
        """407: send Proxy-Authorization once when credentials are at hand, else stop."""
        who = seen.who()
        if who is not None and who.generated_by == "origin" and who.answered_by == "origin":
            return Decision("stop", 0.0, f"407 from the origin ({_brief(who)}): only a proxy the "
                            "client talks to asks for Proxy-Authorization (RFC 9110 section "
                            "15.5.8); not retried")
        challenge = seen.header("proxy-authenticate") if seen.header is not None else None
        asked = f" (Proxy-Authenticate: {challenge})" if challenge else ""
        sent = seen.request_header is not None and seen.request_header("proxy-authorization")
        if sent:
            return Decision("stop", 0.0, "407 although Proxy-Authorization was sent: the proxy "
                            "rejects those credentials (RFC 9110 section 15.5.8)")
        if self.proxy_credentials is None:
            return Decision("stop", 0.0, f"407: the proxy wants credentials{asked}, and none are "
                            "at hand (RetryPolicy(proxy_credentials=...)): stop")
        if not left:
            return Decision("stop", 0.0, f"407; gave up after {attempt} attempts")
        return Decision("retry", 0.0, f"407: the proxy wants credentials{asked}: retry with "
                        "Proxy-Authorization (RFC 9110 sections 15.5.8, 11.7.2); the proxy refused "
                        "before forwarding, so any method is safe",
                        headers=(("Proxy-Authorization", basic_header(*self.proxy_credentials)),))

    def _refused_tunnel(self, status: int, what: str, attempt: int, left: bool, signed_in: bool,
                        previous_delay: float | None, rng: random.Random | None) -> Decision:
        """The proxy answered CONNECT with ``status``: nothing entered the tunnel."""
        if status == 511:
            if signed_in:
                return Decision("stop", 0.0, f"{what}: the proxy still refuses the tunnel after "
                                "signing in: the sign-in did not take")
            return Decision("sign-in", 0.0, f"{what}: the proxy refused the CONNECT tunnel with 511, "
                            "so the network answered (RFC 6585 section 6) and the request never "
                            "left the client: sign in, then any method may be sent again")
        if status == 407:
            return Decision("stop", 0.0, f"{what}: the proxy wants credentials on the CONNECT "
                            "itself (RFC 9110 section 15.5.8), which httpx builds from the proxy "
                            "URL (http://user:password@host:port); a request header never reaches "
                            "it: stop")
        if status in self.retry_statuses:
            if not left:
                return Decision("stop", 0.0, f"{what}; gave up after {attempt} attempts")
            delay = self._backoff(attempt, previous_delay, rng)
            return Decision("retry", delay, f"{what}: the proxy refused the tunnel, so the request "
                            f"never left and any method is safe; backoff {delay:.3f} s")
        return Decision("stop", 0.0, f"{what}: the proxy refused the tunnel with {status}; "
                        "not a transient condition")

    def _backoff(self, attempt: int, previous: float | None, rng: random.Random | None) -> float:
        return self.backoff.delay(attempt - 1, rng or random.Random(0), previous)
