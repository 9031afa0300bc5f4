"""The same policy, expressed with tenacity: how the lab maps onto production code.

Production code would not hand-write a retry loop; it would use tenacity (or
stamina, which wraps it). This module drives tenacity's own control flow
(``Retrying`` / ``AsyncRetrying`` with ``retry=``, ``wait=``, ``before=``,
``before_sleep=`` and ``sleep=``) with the lab's decision and clock, so the
timeline comes out identical to :func:`labkit.retry.run`'s. The mapping:

==================  ====================================================
tenacity argument   what the lab puts there
==================  ====================================================
``retry=``          ``RetryPolicy.decide(...)`` says retry/refresh/sign-in
``wait=``           that decision's delay (Retry-After or the schedule)
``stop=``           ``stop_never``: the decision already counts attempts
``before_sleep=``   run ``refresh()`` / ``sign_in()`` when asked to
``sleep=``          ``clock.sleep`` (``clock.asleep``): virtual time
==================  ====================================================

For the deterministic schedules tenacity has built-in waits that give the same
numbers: ``wait_fixed(base)`` (constant) and ``wait_exponential(multiplier=base,
max=cap)`` (exponential); ``wait_random_exponential(multiplier=base, max=cap)``
is full jitter but draws from the global ``random`` module, so it cannot be
seeded per experiment. Equal and decorrelated jitter have no built-in.
"""

from __future__ import annotations

from typing import Any, Callable

import httpx

from ..core import Clock
from ._policy import RetryPolicy
from ._runner import RetryResult, _Call

__all__ = ["arun_tenacity", "run_tenacity", "tenacity_waits"]


# tenacity is imported inside the functions: `import labkit` stays light.


def _retrying_kwargs(call: _Call) -> dict[str, Any]:
    import tenacity

    def retry(state: "tenacity.RetryCallState") -> bool:
        outcome = state.outcome
        call.decide(outcome.exception() if outcome.failed else outcome.result())
        return call.again

    return {
        "retry": retry,
        "wait": lambda state: call.last.delay,
        "stop": tenacity.stop_never,
        "before": lambda state: call.begin(),
        "reraise": True,
    }


def run_tenacity(client: httpx.Client, method: str, url: str, *,
                 policy: RetryPolicy | None = None, clock: Clock | None = None,
                 seed: int | None = 0, sign_in: Callable | None = None,
                 refresh: Callable | None = None, idempotency_key: bool | str | None = None,
                 headers: Any = None, **kwargs: Any) -> RetryResult:
    """:func:`labkit.retry.run`, but the loop is ``tenacity.Retrying``."""
    import tenacity

    call = _Call(policy=policy, clock=clock, seed=seed, method=method, headers=headers,
                 idempotency_key=idempotency_key, sign_in=sign_in, refresh=refresh)
    retrying = tenacity.Retrying(sleep=call.clock.sleep, before_sleep=lambda state: call.act(),
                                 **_retrying_kwargs(call))
    try:
        response = retrying(lambda: client.request(method, url, headers=call.headers, **kwargs))
    except httpx.TransportError as exc:
        return call.result(exc)
    return call.result(response)


async def arun_tenacity(client: httpx.AsyncClient, method: str, url: str, *,
                        policy: RetryPolicy | None = None, clock: Clock | None = None,
                        seed: int | None = 0, sign_in: Callable | None = None,
                        refresh: Callable | None = None,
                        idempotency_key: bool | str | None = None,
                        headers: Any = None, **kwargs: Any) -> RetryResult:
    """:func:`labkit.retry.arun`, but the loop is ``tenacity.AsyncRetrying``."""
    import tenacity

    call = _Call(policy=policy, clock=clock, seed=seed, method=method, headers=headers,
                 idempotency_key=idempotency_key, sign_in=sign_in, refresh=refresh)

    async def before_sleep(state: "tenacity.RetryCallState") -> None:
        await call.aact()

    retrying = tenacity.AsyncRetrying(sleep=call.clock.asleep, before_sleep=before_sleep,
                                      **_retrying_kwargs(call))

    async def send() -> httpx.Response:
        return await client.request(method, url, headers=call.headers, **kwargs)

    try:
        response = await retrying(send)
    except httpx.TransportError as exc:
        return call.result(exc)
    return call.result(response)


def tenacity_waits(*, base: float, cap: float) -> dict[str, Any]:
    """tenacity's built-in wait for each schedule that has one (see the module table)."""
    import tenacity

    return {
        "constant": tenacity.wait_fixed(base),
        "exponential": tenacity.wait_exponential(multiplier=base, max=cap),
        "full": tenacity.wait_random_exponential(multiplier=base, max=cap),
    }
