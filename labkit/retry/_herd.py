"""The thundering herd: many clients retrying until they succeed, as a discrete-event simulation.

Two scenarios, each driving the very server model behind a lab endpoint (called
directly: an httpx round trip costs ~100 us, ``shared/notes/peers.md``, a model
call well under 1 us; a test sends the same requests through real httpx clients
and gets the same result):

``contention`` (default; the schedule comparison)
    The AWS Architecture Blog's experiment ("Exponential Backoff And Jitter",
    Marc Brooker, 2015; simulator ``aws-samples/aws-arch-backoff-simulator``,
    ``src/backoff_simulator.py``), reimplemented: every client wants to update
    one record once, with optimistic concurrency
    (:class:`labkit.origin._contention.ContentionModel`, ``/contention``). All
    clients start at once (``arrival_s=0``). One attempt is a read, then a write
    with the version read; each message takes ``|normal(latency, latency_sd)|``
    seconds (the article's 10 ms, 2 ms), so a read reaches the server at ``r``
    and the write at ``r + d1 + d2``. The write succeeds only if no other write
    succeeded in between; on a conflict the client learns it ``d3`` later,
    sleeps its backoff delay, and its next read arrives ``d4`` after that.
    ``calls`` counts writes, as the article does.
``outage``
    A server down for ``duration`` seconds, then serving ``capacity`` requests a
    second and shedding the rest (:class:`labkit.retry.OutageModel`, ``/outage``):
    the load a recovering server sees. Clients arrive within ``arrival_s`` (1 s).

Delays are :class:`labkit.retry.Backoff`'s, with ``t = min(cap, base * 2**n)``
for retry ``n`` (0-based; the article's code starts at ``n = 1``, i.e. ``2 * base``):
none ``base``; exponential ``t``; full ``uniform(0, t)``; equal
``t/2 + uniform(0, t/2)``; decorrelated ``min(cap, uniform(base, 3 * previous))``.

What it finds (``notebooks/04-thundering-herd.ipynb``): under contention, no
jitter makes by far the most calls, and full and decorrelated jitter the fewest,
with equal jitter close behind, as in the article, while the herd drains before
the cap binds (``clients * 2 * latency`` below about ``cap``). When the cap binds
every client sleeps near ``cap`` and the schedule with the longest sleeps there
(equal, ``3/4 cap`` on average, against ``1/2 cap`` for full) makes the fewest
calls. One random generator seeded with ``seed`` drives everything: a run is
reproducible.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol

from ..origin import ContentionModel, OutageModel
from ._schedules import SCHEDULES, Backoff

__all__ = ["SCENARIOS", "HerdResult", "compare_schedules", "herd_over_http", "simulate_herd"]

SCENARIOS = ("contention", "outage")
# The article's network: each message takes |normal(10 ms, 2 ms)|.
LATENCY = 0.010
LATENCY_SD = 0.002


class Record(Protocol):
    """What the contention scenario talks to: :class:`ContentionModel` or an HTTP adapter."""

    def read(self, now: float) -> int: ...

    def write(self, now: float, version: int) -> bool: ...


@dataclass(slots=True)
class HerdResult:
    """What the server saw. ``load[s]`` / ``served[s]``: requests (contention:
    writes) in second ``s``, and those that succeeded."""

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
    scenario: str = "contention",
    base: float = 1.0,
    cap: float = 60.0,
    latency: float | None = None,
    latency_sd: float | None = None,
    duration: float | None = None,
    capacity: int | None = None,
    arrival_s: float | None = None,
    max_calls: int = 5_000_000,
    call: Callable[[float], bool] | None = None,
    server: Record | None = None,
) -> HerdResult:
    """Run ``clients`` clients, each retrying with backoff ``schedule`` until it succeeds.

    ``scenario="contention"`` (see the module docstring): ``latency`` and
    ``latency_sd`` (default 0.010 and 0.002 s) shape the network; ``server``
    replaces the :class:`ContentionModel`. ``scenario="outage"``: the server is
    down ``duration`` seconds (default 10), then serves ``capacity`` requests per
    second (default ``clients / 10``, so recovery takes at least ten seconds however
    big the herd); ``call(t) -> bool`` replaces the model (True: served).
    ``arrival_s``: the first requests are spread over this many seconds (default
    0 for contention, as in the article; 1 for the outage). Delays follow
    :class:`Backoff` with ``base`` and ``cap``. Stops after ``max_calls`` calls
    and reports the clients still waiting.
    """
    if clients < 1:
        raise ValueError("clients must be >= 1")
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: use one of {', '.join(SCENARIOS)}")
    backoff = Backoff(kind=schedule, base=base, cap=cap, attempts=1)
    if scenario == "contention":
        if duration is not None or capacity is not None or call is not None:
            raise ValueError("duration, capacity and call belong to scenario='outage'")
        latency = LATENCY if latency is None else latency
        latency_sd = LATENCY_SD if latency_sd is None else latency_sd
        if not (latency >= 0 and latency_sd >= 0):
            raise ValueError("latency and latency_sd must be >= 0 seconds")
        arrival_s = 0.0 if arrival_s is None else arrival_s
        params = {"scenario": scenario, "seed": seed, "base": base, "cap": cap,
                  "latency": latency, "latency_sd": latency_sd, "arrival_s": arrival_s}
    else:
        if latency is not None or latency_sd is not None or server is not None:
            raise ValueError("latency, latency_sd and server belong to scenario='contention'")
        duration = 10.0 if duration is None else duration
        if capacity is None:
            capacity = max(1, clients // 10)
        arrival_s = 1.0 if arrival_s is None else arrival_s
        params = {"scenario": scenario, "seed": seed, "base": base, "cap": cap,
                  "duration": duration, "capacity": capacity, "arrival_s": arrival_s}
    if not arrival_s >= 0:
        raise ValueError("arrival_s must be >= 0 seconds")

    rng = random.Random(seed)
    if scenario == "contention":
        if server is None:
            server = ContentionModel(start=0.0)
        calls, last, done, load, served = _contention(
            clients, backoff, rng, server, latency, latency_sd, arrival_s, max_calls)
    else:
        if call is None:
            call = OutageModel(duration=duration, capacity=capacity, start=0.0).admit
        calls, last, done, load, served = _outage(clients, backoff, rng, call, arrival_s, max_calls)

    seconds = range(0, max(load) + 1) if load else range(0)
    return HerdResult(
        schedule=schedule,
        clients=clients,
        calls=calls,
        completion_s=last if done == clients else math.inf,
        peak_rps=max(load.values(), default=0),
        unfinished=clients - done,
        load=[load.get(s, 0) for s in seconds],
        served=[served.get(s, 0) for s in seconds],
        params=params,
    )


def _delay_fn(backoff: Backoff, rng: random.Random, clients: int):
    """``delay(i, n)``: client ``i``'s wait before its retry ``n``, :meth:`Backoff.delay`
    inlined (this runs a million times for big herds; a test checks they agree)."""
    kind, base, cap = backoff.kind, backoff.base, backoff.cap
    uniform = rng.uniform
    pow_cap = [min(cap, base * 2.0 ** n) for n in range(64)]
    if kind == "full":
        return lambda i, n: uniform(0, pow_cap[n if n < 64 else 63])
    if kind == "equal":
        def equal(i, n):
            h = pow_cap[n if n < 64 else 63] / 2
            return h + uniform(0, h)
        return equal
    if kind == "exponential":
        return lambda i, n: pow_cap[n if n < 64 else 63]
    if kind == "decorrelated":
        previous = [base] * clients

        def decorrelated(i, n):
            d = uniform(base, previous[i] * 3)
            if d > cap:
                d = cap
            previous[i] = d
            return d
        return decorrelated
    return lambda i, n: base  # constant ("none")


def _contention(clients, backoff, rng, server, latency, latency_sd, arrival_s, max_calls):
    gauss = rng.gauss
    delay = _delay_fn(backoff, rng, clients)
    read, write = server.read, server.write
    # Events (time, client, version): version -1 is a read arriving at the
    # server, otherwise a write made with that version.
    heap = [(rng.random() * arrival_s + abs(gauss(latency, latency_sd)), i, -1)
            for i in range(clients)]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    retries = [0] * clients
    load: dict[int, int] = {}
    served: dict[int, int] = {}
    calls = done = 0
    last = 0.0
    floor = math.floor
    while heap and calls < max_calls:
        t, i, v = pop(heap)
        if v < 0:  # read; the reply travels back, the write travels out
            push(heap, (t + abs(gauss(latency, latency_sd)) + abs(gauss(latency, latency_sd)),
                        i, read(t)))
            continue
        calls += 1
        second = floor(t)
        load[second] = load.get(second, 0) + 1
        if write(t, v):
            served[second] = served.get(second, 0) + 1
            done += 1
            last = t
            continue
        n = retries[i]
        retries[i] = n + 1
        # Conflict: the answer travels back, the client sleeps, its next read travels out.
        push(heap, (t + abs(gauss(latency, latency_sd)) + delay(i, n)
                    + abs(gauss(latency, latency_sd)), i, -1))
    return calls, last, done, load, served


def _outage(clients, backoff, rng, call, arrival_s, max_calls):
    delay = _delay_fn(backoff, rng, clients)
    heap = [(rng.random() * arrival_s, i) for i in range(clients)]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    retries = [0] * clients
    load: dict[int, int] = {}
    served: dict[int, int] = {}
    calls = done = 0
    last = 0.0
    floor = math.floor
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
        push(heap, (t + delay(i, n), i))
    return calls, last, done, load, served


def compare_schedules(schedules: Iterable[str] = ("none",) + SCHEDULES[1:], *, runs: int = 1,
                      **kwargs):
    """One row per schedule, as a DataFrame: :func:`simulate_herd` with ``kwargs``.

    ``runs > 1`` averages that many runs (seeds ``seed``, ``seed + 1``, ...), as the
    article averaged 100 runs per point; ``unfinished`` is then the total.
    """
    import pandas as pd

    if runs < 1:
        raise ValueError("runs must be >= 1")
    seed = kwargs.pop("seed", 0)
    columns = ["calls", "calls_per_client", "completion_s", "peak_rps", "unfinished"]
    rows = []
    for name in schedules:
        results = [simulate_herd(schedule=name, seed=seed + r, **kwargs) for r in range(runs)]
        row = {"schedule": name}
        for column in columns:
            values = [r.to_dict()[column] for r in results]
            if column == "unfinished":
                row[column] = sum(values)
            elif runs == 1 or None in values:
                row[column] = values[0] if runs == 1 else None
            else:
                row[column] = round(sum(values) / runs, 3)
        rows.append(row)
    return pd.DataFrame(rows)[["schedule"] + columns].set_index("schedule")


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


class _RecordOverHTTP:
    """The contention scenario's record, reached through ``/contention`` (RFC 9110 section 13.1.1)."""

    def __init__(self, client, clock: _EventClock, key: str) -> None:
        self.client, self.clock, self.url = client, clock, f"/contention?key={key}"

    def read(self, now: float) -> int:
        self.clock.now = now
        response = self.client.get(self.url)
        response.raise_for_status()
        return int(response.headers["etag"].strip('"'))

    def write(self, now: float, version: int) -> bool:
        self.clock.now = now
        response = self.client.put(self.url, headers={"if-match": f'"{version}"'})
        if response.status_code == 412:
            return False
        response.raise_for_status()
        return True


