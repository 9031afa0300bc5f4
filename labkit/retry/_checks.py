"""Self-checks for a retry policy: run it against every retry endpoint and say what it got wrong.

Used by the exercises of ``notebooks/03-retry-and-backoff.ipynb``. A policy is
anything with a ``decide(outcome, *, attempt, method, idempotency_key, ...)``
method returning a :class:`Decision` (like :class:`RetryPolicy`), or a plain
function with that signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..core import VirtualClock
from ._experiments import _expired_token as expired_token
from ._runner import RetryResult, as_policy, run

__all__ = ["Check", "check_policy"]

GUEST = ("guest", "letmein")  # the gateway portal's documented test credentials
DEVICE = "127.0.0.9"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    detail: str


def check_policy(policy: Any, *, seed: int = 0):
    """Run ``policy`` against the lab's endpoints; a DataFrame of checks (name, passed, detail).

    Every check uses a fresh simulator on a VirtualClock: nothing really waits.
    """
    import pandas as pd

    from .._simulator import Simulator

    policy = as_policy(policy)

    def attempt(method: str, url: str, *, gateway: bool = False, setup: Callable | None = None,
                **kwargs: Any):
        sim = Simulator(clock=VirtualClock(), name="policy-check")
        client = sim.client(device=DEVICE, gateway=gateway)
        if setup is not None:
            kwargs.update(setup(sim, client))
        if gateway:
            kwargs.setdefault("sign_in", lambda: sim.gateway.portal.sign_in(DEVICE, *GUEST))
        try:
            result = run(client, method, url, policy=policy, clock=sim.clock, seed=seed, **kwargs)
        except Exception as exc:  # a broken policy is a failed check, not a crash
            return sim, None, f"{type(exc).__name__}: {exc}"
        return sim, result, ""

    def summary(r: RetryResult) -> str:
        return " -> ".join(f"{a.status}@{a.time:g}s:{a.decision}" for a in r.attempts)

    checks: list[Check] = []

    def check(name: str, method: str, url: str, verdict: Callable[[Any, RetryResult], str | None],
              **kwargs: Any) -> None:
        sim, r, error = attempt(method, url, **kwargs)
        if r is None:
            checks.append(Check(name, False, error))
            return
        problem = verdict(sim, r)
        checks.append(Check(name, problem is None, problem or summary(r)))

    def succeeds_within(n: int):
        def verdict(sim, r):
            if not r.ok:
                return f"did not succeed: {summary(r)}"
            if len(r.attempts) > n:
                return f"needed {len(r.attempts)} attempts (at most {n}): {summary(r)}"
            return None
        return verdict

    def single_attempt(sim, r):
        return None if len(r.attempts) == 1 else f"retried a request that cannot succeed: {summary(r)}"

    def waits_for_retry_after(seconds: float):
        def verdict(sim, r):
            if not r.ok:
                return f"did not succeed: {summary(r)}"
            early = [a for a in r.attempts[1:] if a.time < seconds]
            if early:
                return f"came back before Retry-After ({seconds:g} s): {summary(r)}"
            return None if len(r.attempts) <= 3 else f"too many attempts: {summary(r)}"
        return verdict

    def gives_up_and_backs_off(sim, r):
        if len(r.attempts) > 10:
            return f"{len(r.attempts)} attempts against a server that keeps failing (at most 10)"
        if r.elapsed <= 0:
            return "retried without waiting at all: that is hammering, not backing off"
        return None

    def one_order(expected_attempts: int | None):
        def verdict(sim, r):
            count = sim.client().get("/orders?key=check").json()["count"]
            if count != 1:
                return f"{count} orders placed (a duplicate!): {summary(r)}"
            if expected_attempts and len(r.attempts) != expected_attempts:
                return f"expected {expected_attempts} attempts: {summary(r)}"
            return None
        return verdict

    def signs_in(sim, r):
        first = r.attempts[0]
        if first.decision != "sign-in":
            return f"a 511 must lead to signing in, not {first.decision!r}: {summary(r)}"
        return None if r.ok else f"did not succeed after signing in: {summary(r)}"

    check("transient 503s are retried", "GET", "/flaky?fail=2&key=check", succeeds_within(5))
    check("a dropped connection is retried (GET)", "GET",
          "/flaky?fail=1&mode=disconnect&key=check", succeeds_within(5))
    check("a timeout is retried (GET)", "GET", "/flaky?fail=1&mode=timeout&key=check",
          succeeds_within(5))
    check("Retry-After in seconds is honoured", "GET",
          "/unavailable?retry_after=30&form=seconds&key=check", waits_for_retry_after(30))
    check("Retry-After as an HTTP-date is honoured", "GET",
          "/unavailable?retry_after=30&form=date&key=check", waits_for_retry_after(30))
    def empty_bucket(sim, client):
        client.get("/ratelimit?rate=0.1&burst=1&key=check")  # takes the only token
        return {}

    def refreshes_once(sim, r):
        if [a.decision for a in r.attempts][:1] != ["refresh"]:
            return f"a 401 with an expired token calls for one refresh: {summary(r)}"
        return None if r.ok and len(r.attempts) == 2 else f"expected refresh, then 200: {summary(r)}"

    check("429: waits as the rate limiter asks", "GET", "/ratelimit?rate=0.1&burst=1&key=check",
          waits_for_retry_after(10), setup=empty_bucket)
    check("401: refresh the credentials once, then retry", "GET", "/bearer", refreshes_once,
          setup=expired_token)
    check("404 is not retried", "GET", "/status/404", single_attempt)
    check("400 is not retried", "PUT", "/status/400", single_attempt)
    check("a lost POST reply is not retried blindly", "POST", "/orders?lose=1&key=check",
          one_order(1), json={"sku": "lamp"})
    check("a POST with an Idempotency-Key is retried, once placed", "POST",
          "/orders?lose=1&key=check", one_order(2), json={"sku": "lamp"}, idempotency_key=True)
    check("511: sign in to the network, then retry", "GET", "http://news.test/flaky?fail=0",
          signs_in, gateway=True)
    check("a server that keeps failing: give up, and back off", "GET",
          "/flaky?fail=1000&key=check", gives_up_and_backs_off)

    frame = pd.DataFrame([(c.name, c.passed, c.detail) for c in checks],
                         columns=["check", "passed", "detail"])
    return frame
