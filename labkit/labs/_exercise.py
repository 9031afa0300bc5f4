"""One exercise convention for every notebook.

An exercise arrives unanswered (its variables hold :data:`ANSWER_ME`). Its
check cell calls :func:`check`, which never raises, so Run All leaves no
traceback: it says plainly that it is waiting for an answer, gives the first
hint that applies to a wrong answer, and says "Right" with what was learned
when every condition holds. Solutions live in a hidden ``<details>`` block of
the notebook; the tests run each one through the same check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

__all__ = ["ANSWER_ME", "Verdict", "check"]


class _AnswerMe:
    """The value of an answer nobody has given yet."""

    _instance: "_AnswerMe | None" = None

    def __new__(cls) -> "_AnswerMe":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ANSWER_ME"

    def __bool__(self) -> bool:
        return False


ANSWER_ME = _AnswerMe()
"""Put your answer here: the placeholder every exercise starts with."""

Condition = Callable[[Any], bool]


@dataclass(frozen=True)
class Verdict:
    """What a check concluded: ``state`` is ``waiting``, ``wrong`` or ``right``."""

    state: str
    message: str

    @property
    def right(self) -> bool:
        return self.state == "right"

    def __str__(self) -> str:
        return self.message

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython shows the message, not a repr
        printer.text(self.message)

    def __repr__(self) -> str:
        return self.message


def _unanswered(answer: Any) -> bool:
    if answer is ANSWER_ME:
        return True
    if isinstance(answer, dict):
        return any(v is ANSWER_ME for v in answer.values())
    if isinstance(answer, (tuple, list)):
        return any(v is ANSWER_ME for v in answer)
    return False


def check(answer: Any, conditions: Iterable[tuple[Condition, str]], *, right: str,
          waiting: str = "Waiting for your answer: replace ANSWER_ME above, then run this cell again.") -> Verdict:
    """Judge ``answer`` against ``conditions``, in order; never raises.

    Each condition is ``(test, hint)``: ``test(answer)`` returns a truth value;
    the first that is false (or raises) gives its ``hint``. An answer that is,
    or contains, :data:`ANSWER_ME` is waiting. The verdict prints itself.
    """
    if _unanswered(answer):
        return Verdict("waiting", waiting)
    for test, hint in conditions:
        try:
            ok = bool(test(answer))
        except Exception as exc:  # a learner's answer may break the test itself: that is a hint too
            return Verdict("wrong", f"Not yet: {hint} ({type(exc).__name__}: {exc})")
        if not ok:
            return Verdict("wrong", f"Not yet: {hint}")
    return Verdict("right", f"Right: {right}")
