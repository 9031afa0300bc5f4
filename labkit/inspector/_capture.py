"""Capture: every exchange a client makes, recorded as plain data.

A :class:`Capture` is chosen when a client is built: its :meth:`Capture.transport`
goes where the client's transport goes (``sim.client(capture=cap)`` does that
for the simulator). Redirect hops and auth retries of one ``client.send()``
share a ``flow`` number.
"""

from __future__ import annotations

import itertools
import threading
from typing import Iterator

import httpx

from ..core import Clock, RedactionPolicy
from ._exchange import Exchange
from ._export import from_json, to_har, to_json
from ._frame import exchanges_to_dataframe
from ._recorder import RecordingTransport

__all__ = ["Capture"]


class Capture:
    """A recording of exchanges: build httpx clients with it, then read it as data.

    >>> cap = Capture()
    >>> client = sim.client(capture=cap)       # or sim.async_client(capture=cap)
    >>> client.get("/status/511")
    >>> cap[-1].status, cap.to_dataframe()
    >>> own = httpx.Client(transport=cap.transport(proxy=sim.gateway_url))  # real sockets

    ``clock`` stamps ``Exchange.started`` (pass the simulator's VirtualClock for
    reproducible output). Thread-safe: exchanges from several threads are
    appended under a lock and numbered in arrival order.
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock = clock
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._steps: dict[int, int] = {}

    # -- recording ----------------------------------------------------------
    def transport(
        self,
        inner: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        *,
        proxy: str | httpx.URL | httpx.Proxy | None = None,
    ) -> RecordingTransport:
        """A transport that records into this capture everything sent through ``inner``.

        Pass it when building a client: ``httpx.Client(transport=cap.transport())``.
        Without ``inner``, it sends over real sockets, through ``proxy`` if given.
        With ``inner``, ``proxy`` only tells the capture which proxy ``inner``
        uses, so exchanges record it (a transport does not say).
        """
        return RecordingTransport(inner, self._add, proxy=proxy, clock=self.clock)

    def _add(self, ex: Exchange) -> None:
        with self._lock:
            ex.id = next(self._ids)
            ex.step = self._steps.get(ex.flow, 0)
            self._steps[ex.flow] = ex.step + 1
            self.exchanges.append(ex)

    def add(self, exchange: Exchange) -> Exchange:
        """Record a hand-made exchange (e.g. one loaded from JSON) as a new flow."""
        with self._lock:
            exchange.id = next(self._ids)
            self.exchanges.append(exchange)
        return exchange

    def clear(self) -> None:
        """Forget every exchange recorded so far."""
        with self._lock:
            self.exchanges.clear()
            self._steps.clear()

    # -- reading ------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.exchanges)

    def __iter__(self) -> Iterator[Exchange]:
        return iter(list(self.exchanges))

    def __getitem__(self, index):
        return self.exchanges[index]

    def __eq__(self, other) -> bool:
        if isinstance(other, Capture):
            return self.exchanges == other.exchanges
        return NotImplemented

    def flows(self) -> dict[int, list[Exchange]]:
        """Exchanges grouped by the ``client.send()`` call that made them (redirect chains)."""
        out: dict[int, list[Exchange]] = {}
        for ex in self.exchanges:
            out.setdefault(ex.flow, []).append(ex)
        return out

    def to_dataframe(self, *, redact: bool = True, policy: RedactionPolicy | None = None):
        """One row per exchange (pandas is imported on first use)."""
        return exchanges_to_dataframe(self.exchanges, redact=redact, policy=policy)

    def to_json(self, *, redact: bool = True, indent: int | None = 1,
                policy: RedactionPolicy | None = None) -> str:
        """See :func:`labkit.inspector.to_json`."""
        return to_json(self.exchanges, redact=redact, indent=indent, policy=policy)

    @classmethod
    def from_json(cls, text: str) -> "Capture":
        """A capture holding the exchanges of :meth:`to_json`'s output."""
        cap = cls()
        cap.exchanges = from_json(text)
        ids = [ex.id for ex in cap.exchanges]
        cap._ids = itertools.count(max(ids, default=0) + 1)
        return cap

    def to_har(self, *, redact: bool = True, policy: RedactionPolicy | None = None) -> dict:
        """See :func:`labkit.inspector.to_har`."""
        return to_har(self.exchanges, redact=redact, policy=policy)

    def __repr__(self) -> str:
        return f"<Capture: {len(self.exchanges)} exchange(s)>"
