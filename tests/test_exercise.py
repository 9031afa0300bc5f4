"""The one exercise convention: waiting, a hint, right; never a traceback."""

import pytest

from labkit.labs import ANSWER_ME, check

CONDITIONS = [(lambda a: isinstance(a, int), "a status code is a number"),
              (lambda a: a in (204, 304), "that code has a body; try another"),
              (lambda a: 1 / 0, "never reached when the above fail")]


@pytest.mark.parametrize("answer, state, text", [
    (ANSWER_ME, "waiting", "Waiting for your answer"),
    ({"a": 1, "b": ANSWER_ME}, "waiting", "Waiting"),
    (("x", ANSWER_ME), "waiting", "Waiting"),
    ("204", "wrong", "Not yet: a status code is a number"),
    (200, "wrong", "Not yet: that code has a body"),
    (204, "wrong", "ZeroDivisionError"),
])
def test_verdicts(answer, state, text):
    v = check(answer, CONDITIONS, right="no body")
    assert v.state == state and text in str(v) and text in repr(v)


def test_right():
    v = check(204, CONDITIONS[:2], right="204 has no body")
    assert v.right and str(v) == "Right: 204 has no body"


def test_answer_me_is_one_falsy_placeholder():
    from labkit.labs._exercise import _AnswerMe

    assert _AnswerMe() is ANSWER_ME and not ANSWER_ME and repr(ANSWER_ME) == "ANSWER_ME"
