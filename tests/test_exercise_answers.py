"""Exercises whose answer is a function: waiting while it returns ANSWER_ME, a hint, then right."""

import pytest

from labkit import Decision, RetryPolicy
from labkit.core import Response, problem
from labkit.labs import (ANSWER_ME, ERROR_HANDLER_CONDITIONS, POLICY_CHECKS, check, handler_answer,
                         policy_answer, policy_conditions)


def _handler_verdict(handler):
    return check(handler_answer(handler), ERROR_HANDLER_CONDITIONS, right="fixed")


@pytest.mark.parametrize("handler, expected", [
    (lambda request, exc: ANSWER_ME, "Waiting for your answer"),
    (lambda request, exc: Response(511, [("content-type", "application/json")], b"{}"), "Not yet: 511"),
    (lambda request, exc: Response(404, [], b""), "Not yet: the server failed: that is a 5xx"),
    (lambda request, exc: Response(500, [("content-type", "application/json")], b"{}"),
     "Not yet: an error as data is application/problem+json"),
    (lambda request, exc: Response(500, [("content-type", "application/problem+json")], b'{"status": 500}'),
     "Not yet: add Cache-Control: no-store"),
    (lambda request, exc: Response(500, [("content-type", "application/problem+json"),
                                         ("cache-control", "no-store")], b'{"status": 503}'), "Not yet: nearly"),
    (lambda request, exc: 1 / 0, "Not yet: the handler must return a Response"),
    (lambda request, exc: {"status": 500}, "Not yet: the handler must return a Response"),
    (lambda request, exc: problem(500, "The server failed.", request_id=request.id or "r"), "Right: fixed"),
])
def test_error_handler_exercise(handler, expected):
    verdict = _handler_verdict(handler)
    assert str(verdict).startswith(expected), verdict
    assert "\n" not in str(verdict)


def retry_at_once(outcome, *, attempt, **_):
    status = getattr(outcome, "status_code", None)
    if status is not None and status < 400:
        return Decision("done", 0.0, "success")
    return Decision("retry", 0.0, "retry everything") if attempt < 20 else Decision("stop", 0.0, "")


def test_policy_exercise_waits_hints_and_accepts():
    placeholder = lambda outcome, **_: ANSWER_ME  # noqa: E731
    conditions = policy_conditions()
    assert len(conditions) == len(POLICY_CHECKS)
    assert check(policy_answer(placeholder), conditions, right="ok").state == "waiting"
    wrong = check(policy_answer(retry_at_once), conditions, right="ok")
    assert str(wrong) == ("Not yet: it fails 'Retry-After in seconds is honoured'; "
                          "check_policy(my_policy) shows its attempts")
    assert check(policy_answer(RetryPolicy()), conditions, right="ok").right


def test_a_policy_that_breaks_is_a_hint_not_a_traceback():
    def broken(outcome, **_):
        raise KeyError("refreshed")

    assert policy_answer(broken) is broken
    verdict = check(policy_answer(broken), policy_conditions(), right="ok")
    assert verdict.state == "wrong" and "transient 503s are retried" in str(verdict)