def herd_over_http(*, transport: str = "inprocess", scenario: str = "contention",
                   clients: int = 25, duration: float | None = None, capacity: int | None = None,
                   **kwargs) -> HerdResult:
    """:func:`simulate_herd`, but every request is a real httpx request to the
    scenario's endpoint (``/contention``: a GET, then a PUT with ``If-Match``; or
    ``/outage``).

    ``transport`` is ``inprocess`` or ``loopback``. Slow (an httpx round trip per
    request): for small herds, to check that the simulation agrees with HTTP.
    """
    import httpx

    from .._simulator import Simulator

    if transport not in ("inprocess", "loopback"):
        raise ValueError(f"transport must be inprocess or loopback, not {transport!r}")
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: use one of {', '.join(SCENARIOS)}")
    clock = _EventClock()
    sim = Simulator(clock=clock, name="herd-over-http")
    try:
        if transport == "inprocess":
            client = sim.client()
        else:
            client = httpx.Client(base_url=sim.serve().origin_url, timeout=5)
        with client:
            if scenario == "contention":
                client.delete("/contention?key=herd").raise_for_status()
                client.get("/contention?key=herd").raise_for_status()  # the record starts at t=0
                record = _RecordOverHTTP(client, clock, "herd")
                return simulate_herd(clients=clients, scenario=scenario, server=record, **kwargs)
            duration = 10.0 if duration is None else duration
            capacity = max(1, clients // 10) if capacity is None else capacity
            client.put(f"/outage?key=herd&duration={duration}&capacity={capacity}").raise_for_status()

            def call(t: float) -> bool:
                clock.now = t
                return client.get("/outage?key=herd").status_code == 200

            return simulate_herd(clients=clients, scenario=scenario, duration=duration,
                                 capacity=capacity, call=call, **kwargs)
    finally:
        sim.stop()
