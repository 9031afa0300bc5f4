"""Drive an httpx client under a :class:`RetryPolicy` and record what happened.

All waiting goes through the injected clock: with a ``VirtualClock`` a minute
of backoff takes microseconds, and the timeline still shows the minute.
"""

from __future__ import annotations

import inspect
import random
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import httpx

from ..core import Clock, RealClock, parse_sf_string, sf_string
from ._policy import Decision, RetryPolicy

__all__ = ["Attempt", "RetryResult", "arun", "run"]

COLUMNS = ("attempt", "time", "status", "delay", "decision", "reason")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One row of a timeline: when attempt ``attempt`` was sent (seconds since the
    first), what came back (a status code or the error's name), and what was decided."""

    attempt: int
    time: float
    status: int | str
    delay: float
    decision: str
    reason: str


@dataclass(slots=True)
class RetryResult:
    """The outcome of one retried call: every attempt, and the last response or error.

    ``idempotency_key`` is the key itself; on the wire it went as a Structured
    Field String (``Idempotency-Key: "..."``).
    """

    attempts: list[Attempt]
    response: httpx.Response | None = None
    error: BaseException | None = None
    idempotency_key: str | None = None

    @property
    def ok(self) -> bool:
        return self.response is not None and self.response.status_code < 400

    @property
    def decision(self) -> str:
        """The last decision: ``done``, ``stop`` or ``sign-in`` (sign in, then call again)."""
        return self.attempts[-1].decision

    @property
    def status(self) -> int | str:
        return self.attempts[-1].status

    @property
    def elapsed(self) -> float:
        """Clock seconds from the first request to the last."""
        return self.attempts[-1].time

    @property
    def timeline(self):
        """The attempts as a pandas DataFrame (columns: attempt, time, status, delay,
        decision, reason)."""
        import pandas as pd

        return pd.DataFrame([[getattr(a, c) for c in COLUMNS] for a in self.attempts],
                            columns=list(COLUMNS)).set_index("attempt")

    def __repr__(self) -> str:
        return (f"<RetryResult {self.decision} status={self.status} attempts={len(self.attempts)} "
                f"elapsed={self.elapsed:.3f}s>")


class _FunctionPolicy:
    """A plain function ``(outcome, *, attempt, method, ...) -> Decision`` used as a policy."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def decide(self, outcome: Any, **kwargs: Any) -> Decision:
        d = self.fn(outcome, **kwargs)
        if isinstance(d, tuple):
            d = Decision(*d)
        if not isinstance(d, Decision):
            raise TypeError(f"a policy must return a Decision or (action, delay, reason), not {d!r}")
        return d


def as_policy(policy: Any) -> Any:
    """``policy`` itself if it has ``decide``, a function wrapped, None for the default."""
    if policy is None:
        return RetryPolicy()
    if hasattr(policy, "decide"):
        return policy
    if callable(policy):
        return _FunctionPolicy(policy)
    raise TypeError(f"a policy needs a decide() method or must be a function, not {policy!r}")


class _Call:
    """The state of one retried call, shared by the runner and the tenacity adapter
    so that both make the same decisions in the same order."""

    def __init__(self, *, policy: Any, clock: Clock | None, seed: int | None,
                 method: str, headers: Any, idempotency_key: bool | str | None,
                 sign_in: Callable | None, refresh: Callable | None) -> None:
        self.policy = as_policy(policy)
        self.clock = clock or RealClock()
        self.rng = random.Random(seed)
        self.method = method.upper()
        self.headers = httpx.Headers(headers)
        if idempotency_key is True:
            # The draft: "It is RECOMMENDED that a UUID [RFC4122] or a similar random
            # identifier be used". A version 4 UUID from the seeded generator, so a
            # replayed experiment sends the same key.
            idempotency_key = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        elif idempotency_key:
            # Already serialized ('"k"')? Then the key is what the quotes hold.
            idempotency_key = parse_sf_string(idempotency_key) or idempotency_key
        if idempotency_key:
            # The draft: "Idempotency-Key is an Item Structured Header [RFC8941]. Its
            # value MUST be a String (Section 3.3.3 of [RFC8941])": in double quotes.
            self.headers["Idempotency-Key"] = sf_string(idempotency_key)
        self.key = idempotency_key or None
        self.sign_in, self.refresh = sign_in, refresh
        self.t0 = self.clock.time()
        self.sent_at = 0.0
        self.attempt = 0
        self.rows: list[Attempt] = []
        self.previous: float | None = None
        self.refreshed = self.signed_in = False
        self.last = Decision("stop")

    def begin(self) -> None:
        self.attempt += 1
        self.sent_at = self.clock.time() - self.t0

    def decide(self, outcome: Any) -> Decision:
        """Ask the policy, then settle what this caller can actually do."""
        d = self.policy.decide(
            outcome, attempt=self.attempt, method=self.method,
            idempotency_key=self.key is not None, previous_delay=self.previous,
            refreshed=self.refreshed, signed_in=self.signed_in,
            now=self.clock.time(), rng=self.rng)
        if d.action == "sign-in" and self.sign_in is None:
            d = Decision("sign-in", 0.0, d.reason + "; no sign_in given: sign in and call again")
        elif d.action == "refresh" and self.refresh is None:
            d = Decision("stop", 0.0, d.reason + "; but no refresh given: stop")
        if d.action == "retry":
            self.previous = d.delay
            if d.headers:
                self.headers.update(dict(d.headers))  # e.g. the Proxy-Authorization a 407 asked for
        status = outcome.status_code if isinstance(outcome, httpx.Response) else type(outcome).__name__
        self.rows.append(Attempt(self.attempt, round(self.sent_at, 6), status, round(d.delay, 6),
                                 d.action, d.reason))
        self.last = d
        return d

    @property
    def again(self) -> bool:
        """Whether the last decision sends the request again."""
        d = self.last
        return d.action in ("retry", "refresh") or (d.action == "sign-in" and self.sign_in is not None)

    def _take(self, result: Any) -> None:
        if self.last.action == "refresh":
            self.refreshed = True
            if isinstance(result, Mapping):
                self.headers.update(result)  # new credentials for the next attempt
        elif self.last.action == "sign-in":
            self.signed_in = True

    def act(self) -> None:
        """Run the sign-in or refresh the last decision asked for (sync callbacks)."""
        callback = {"refresh": self.refresh, "sign-in": self.sign_in}.get(self.last.action)
        if callback is not None:
            self._take(callback())

    async def aact(self) -> None:
        callback = {"refresh": self.refresh, "sign-in": self.sign_in}.get(self.last.action)
        if callback is not None:
            result = callback()
            if inspect.isawaitable(result):
                result = await result
            self._take(result)

    def result(self, outcome: Any) -> RetryResult:
        if isinstance(outcome, BaseException):
            return RetryResult(self.rows, None, outcome, self.key)
        return RetryResult(self.rows, outcome, None, self.key)


def run(client: httpx.Client, method: str, url: str, *, policy: Any = None,
        clock: Clock | None = None, seed: int | None = 0, sign_in: Callable | None = None,
        refresh: Callable | None = None, idempotency_key: bool | str | None = None,
        headers: Any = None, **kwargs: Any) -> RetryResult:
    """Send ``method url`` with ``client`` and retry it as ``policy`` decides.

    ``policy`` is a :class:`RetryPolicy` (the default), any object with the same
    ``decide`` method, or a plain function with ``decide``'s signature.

    Waits with ``clock.sleep`` (pass the simulator's ``VirtualClock`` and nothing
    really sleeps). ``sign_in()`` is called on a 511 and ``refresh()`` on a first
    401; ``refresh`` may return headers (new credentials) for the next attempts.
    ``idempotency_key=True`` sends a generated key (a UUID) on every attempt, a
    string sends that key; either goes as a Structured Field String,
    ``Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"``.
    Transport errors are recorded, not raised: see ``result.error``.
    """
    call = _Call(policy=policy, clock=clock, seed=seed, method=method, headers=headers,
                 idempotency_key=idempotency_key, sign_in=sign_in, refresh=refresh)
    while True:
        call.begin()
        try:
            outcome: Any = client.request(method, url, headers=call.headers, **kwargs)
        except httpx.TransportError as exc:
            outcome = exc
        call.decide(outcome)
        if not call.again:
            return call.result(outcome)
        call.act()
        call.clock.sleep(call.last.delay)


async def arun(client: httpx.AsyncClient, method: str, url: str, *,
               policy: Any = None, clock: Clock | None = None,
               seed: int | None = 0, sign_in: Callable | None = None,
               refresh: Callable | None = None, idempotency_key: bool | str | None = None,
               headers: Any = None, **kwargs: Any) -> RetryResult:
    """The async form of :func:`run` (callbacks may be sync or async)."""
    call = _Call(policy=policy, clock=clock, seed=seed, method=method, headers=headers,
                 idempotency_key=idempotency_key, sign_in=sign_in, refresh=refresh)
    while True:
        call.begin()
        try:
            outcome: Any = await client.request(method, url, headers=call.headers, **kwargs)
        except httpx.TransportError as exc:
            outcome = exc
        call.decide(outcome)
        if not call.again:
            return call.result(outcome)
        await call.aact()
        await call.clock.asleep(call.last.delay)
