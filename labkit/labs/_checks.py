"""Self-checks for a retry policy: run it against every retry endpoint and say what it got wrong.

Used by the exercises of ``notebooks/03-retry-and-backoff.ipynb``. A policy is
anything with a ``decide(outcome, *, attempt, method, idempotency_key, ...)``
method returning a :class:`~labkit.retry.Decision` (like
:class:`~labkit.retry.RetryPolicy`), or a plain function with that signature.

The checks are a table (:data:`POLICY_CHECKS`), like a linter's rules: each
:class:`PolicyCheck` names what a good policy does, the request it sends, and a
verdict on the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..retry import RetryResult, run
from ._experiments import expired_token, fresh_lab, take_the_only_token

__all__ = ["POLICY_CHECKS", "PolicyCheck", "check_policy"]

# (simulator, result) -> what the policy got wrong, or None if it did right.
Verdict = Callable[[Any, RetryResult], "str | None"]


def summary(r: RetryResult) -> str:
    """The attempts on one line: ``status@time:decision -> ...``."""
    return " -> ".join(f"{a.status}@{a.time:g}s:{a.decision}" for a in r.attempts)


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """One self-check: ``name`` says what a good policy does; ``method``, ``url``,
    ``options`` (``run()`` keywords), ``setup`` and ``gateway`` are what it asks;
    ``verdict`` judges the result."""

    name: str
    method: str
    url: str
    verdict: Verdict
    options: Mapping[str, Any] = field(default_factory=dict)
    setup: Callable[[Any, Any], dict] | None = None  # (simulator, client) -> run() keywords
    gateway: bool = False

    def run(self, policy: Any, *, seed: int = 0) -> tuple[bool, str]:
        """``(passed, detail)`` for ``policy``, on a fresh simulator and VirtualClock."""
        sim, client, sign_in = fresh_lab("policy-check", gateway=self.gateway)
        kwargs = dict(self.options)
        if self.setup is not None:
            kwargs.update(self.setup(sim, client))
        if self.gateway:
            kwargs.setdefault("sign_in", sign_in)
        try:
            result = run(client, self.method, self.url, policy=policy, clock=sim.clock, seed=seed,
                         **kwargs)
        except Exception as exc:  # a broken policy is a failed check, not a crash
            return False, f"{type(exc).__name__}: {exc}"
        problem = self.verdict(sim, result)
        return problem is None, problem or summary(result)


# -- verdicts ---------------------------------------------------------------------------

def succeeds_within(n: int) -> Verdict:
    def verdict(sim, r):
        if not r.ok:
            return f"did not succeed: {summary(r)}"
        if len(r.attempts) > n:
            return f"needed {len(r.attempts)} attempts (at most {n}): {summary(r)}"
        return None
    return verdict


def single_attempt(sim, r):
    return None if len(r.attempts) == 1 else f"retried a request that cannot succeed: {summary(r)}"


def waits_for_retry_after(seconds: float) -> Verdict:
    def verdict(sim, r):
        if not r.ok:
            return f"did not succeed: {summary(r)}"
        if any(a.time < seconds for a in r.attempts[1:]):
            return f"came back before Retry-After ({seconds:g} s): {summary(r)}"
        return None if len(r.attempts) <= 3 else f"too many attempts: {summary(r)}"
    return verdict


def gives_up_and_backs_off(sim, r):
    if len(r.attempts) > 10:
        return f"{len(r.attempts)} attempts against a server that keeps failing (at most 10)"
    if r.elapsed <= 0:
        return "retried without waiting at all: that is hammering, not backing off"
    return None


def one_order(expected_attempts: int) -> Verdict:
    def verdict(sim, r):
        count = sim.client().get("/orders?key=check").json()["count"]
        if count != 1:
            return f"{count} orders placed (a duplicate!): {summary(r)}"
        if len(r.attempts) != expected_attempts:
            return f"expected {expected_attempts} attempts: {summary(r)}"
        return None
    return verdict


def signs_in(sim, r):
    first = r.attempts[0]
    if first.decision != "sign-in":
        return f"a 511 must lead to signing in, not {first.decision!r}: {summary(r)}"
    return None if r.ok else f"did not succeed after signing in: {summary(r)}"


def stops_at_once(sim, r):
    first = r.attempts[0]
    if len(r.attempts) == 1 and first.decision == "stop":
        return None
    return f"an origin's 511 is a server's error, not a portal: stop, do not sign in: {summary(r)}"


def refreshes_once(sim, r):
    if [a.decision for a in r.attempts][:1] != ["refresh"]:
        return f"a 401 with an expired token calls for one refresh: {summary(r)}"
    return None if r.ok and len(r.attempts) == 2 else f"expected refresh, then 200: {summary(r)}"


# -- the table --------------------------------------------------------------------------

_BUCKET = "/ratelimit?rate=0.1&burst=1&key=check"  # one token, refilled every 10 s
_LAMP = {"json": {"sku": "lamp"}}

POLICY_CHECKS: tuple[PolicyCheck, ...] = (
    PolicyCheck("transient 503s are retried", "GET", "/flaky?fail=2&key=check", succeeds_within(5)),
    PolicyCheck("a dropped connection is retried (GET)", "GET",
                "/flaky?fail=1&mode=disconnect&key=check", succeeds_within(5)),
    PolicyCheck("a timeout is retried (GET)", "GET", "/flaky?fail=1&mode=timeout&key=check",
                succeeds_within(5)),
    PolicyCheck("Retry-After in seconds is honoured", "GET",
                "/unavailable?retry_after=30&form=seconds&key=check", waits_for_retry_after(30)),
    PolicyCheck("Retry-After as an HTTP-date is honoured", "GET",
                "/unavailable?retry_after=30&form=date&key=check", waits_for_retry_after(30)),
    PolicyCheck("429: waits as the rate limiter asks", "GET", _BUCKET, waits_for_retry_after(10),
                setup=take_the_only_token(_BUCKET)),
    PolicyCheck("401: refresh the credentials once, then retry", "GET", "/bearer", refreshes_once,
                setup=expired_token),
    PolicyCheck("404 is not retried", "GET", "/status/404", single_attempt),
    PolicyCheck("400 is not retried", "PUT", "/status/400", single_attempt),
    PolicyCheck("a lost POST reply is not retried blindly", "POST", "/orders?lose=1&key=check",
                one_order(1), options=_LAMP),
    PolicyCheck("a POST with an Idempotency-Key is retried, once placed", "POST",
                "/orders?lose=1&key=check", one_order(2), options={**_LAMP, "idempotency_key": True}),
    PolicyCheck("511: sign in to the network, then retry", "GET", "http://news.test/flaky?fail=0",
                signs_in, gateway=True),
    # Server: labkit-origin and an X-Request-Id: the origin sent it, so it saw the POST
    # (RFC 6585 section 6: origin servers SHOULD NOT send 511).
    PolicyCheck("511 from the origin (POST): stop, no sign-in", "POST", "/status/511",
                stops_at_once, options=_LAMP),
    PolicyCheck("a server that keeps failing: give up, and back off", "GET",
                "/flaky?fail=1000&key=check", gives_up_and_backs_off),
)


def check_policy(policy: Any, *, seed: int = 0, checks: tuple[PolicyCheck, ...] = POLICY_CHECKS):
    """Run ``policy`` through ``checks``; a DataFrame with one row per check (check, passed, detail).

    Every check uses a fresh simulator on a VirtualClock: nothing really waits.
    """
    import pandas as pd

    rows = [(c.name, *c.run(policy, seed=seed)) for c in checks]
    return pd.DataFrame(rows, columns=["check", "passed", "detail"])
