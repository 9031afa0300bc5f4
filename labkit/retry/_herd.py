"""The thundering herd: many clients retrying against one recovering server.

A discrete-event simulation. Every client sends its first request in the first
``arrival_s`` seconds, while the server is down; each failed request is retried
after the client's backoff delay, until it succeeds (no attempt limit). The
server is :class:`labkit.retry.OutageModel`, the very model behind the
``/outage`` endpoint, called directly: an httpx round trip costs ~100 us
(``shared/notes/peers.md``), the model well under 1 us, so 10,000 clients take
well under a second. Pass ``call=`` to send each request some other way (a test
sends them through real httpx clients and gets the same result).
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..origin._outage import OutageModel
from ._schedules import SCHEDULES, Backoff

__all__ = ["HerdResult", "compare_schedules", "herd_over_http", "simulate_herd"]


@dataclass(slots=True)
class HerdResult:
    """What the server saw. ``load[s]`` / ``served[s]``: requests in second ``s``."""

    schedule: str
    clients: int
    calls: int
    completion_s: float
    peak_rps: int
    unfinished: int
    load: list[int] = field(repr=False)
    served: list[int] = field(repr=False)
    params: dict = field(repr=False, default_factory=dict)

    @property
    def calls_per_client(self) -> float:
        return self.calls / self.clients if self.clients else 0.0

    def to_dict(self) -> dict:
        """Plain numbers, for ``labkit herd --json``."""
        return {
            "schedule": self.schedule,
            "clients": self.clients,
            "calls": self.calls,
            "calls_per_client": round(self.calls_per_client, 3),
            # None when some clients never succeeded (JSON has no infinity).
            "completion_s": round(self.completion_s, 3) if math.isfinite(self.completion_s) else None,
            "peak_rps": self.peak_rps,
            "unfinished": self.unfinished,
            **self.params,
        }

    def load_frame(self):
        """Per-second load as a DataFrame (second, load, served, shed)."""
        import pandas as pd

        frame = pd.DataFrame({"load": self.load, "served": self.served})
        frame["shed"] = frame["load"] - frame["served"]
        frame.index.name = "second"
        return frame


def simulate_herd(
    *,
    clients: int = 1000,
    schedule: str = "full",
    seed: int = 0,
    base: float = 1.0,
    cap: float = 60.0,
    duration: float = 10.0,
    capacity: int | None = None,
    arrival_s: float = 1.0,
    max_calls: int = 5_000_000,
    call: Callable[[float], bool] | None = None,
) -> HerdResult:
    """Run ``clients`` clients with backoff ``schedule`` against an outage.

    The server is down for ``duration`` seconds, then serves ``capacity``
    requests per second (default: ``clients / 10``, so recovery takes at least
    ten seconds however big the herd). Delays follow :class:`Backoff` with
    ``base`` and ``cap``. ``call(t) -> bool`` replaces the model (True: served).
    Stops after ``max_calls`` requests and reports the clients still waiting.
    """
    if clients < 1:
        raise ValueError("clients must be >= 1")
    if capacity is None:
        capacity = max(1, clients // 10)
    backoff = Backoff(kind=schedule, base=base, cap=cap, attempts=1)
    kind = backoff.kind
    rng = random.Random(seed)
    uniform = rng.uniform
    if call is None:
        call = OutageModel(duration=duration, capacity=capacity, start=0.0).admit

    heap = [(rng.random() * arrival_s, i) for i in range(clients)]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    retries = [0] * clients
    previous = [base] * clients
    load: dict[int, int] = {}
    served: dict[int, int] = {}
    calls = 0
    done = 0
    last = 0.0
    floor = math.floor
    pow_cap = [min(cap, base * 2.0 ** n) for n in range(64)]  # t for retry n

    while heap and calls < max_calls:
        t, i = pop(heap)
        calls += 1
        second = floor(t)
        load[second] = load.get(second, 0) + 1
        if call(t):
            served[second] = served.get(second, 0) + 1
            done += 1
            last = t
            continue
        n = retries[i]
        retries[i] = n + 1
        # Inlined Backoff.delay: this loop runs a million times for big herds.
        if kind == "full":
            d = uniform(0, pow_cap[n if n < 64 else 63])
        elif kind == "decorrelated":
            d = uniform(base, previous[i] * 3)
            if d > cap:
                d = cap
            previous[i] = d
        elif kind == "equal":
            h = pow_cap[n if n < 64 else 63] / 2
            d = h + uniform(0, h)
        elif kind == "exponential":
            d = pow_cap[n if n < 64 else 63]
        else:  # constant
            d = base
        push(heap, (t + d, i))

    seconds = range(0, max(load) + 1) if load else range(0)
    return HerdResult(
        schedule=schedule,
        clients=clients,
        calls=calls,
        completion_s=last if not heap else math.inf,
        peak_rps=max(load.values(), default=0),
        unfinished=clients - done,
        load=[load.get(s, 0) for s in seconds],
        served=[served.get(s, 0) for s in seconds],
        params={"seed": seed, "base": base, "cap": cap, "duration": duration,
                "capacity": capacity, "arrival_s": arrival_s},
    )


def compare_schedules(schedules: Iterable[str] = ("none",) + SCHEDULES[1:], **kwargs):
    """One :func:`simulate_herd` per schedule, as a DataFrame (one row each)."""
    import pandas as pd

    rows = []
    for name in schedules:
        result = simulate_herd(schedule=name, **kwargs)
        row = result.to_dict()
        row["schedule"] = name
        rows.append(row)
    columns = ["schedule", "calls", "calls_per_client", "completion_s", "peak_rps", "unfinished"]
    return pd.DataFrame(rows)[columns].set_index("schedule")


class _EventClock:
    """A clock set to each event's exact time (``VirtualClock.advance`` would add float error)."""

    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def herd_over_http(*, transport: str = "inprocess", duration: float = 10.0,
                   capacity: int | None = None, clients: int = 25, **kwargs) -> HerdResult:
    """:func:`simulate_herd`, but every request is a real httpx request to ``/outage``.

    ``transport`` is ``inprocess`` or ``loopback``. Slow (an httpx round trip per
    call): for small herds, to check that the simulation agrees with HTTP.
    """
    import httpx

    from .._simulator import Simulator

    if capacity is None:
        capacity = max(1, clients // 10)
    clock = _EventClock()
    sim = Simulator(clock=clock, name="herd-over-http")
    try:
        if transport == "inprocess":
            client = sim.client()
        elif transport == "loopback":
            client = httpx.Client(base_url=sim.serve().origin_url, timeout=5)
        else:
            raise ValueError(f"transport must be inprocess or loopback, not {transport!r}")
        with client:
            client.put(f"/outage?key=herd&duration={duration}&capacity={capacity}").raise_for_status()

            def call(t: float) -> bool:
                clock.now = t
                return client.get("/outage?key=herd").status_code == 200

            return simulate_herd(clients=clients, duration=duration, capacity=capacity, call=call,
                                 **kwargs)
    finally:
        sim.stop()
