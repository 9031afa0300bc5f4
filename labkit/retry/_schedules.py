"""Backoff schedules: how long to wait before retry number ``n`` (0 for the first retry).

The formulas are those of the AWS Architecture Blog article "Exponential
Backoff And Jitter" (Marc Brooker, 2015), with
``t = min(cap, base * 2**(n + first_exponent))``:

=============  ==============================================
none           ``0``: no wait, retry at once (the article's "no backoff")
constant       ``base``: a fixed wait (``"fixed"`` is an alias)
exponential    ``t`` (exponential backoff without jitter)
full           ``uniform(0, t)``
equal          ``t/2 + uniform(0, t/2)``
decorrelated   ``min(cap, uniform(base, 3 * previous))``, ``previous`` starting at ``base``
=============  ==============================================

``first_exponent`` says how retries are numbered in the formula. ``0`` (the
default, and what tenacity's ``wait_exponential`` and stamina do): the first
wait is ``base``, then ``2 * base``, ``4 * base``... ``1`` is the article's
numbering (its simulator, ``aws-samples/aws-arch-backoff-simulator``, counts the
failed attempt before computing the wait): the first wait is ``2 * base``, every
wait twice the zero-based one until the cap binds. It changes exponential, full
and equal only; decorrelated has no retry number.

What the article found, for clients contending for one record (base 5 ms, cap
2 s, up to 100 clients), and labkit's herd reproduces (:mod:`labkit.retry._herd`;
calls per client at 100 clients, 100 runs): no jitter does the most work (none
24.24, exponential 18.56) and exponential takes the longest (63.5 s); full (7.96)
and equal (8.13) jitter make about the same calls, decorrelated more (10.00);
equal takes much longer than full (6.4 s against 5.0 s), full slightly longer
than decorrelated (4.6 s). It is not a universal ranking: with base 1 s
decorrelated makes the fewest calls (1,000 clients: 4.58, full 4.65, equal 4.78),
and once a herd needs longer than the cap to drain, or against a rate-limited
server, equal jitter does (10,000 clients, cap 60 s: 8.11, full 8.78,
decorrelated 10.04).

Randomness always comes from a ``random.Random`` you pass (or a seed), so every
experiment is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["SCHEDULES", "Backoff"]

SCHEDULES = ("none", "constant", "exponential", "full", "equal", "decorrelated")
_ALIASES = {"fixed": "constant"}
# 2**62 * base is already far beyond any cap; stops float overflow for huge n.
_MAX_EXPONENT = 62


@dataclass(frozen=True, slots=True, kw_only=True)
class Backoff:
    """A backoff schedule: ``kind`` (see the module table), ``base`` and ``cap`` in
    seconds, and ``attempts``, the most requests one call may make (first + retries).

    ``first_exponent`` numbers the retries in ``t = min(cap, base * 2**(n + first_exponent))``,
    ``n = 0`` for the first retry: ``0`` (default) waits ``base`` first, ``1`` (the
    article's simulator; the herd's :class:`~labkit.retry.Contention` uses it) waits
    ``2 * base`` first.
    """

    kind: str = "full"
    base: float = 0.5
    cap: float = 30.0
    attempts: int = 5
    first_exponent: int = 0

    def __post_init__(self) -> None:
        kind = _ALIASES.get(self.kind, self.kind)
        if kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.kind!r}: use one of {', '.join(SCHEDULES)}")
        object.__setattr__(self, "kind", kind)
        if not self.base > 0:
            raise ValueError(f"base must be > 0 seconds, not {self.base!r}")
        if not self.cap >= self.base:
            raise ValueError(f"cap ({self.cap!r}) must be >= base ({self.base!r})")
        if int(self.attempts) != self.attempts or self.attempts < 1:
            raise ValueError(f"attempts must be a whole number >= 1, not {self.attempts!r}")
        if int(self.first_exponent) != self.first_exponent or self.first_exponent < 0:
            raise ValueError("first_exponent must be a whole number >= 0 (0: the first wait is "
                             f"base; 1, the article's: 2 * base), not {self.first_exponent!r}")

    def delay(self, retry: int, rng: random.Random, previous: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry,
        whatever ``first_exponent``).

        ``previous`` is the last delay (only ``decorrelated`` uses it).
        """
        if retry < 0:
            raise ValueError("retry numbers start at 0")
        kind, base, cap = self.kind, self.base, self.cap
        if kind == "none":
            return 0.0
        if kind == "constant":
            return base
        if kind == "decorrelated":
            prev = base if previous is None else previous
            return min(cap, rng.uniform(base, max(base, prev * 3)))
        t = min(cap, base * 2.0 ** min(retry + self.first_exponent, _MAX_EXPONENT))
        if kind == "exponential":
            return t
        if kind == "full":
            return rng.uniform(0, t)
        return t / 2 + rng.uniform(0, t / 2)  # equal

    def delays(self, *, seed: int | None = 0, retries: int | None = None) -> list[float]:
        """The delays one client would wait: ``attempts - 1`` of them (or ``retries``)."""
        rng = random.Random(seed)
        out: list[float] = []
        previous = None
        for n in range(self.attempts - 1 if retries is None else retries):
            previous = self.delay(n, rng, previous)
            out.append(previous)
        return out

    def table(self, *, clients: int = 5, seed: int = 0, retries: int | None = None):
        """A DataFrame of delays: one row per retry, one column per client (seeds seed..)."""
        import pandas as pd

        cols = {f"client {c}": self.delays(seed=seed + c, retries=retries) for c in range(clients)}
        frame = pd.DataFrame(cols)
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="retry")
        return frame
