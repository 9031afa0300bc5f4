"""Injected time: the real clock for real servers, a virtual one for experiments.

Everything in labkit that waits or expires asks a clock, so tests and notebooks
can run a minute of backoff or a session timeout in microseconds.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "RealClock", "VirtualClock"]


@runtime_checkable
class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (for HTTP-dates and expiry)."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``: really, or by moving virtual time."""

    async def asleep(self, seconds: float) -> None:
        """The async form of :meth:`sleep`."""


class RealClock:
    """Wall-clock time and real waiting."""

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "RealClock()"


class VirtualClock:
    """Time that moves only when told to: ``sleep`` returns at once.

    ``start`` defaults to 2026-01-01T00:00:00Z so HTTP-dates in captured
    output are reproducible.
    """

    def __init__(self, start: float = 1767225600.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.slept = 0.0  # total virtual seconds waited, for experiments

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance({seconds!r}))")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        with self._lock:
            self._now += seconds
            self.slept += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def __repr__(self) -> str:
        return f"VirtualClock(t={self._now:.3f})"
