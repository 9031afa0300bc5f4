"""The retry decision: given what came back, retry or stop, after how long, and why.

The rules, in the order they are checked, each with its reason:

1. A response below 400 is final (``done``).
2. 511 (RFC 6585 section 6) comes from the network, not the origin: repeating
   the request cannot help until the user signs in to the network, so the
   decision is ``sign-in``. After a sign-in the request is retried once, whatever
   its method: the origin never saw it.
3. 401 (RFC 9110 section 15.5.2): ``refresh`` the credentials once, then retry;
   a second 401 stops.
4. A transport error: a connect error means the request never left, so any
   method may be retried; a dropped connection or a read timeout may come after
   the server acted, so only an idempotent method (RFC 9110 section 9.2.2) or a
   request with an ``Idempotency-Key`` is retried.
5. 408, 429, 500, 502, 503, 504: retried if the method is idempotent or the
   request has an ``Idempotency-Key``, while attempts remain, after the server's
   ``Retry-After`` (RFC 9110 section 10.2.3, either form; for 429 and 503, capped
   at ``max_retry_after``) or else the backoff schedule's delay.
6. Any other 4xx: the request itself is wrong; sending it again unchanged cannot
   succeed (RFC 9110 section 15.5). Any other 5xx: not a transient condition.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..core import parse_retry_after
from ._schedules import Backoff

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "Decision",
    "RetryPolicy",
]

# RFC 9110 section 9.2.2.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
# Conditions that may clear by themselves (RFC 9110 sections 15.5.9, 15.6; RFC 6585 section 4).
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Where Retry-After is meaningful for a retry (RFC 9110 section 10.2.3, RFC 6585 section 4).
RETRY_AFTER_STATUSES = frozenset({429, 503})

# Errors raised before the request was sent: nothing can have happened on the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class Decision:
    """``action`` is one of ``done``, ``retry``, ``refresh``, ``sign-in``, ``stop``."""

    action: str
    delay: float = 0.0
    reason: str = ""

    @property
    def retry(self) -> bool:
        """True when the caller should send the request again (after ``delay``)."""
        return self.action in ("retry", "refresh")


def _exchange_error(text: str | None) -> BaseException:
    # A captured Exchange keeps its error as "ClassName: message"; rebuild the
    # httpx exception so the same rules apply to a capture as to a live call.
    name, _, message = (text or "TransportError: no response").partition(": ")
    cls = getattr(httpx, name, None)
    if isinstance(cls, type) and issubclass(cls, httpx.TransportError):
        return cls(message)
    return httpx.TransportError(text or "no response")


def _status_and_headers(outcome: Any) -> tuple[int | None, Any, Any]:
    """(status, header getter, outcome-as-exception) for anything decide() accepts."""
    if isinstance(outcome, BaseException):
        return None, None, outcome
    if isinstance(outcome, int):
        return outcome, None, None
    if hasattr(outcome, "status_code"):  # httpx.Response
        return outcome.status_code, outcome.headers.get, None
    if hasattr(outcome, "response_headers") and hasattr(outcome, "status"):  # labkit.inspector.Exchange
        if not outcome.status:
            return None, None, _exchange_error(outcome.error)
        headers = {k.lower(): v for k, v in reversed(outcome.response_headers)}
        return outcome.status, lambda name: headers.get(name.lower()), None
    if hasattr(outcome, "status"):  # labkit.core.Response
        return outcome.status, outcome.header, None
    raise TypeError(f"cannot decide on {type(outcome).__name__}: pass a response, an exchange, "
                    "a status or an exception")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Which outcomes to retry and how long to wait; see the module docstring for the rules.

    ``backoff`` gives the delays and the attempt budget; ``max_retry_after``
    caps a server's ``Retry-After`` (as urllib3's ``retry_after_max`` does).
    """

    backoff: Backoff = field(default_factory=Backoff)
    retry_statuses: frozenset[int] = RETRY_STATUSES
    idempotent_methods: frozenset[str] = IDEMPOTENT_METHODS
    respect_retry_after: bool = True
    max_retry_after: float = 60.0

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
        """
        if attempt < 1:
            raise ValueError("attempts are numbered from 1")
        method = method.upper()
        status, header, error = _status_and_headers(outcome)
        safe = method in self.idempotent_methods or idempotency_key
        why_safe = (f"{method} is idempotent" if method in self.idempotent_methods
                    else "the Idempotency-Key makes it safe")
        left = attempt < self.backoff.attempts

        if status is None:
            outcome = error
            name = type(outcome).__name__
            if not isinstance(outcome, httpx.TransportError):
                return Decision("stop", 0.0, f"{name} is not a network failure; not retried")
            if isinstance(outcome, _NOT_SENT):
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
            if signed_in:
                return Decision("stop", 0.0, "511 again after signing in: the sign-in did not take")
            return Decision("sign-in", 0.0, "511: the network wants you to sign in (RFC 6585 section 6); "
                            "retrying without signing in cannot help")
        if status == 401:
            if refreshed:
                return Decision("stop", 0.0, "401 again after refreshing credentials: they are rejected")
            return Decision("refresh", 0.0, "401: refresh the credentials once, then retry "
                            "(RFC 9110 section 15.5.2)")
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

    def _backoff(self, attempt: int, previous: float | None, rng: random.Random | None) -> float:
        return self.backoff.delay(attempt - 1, rng or random.Random(0), previous)
