"""Exercises whose answer is a function, through the one convention (:func:`check`).

Notebook 02 asks for an error handler, notebook 03 for a retry policy. Each
starts with a body that returns :data:`ANSWER_ME`, so Run All shows "Waiting
for your answer" rather than a failure. :func:`handler_answer` and
:func:`policy_answer` turn the learner's function into what ``check()`` judges
(or into ``ANSWER_ME`` while it is still the placeholder);
:data:`ERROR_HANDLER_CONDITIONS` and :func:`policy_conditions` are the
``(test, hint)`` pairs, one short hint for the first thing still wrong.
"""

from __future__ import annotations

import random
from typing import Any

import httpx

from ..core import PROBLEM_JSON, Response, cache_directives, media_type
from ._checks import POLICY_CHECKS, PolicyCheck
from ._exercise import ANSWER_ME, Condition
from ._seedpage import check_error_response, inspect_handler

__all__ = ["ERROR_HANDLER_CONDITIONS", "handler_answer", "policy_answer", "policy_conditions"]


class _Broke:
    """A handler that raised, or returned something that is not a response: the first
    condition re-raises, so the hint carries the error."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def handler_answer(handler) -> Any:
    """The exchange ``handler`` (``(request, exc) -> Response``) gives when the order API
    fails, or :data:`ANSWER_ME` while the handler returns ``ANSWER_ME``."""
    placeholder = []

    def probe(request, exc):
        response = handler(request, exc)
        if response is ANSWER_ME:
            placeholder.append(True)
            return Response(500, [], b"")
        return response

    try:
        exchange = inspect_handler(probe)
    except Exception as exc:  # the learner's code: a hint, never a traceback
        return _Broke(exc)
    return ANSWER_ME if placeholder else exchange


def _responded(ex) -> bool:
    if isinstance(ex, _Broke):
        raise ex.error
    return True


#: Notebook 02's exercise 1, in the order a learner meets them: status, format,
#: caching, then whatever else :func:`check_error_response` still finds.
ERROR_HANDLER_CONDITIONS: tuple[tuple[Condition, str], ...] = (
    (_responded, "the handler must return a Response (labkit.core.problem() builds one)"),
    (lambda ex: ex.status != 511,
     "511 sends clients off to sign in to a network; which status says the server failed?"),
    (lambda ex: 500 <= ex.status <= 599, "the server failed: that is a 5xx (RFC 9110 section 15.6)"),
    (lambda ex: media_type(ex.header("content-type")) == PROBLEM_JSON,
     "an error as data is application/problem+json (RFC 9457); labkit.core.problem() builds one"),
    (lambda ex: "no-store" in cache_directives(ex.header("cache-control")),
     "add Cache-Control: no-store, so no cache repeats the failure to other users"),
    (lambda ex: not check_error_response(ex), "nearly: check_error_response(...) lists what is left"),
)


def policy_answer(policy) -> Any:
    """``policy``, or :data:`ANSWER_ME` while it still answers a GET's 503 with ``ANSWER_ME``
    (as the exercise's starting point does)."""
    decide = getattr(policy, "decide", policy)
    outcome = httpx.Response(503, request=httpx.Request("GET", "http://origin.test/"))
    try:
        decision = decide(outcome, attempt=1, method="GET", idempotency_key=False, previous_delay=None,
                          refreshed=False, signed_in=False, now=0.0, rng=random.Random(0))
    except Exception:  # a broken policy is judged (and hinted at) by the checks themselves
        return policy
    return ANSWER_ME if decision is ANSWER_ME else policy


def policy_conditions(checks: tuple[PolicyCheck, ...] = POLICY_CHECKS) -> list[tuple[Condition, str]]:
    """One condition per check of :func:`check_policy`, in its order; the hint names the check."""
    return [(lambda policy, c=c: c.run(policy)[0],
             f"it fails {c.name!r}; check_policy(my_policy) shows its attempts") for c in checks]
