"""The thundering herd: many clients retrying until they succeed, as a discrete-event simulation.

A scenario is a dataclass holding only its own parameters; :func:`simulate_herd`
runs one. Each drives the very server model behind a lab endpoint (called
directly: an httpx round trip costs ~100 us (``benchmarks/herd.py``), a model
call well under 1 us; a test, and the lesson ``herd_over_http``, send the same
requests through real httpx clients and get the same result):

:class:`Contention` (default; the schedule comparison)
    The AWS Architecture Blog's experiment ("Exponential Backoff And Jitter",
    Marc Brooker, 2015; simulator ``aws-samples/aws-arch-backoff-simulator``,
    ``src/backoff_simulator.py``), reimplemented: every client wants to update
    one record once, with optimistic concurrency
    (:class:`labkit.origin.ContentionModel`, ``/contention``). All clients start
    at once (``arrival_s=0``). One attempt is a read, then a write with the
    version read; each message takes ``|normal(latency, latency_sd)|`` seconds
    (the article's 10 ms, 2 ms), so a read reaches the server at ``r`` and the
    write at ``r + d1 + d2``. The write succeeds only if no other write
    succeeded in between; on a conflict the client learns it ``d3`` later,
    sleeps its backoff delay, and its next read arrives ``d4`` after that.
    ``calls`` counts writes, as the article does; the herd is done when the
    last success reply reaches its client (``d3`` after the last write), as
    the article's simulator measures. Retries are numbered as in that
    simulator (``first_exponent=1``).
:class:`Outage`
    A server down for ``duration`` seconds, then serving ``capacity`` requests a
    second and shedding the rest (:class:`labkit.origin.OutageModel`, ``/outage``):
    the load a recovering server sees. Clients arrive within ``arrival_s`` (1 s).
    Requests take no time, so ``"none"`` (no wait) is refused there. Retries are
    numbered from 0 (``first_exponent=0``), as in a client library. Its 503s carry
    no ``Retry-After`` unless ``retry_after`` says ``"seconds"`` or ``"date"``; the
    clients then wait it instead of their backoff, as ``RetryPolicy`` does, plus
    ``retry_after_jitter`` if set (:class:`Outage`).

How a herd runs (``simulate_herd(method=...)``). ``"events"`` is the discrete-event
loop: a heap of pending events, the earliest taken one at a time, its message
delays drawn from Python's generator as it is taken; it runs every scenario and
schedule, ~0.6 us an event, and it is what ``herd_over_http`` reproduces request
for request. ``"auto"`` takes the fastest way to the same model wherever the
contention scenario runs on its own record with a spread in its delays
(``latency_sd > 0``): ``"writes"``, whose results equal the loop's in distribution
(over many seeds), not number for number:

- A write made at ``w`` with a version read at ``r`` succeeds exactly when no
  write succeeded in between, that is when ``r`` is after the last success so
  far. So a client's read need not be an event: when a conflict reaches the
  client, its next read and the write after it are drawn at once, and only writes
  are events (:func:`_contention_write_loop`): half the heap operations, with
  every delay and jitter made in bulk by numpy's generator (seeded from
  ``seed``). Notebook 04 runs thousands of small herds this way, about 2.5 times
  faster than event by event.
- Contention without jitter (none, constant, exponential) is quadratic: a few
  writes win each synchronised wave and the rest are doomed and retry, so 10,000
  clients make 3.1 million writes (constant, exponential) or 15.8 million (none).
  From :data:`AUTO_WAVES_FROM` (200) clients ``"writes"`` takes those many writes
  per numpy step (:func:`_contention_writes`, below).

``"waves"`` (what ``"auto"`` takes from 200 clients when ``latency_sd`` is 0) runs the
loop's own model many events per numpy step, with the loop's result:

- Every client has exactly one pending event, so a step takes the pending
  events of the next instants in the loop's order (time, then client) and keeps
  the longest prefix the loop would take in that order, up to the first event
  that some follow-up of an earlier one in the prefix would precede. Every
  write in such a prefix was made with a version read before the step, so at
  most one of them succeeds: the first made with the current version. That fixes
  how many delays each event draws, so which numbers it gets, and the prefix is
  computed with array operations (:func:`_contention_waves`). Without jitter
  the clients on one attempt move as a wave: its reads, then its writes, all
  come before their follow-ups, so a step takes hundreds to thousands of
  events. (With jitter the backoff draws from the same generator between the
  delays and the clients spread out, so steps would be short.)
- Up to :data:`EXACT_WAVES_UP_TO` (1,000) clients, and whenever ``latency_sd``
  is 0 (the model is then deterministic), the delays come from the loop's own
  generator in the loop's order (:func:`_gauss_stream` reproduces Python's
  ``random.gauss`` with numpy): the result is the loop's, figure for figure.
  Above, drawing Python's stream would dominate (63 million numbers for 10,000
  clients without wait), so ``"waves"`` runs as ``"writes"`` does: numpy's
  generator, reads folded into the writes (:func:`_contention_writes`), the
  loop's result in distribution. 10,000 clients take ~0.2 s (constant,
  exponential) and ~1.3 s (none) on a quiet 2-core machine, against 7.3 s and
  over a minute event by event.
- No wait (``"none"``) always finishes under contention, however big the herd:
  as long as no write succeeds the version stays put, so the first write made
  with a version read after the last success succeeds. It needs about a sixth
  of ``clients**2`` writes (188,078 for 1,000 clients on the event loop, 15.8
  million for 10,000, done after 131 s, seed 0); the old limit of 5 million calls stopped it
  unfinished, and ``max_calls`` (default now: no limit) stops a run early only
  when asked.

Delays are :class:`labkit.retry.Backoff`'s. Before retry ``n`` (0 for the first),
with ``t = min(cap, base * 2**(n + first_exponent))``: none ``0``; constant
``base``; exponential ``t``; full ``uniform(0, t)``; equal ``t/2 + uniform(0, t/2)``;
decorrelated ``min(cap, uniform(base, 3 * previous))``, ``previous`` starting at
``base``. ``first_exponent=1`` is the article's numbering (its code counts the
failed attempt before computing the wait): the first wait is ``2 * base``.

What it finds (``notebooks/04-thundering-herd.ipynb``; figures from
:func:`compare_sizes` / :func:`compare_schedules`, seed 0):

- At the article's settings (``Contention(latency=0.010)``, ``base=0.005``,
  ``cap=2``; ``labkit herd --scenario contention --base 0.005 --cap 2 --latency
  0.010``), 100 runs at 100 clients: calls per client none 24.24, exponential
  18.56, full 7.96, equal 8.13, decorrelated 10.00; done after 2.0, 63.5, 5.0,
  6.4 and 4.6 s. That is the article's finding: no jitter does the most work
  (exponential also takes the most time), full and equal jitter about the same
  calls and decorrelated more, equal jitter much longer than full, full jitter
  slightly longer than decorrelated. The article's simulator, 5,000 runs at 10,
  20, 50 and 100 clients, agrees within 1% on calls and 9% on time (the
  furthest: full jitter at 20 clients, 1.09 s against 1.00 s, where an average
  of 100 runs wanders; ``tests/test_herd_aws_reference.py`` holds its figures
  and checks 150 seeds). At 10 and 20 clients decorrelated is level with full
  jitter or ahead (3.76 against 3.92 at 10).
- Without jitter the clients on the same attempt form one wave: one write wins
  the first, a few each later one (``HerdResult.wins_by_attempt``; exponential,
  on average 2.6 a wave at 100 clients, 6.3 at 1,000, 15 at 10,000), so the
  calls grow with the square of the herd.
- With the lab's ``base=1``, ``cap=60`` (``compare_schedules(clients=1000,
  runs=3)``): decorrelated makes the fewest calls (4.58 per client; full 4.65,
  equal 4.78), none 188, constant and exponential 75.3.
- When the herd needs longer than the cap to drain (``clients * 2 * latency``
  above about ``cap``), every client sleeps near ``cap`` and the schedule with
  the longest sleeps there (equal, ``3/4 cap`` on average, against ``1/2 cap`` for
  full) makes the fewest calls: with the article's cap equal jitter passes full
  at about 150-200 clients (9.38 against 9.48 at 200, 20 runs); with ``cap=60``
  between 1,000 and 3,000, and at 10,000 clients equal makes 8.11 per client,
  full 8.78, decorrelated 10.04.
- The outage (10,000 clients, ``Outage()``): equal jitter 5.55 calls per client,
  full 6.00, decorrelated 4.87, exponential 9.5, constant 15.5.
- The outage's ``Retry-After`` (10,000 clients, ``compare_retry_after(clients=10_000)``;
  calls per client, done after, busiest second and busiest 10 ms after the
  recovery): none (full jitter) 6.00, 71.2 s, 1,545, 25; seconds 6.50, 20.0 s,
  10,000, 125; date 6.50, 19.0 s, 10,000, 10,000 (every client at 10.000 s);
  with ``retry_after_jitter=0.5`` seconds 3.40, 20.5 s, 4,019, 72 and date 4.61,
  19.4 s, 6,000, 271. A date synchronises the herd; delay-seconds, rounded up,
  brings it back within one second however spread its first failures (the same
  with ``arrival_s=5``); jitter on top of ``Retry-After`` spreads it.

One seed drives everything (Python's generator seeded with ``seed``, and numpy's
seeded from it): a run is reproducible.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import itertools
import math
import random
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, ClassVar, Iterable, Protocol

from ..core import parse_retry_after
from ..origin import ContentionModel
from ..origin._outage import RETRY_AFTER_FORMS
from ._schedules import SCHEDULES, Backoff

__all__ = ["HERD_SCENARIOS", "RETRY_AFTER_FORMS", "Contention", "HerdResult", "Outage",
           "compare_retry_after", "compare_schedules", "compare_sizes", "simulate_herd"]

# How simulate_herd runs a herd: "auto" takes "waves" wherever it can (the same result).
METHODS = ("auto", "events", "waves", "writes")
# "auto" runs smaller herds event by event: below ~200 clients the loop is as fast.
AUTO_WAVES_FROM = 200
# Up to this many clients "waves" draws the event loop's very numbers (its result is
# the loop's); above, numpy's own generator: drawing Python's stream costs ~70 ns a
# number against ~10, and a 10,000-client herd without wait draws 63 million.
EXACT_WAVES_UP_TO = 1000
# Schedules whose delays draw no random numbers.
_WAVE_SCHEDULES = ("none", "constant", "exponential")

# The article's network: each message takes |normal(10 ms, 2 ms)|.
LATENCY = 0.010
LATENCY_SD = 0.002


class Record(Protocol):
    """What the contention scenario talks to: :class:`ContentionModel` or an HTTP adapter."""

    def read(self, now: float) -> int: ...

    def write(self, now: float, version: int) -> bool: ...


def _check_arrival(arrival_s: float) -> None:
    if not arrival_s >= 0:  # also refuses NaN
        raise ValueError("arrival_s must be >= 0 seconds")


def _check_first_exponent(first_exponent: int) -> None:
    Backoff(first_exponent=first_exponent)  # its check and its message


@dataclass(frozen=True, slots=True, kw_only=True)
class Contention:
    """Every client updates one record once, with optimistic concurrency (the module docstring).

    ``latency`` and ``latency_sd`` shape each message's delay; ``arrival_s``
    spreads the first reads (0: all at once, as in the article); ``first_exponent``
    numbers the retries in the schedules' ``t = min(cap, base * 2**(n + first_exponent))``
    (:class:`~labkit.retry.Backoff`): 1, the default, is the article's numbering (first
    wait ``2 * base``), 0 waits ``base`` first; ``server`` replaces the fresh
    :class:`~labkit.origin.ContentionModel` of each run (anything with ``read(now)``
    and ``write(now, version)``).
    """

    name: ClassVar[str] = "contention"
    schedules: ClassVar[tuple[str, ...]] = SCHEDULES
    latency: float = LATENCY
    latency_sd: float = LATENCY_SD
    arrival_s: float = 0.0
    first_exponent: int = 1
    server: Record | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (self.latency >= 0 and self.latency_sd >= 0):
            raise ValueError("latency and latency_sd must be >= 0 seconds")
        _check_arrival(self.arrival_s)
        _check_first_exponent(self.first_exponent)

    def params(self, clients: int) -> dict:
        """The numbers a result reports (``clients`` is unused: every default is fixed)."""
        return {"latency": self.latency, "latency_sd": self.latency_sd, "arrival_s": self.arrival_s,
                "first_exponent": self.first_exponent}

    def _simulate(self, clients, backoff, rng, max_calls, times, method):
        if method == "writes":
            batches = backoff.kind in _WAVE_SCHEDULES and clients >= AUTO_WAVES_FROM
            return (_contention_writes if batches else _contention_write_loop)(clients, backoff, rng, self.latency, self.latency_sd,
                                          self.arrival_s, max_calls, times)
        if method == "waves":
            exact = clients <= EXACT_WAVES_UP_TO or self.latency_sd == 0
            return (_contention_waves if exact else _contention_writes)(
                clients, backoff, rng, self.latency, self.latency_sd, self.arrival_s,
                max_calls, times)
        if self.server is None:
            return _contention_own(clients, backoff, rng, self.latency, self.latency_sd,
                                   self.arrival_s, max_calls, times)
        return _contention(clients, backoff, rng, self.server, self.latency, self.latency_sd,
                           self.arrival_s, max_calls, times)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outage:
    """A server down ``duration`` seconds, then serving ``capacity`` requests a second.

    ``capacity`` None means a tenth of the herd (at least 1), so recovery takes
    at least ten seconds however big the herd; ``arrival_s`` spreads the first
    requests; ``first_exponent`` numbers the retries as in :class:`Contention`
    (default 0: the first wait is ``base``, as in notebook 03's policies).
    Requests take no time, so schedule ``"none"`` (no wait) is refused: use
    ``"constant"``.

    ``retry_after`` is what the server's 503s carry (:class:`~labkit.origin.OutageModel`):
    ``"none"`` (the default), ``"seconds"`` (the time left until it next has
    capacity, rounded up) or ``"date"`` (that moment, rounded up to a whole
    second). The clients honour it as :meth:`labkit.retry.RetryPolicy.decide`
    does: a 503 with a usable ``Retry-After`` is retried after
    ``ra = min(Retry-After, max_retry_after)`` *instead of* the backoff delay (the
    retry still counts towards the schedule's ``n``); without one, after the
    backoff delay. ``retry_after_jitter`` ``j`` (default 0: wait exactly ``ra``,
    as the policy does) makes each client wait ``ra * (1 + uniform(0, j))``,
    spread over ``[ra, ra * (1 + j)]``: never sooner than the server asked
    (RFC 9110 section 10.2.3 says how long the client "ought to wait"; nothing
    stops it waiting longer).

    ``call(t)`` replaces the fresh :class:`~labkit.origin.OutageModel` of each
    run: it returns True when the request at ``t`` is served, otherwise False
    or the 503's ``Retry-After`` field value (a string, read with
    :func:`labkit.core.parse_retry_after` at ``now=t``).
    """

    name: ClassVar[str] = "outage"
    # No network delay here: a client that never waits ("none") would retry
    # forever at the same instant, so the outage runs every schedule but that one.
    schedules: ClassVar[tuple[str, ...]] = tuple(s for s in SCHEDULES if s != "none")
    duration: float = 10.0
    capacity: int | None = None
    arrival_s: float = 1.0
    first_exponent: int = 0
    retry_after: str = "none"
    retry_after_jitter: float = 0.0
    max_retry_after: float = 60.0
    call: Callable[[float], bool | str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.duration >= 0 or (self.capacity is not None and self.capacity < 1):
            raise ValueError("duration must be >= 0 and capacity >= 1")
        _check_arrival(self.arrival_s)
        _check_first_exponent(self.first_exponent)
        if self.retry_after not in RETRY_AFTER_FORMS:
            raise ValueError(f"retry_after must be one of {', '.join(RETRY_AFTER_FORMS)}, "
                             f"not {self.retry_after!r}")
        if not 0 <= self.retry_after_jitter < math.inf:  # also refuses NaN
            raise ValueError("retry_after_jitter must be >= 0 (a fraction of Retry-After)")
        if not self.max_retry_after > 0:
            raise ValueError("max_retry_after must be > 0 seconds")

    def capacity_for(self, clients: int) -> int:
        """Requests served per second after recovery, for a herd of ``clients``."""
        return max(1, clients // 10) if self.capacity is None else self.capacity

    def params(self, clients: int) -> dict:
        """The numbers a result reports, defaults resolved for ``clients``."""
        return {"duration": self.duration, "capacity": self.capacity_for(clients),
                "arrival_s": self.arrival_s, "first_exponent": self.first_exponent,
                "retry_after": self.retry_after, "retry_after_jitter": self.retry_after_jitter,
                "max_retry_after": self.max_retry_after}

    def _simulate(self, clients, backoff, rng, max_calls, times, method):
        call = self.call
        if call is None:
            return _outage_own(clients, backoff, rng, self.duration, self.capacity_for(clients),
                               self.retry_after, self.arrival_s, max_calls, times,
                               self.max_retry_after, self.retry_after_jitter)

        def respond(t):
            answer = call(t)
            if answer is True or answer is False or answer is None:
                return answer
            return parse_retry_after(answer, now=t)
        return _outage(clients, backoff, rng, respond, self.arrival_s, max_calls, times,
                       self.max_retry_after, self.retry_after_jitter)


HerdScenario = Contention | Outage
# By name, for the CLI's --scenario and the widget's toggle.
HERD_SCENARIOS: dict[str, type[Contention] | type[Outage]] = {
    Contention.name: Contention, Outage.name: Outage}


@dataclass(slots=True)
class HerdResult:
    """What the server saw. ``load[s]`` / ``served[s]``: requests (contention:
    writes) in second ``s``, and those that succeeded. ``completion_s``: when the
    last client knew it had succeeded (contention: its success reply arrived, as
    the article's simulator measures; outage: it was served), ``inf`` if some never
    did. ``wins_by_attempt[k]``: clients whose request number ``k + 1`` succeeded;
    without jitter all clients on the same attempt form one synchronised wave.
    ``times``: when each request reached the server, if ``simulate_herd(times=True)``."""

    schedule: str
    clients: int
    calls: int
    completion_s: float
    peak_rps: int
    unfinished: int
    load: list[int] = field(repr=False)
    served: list[int] = field(repr=False)
    params: dict = field(repr=False, default_factory=dict)
    wins_by_attempt: list[int] = field(repr=False, default_factory=list)
    times: list[float] | None = field(repr=False, default=None)

    @property
    def calls_per_client(self) -> float:
        return self.calls / self.clients if self.clients else 0.0

    def peak(self, *, after: float = 0.0, bin_s: float = 1.0) -> int:
        """The most requests in one interval of ``bin_s`` seconds (intervals start at
        0) among those from the one holding ``after`` on: ``peak(after=10)`` is the
        peak load per second once a 10 s outage is over. Intervals shorter than a
        second count :attr:`times` (``simulate_herd(..., times=True)``), which tells
        a whole second's requests arriving at one instant from the same number
        spread over the second.
        """
        if not bin_s > 0:
            raise ValueError("bin_s must be > 0 seconds")
        if bin_s == 1:
            return max(self.load[max(0, math.floor(after)):], default=0)
        if self.times is None:
            raise ValueError("intervals shorter than a second count each request: "
                             "run simulate_herd(..., times=True)")
        first = math.floor(after / bin_s)
        counts: dict[int, int] = {}
        for t in self.times:
            k = math.floor(t / bin_s)
            if k >= first:
                counts[k] = counts.get(k, 0) + 1
        return max(counts.values(), default=0)

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
    scenario: HerdScenario | None = None,
    *,
    clients: int = 1000,
    schedule: str = "full",
    seed: int = 0,
    base: float = 1.0,
    cap: float = 60.0,
    max_calls: int | None = None,
    times: bool = False,
    method: str = "auto",
) -> HerdResult:
    """Run ``clients`` clients, each retrying with backoff ``schedule`` until it succeeds.

    ``scenario`` is a :class:`Contention` (the default, ``Contention()``) or an
    :class:`Outage`. Delays follow :class:`Backoff` with ``base``, ``cap`` and the
    scenario's ``first_exponent``: the wait before retry ``n`` (0 for the first) is,
    with ``t = min(cap, base * 2**(n + first_exponent))``, 0 (none), ``base``
    (constant), ``t`` (exponential), ``uniform(0, t)`` (full), ``t/2 + uniform(0, t/2)``
    (equal) or ``min(cap, uniform(base, 3 * previous))`` (decorrelated).
    ``Contention()`` numbers retries as the article's simulator (``first_exponent=1``:
    the first wait is ``2 * base``); ``Outage()`` from 0. ``times=True`` keeps every
    request's arrival time (``HerdResult.times``, for :func:`labkit.widgets.plot_herd`).
    ``max_calls`` (default None: no limit; every scenario finishes) stops the run
    after that many calls and reports the clients still waiting.

    ``method``: ``"events"`` runs the discrete-event loop on Python's generator (every
    scenario; ``herd_over_http`` reproduces it request for request); ``"writes"``
    the contention scenario on its own record (``server=None``) with
    ``latency_sd > 0``, reads folded into the writes and numpy's generator;
    ``"waves"`` contention without jitter on its own record, many events per numpy
    step; ``"auto"`` (default) ``"writes"`` where it applies, else ``"waves"``
    from 200 clients where it applies, else ``"events"``. ``"waves"`` equals the
    loop up to 1,000 clients or with ``latency_sd=0``; otherwise results are the
    loop's in distribution, not number for number (the module docstring, "How a
    herd runs").

    A run is a function of these arguments: running it again (a notebook cell run
    twice) returns an equal copy from a memo of the last 128 runs, except runs
    with ``times=True``, runs of more than 1,000 simulated seconds, and runs
    against a ``server`` or ``call`` of your own.
    """
    if scenario is None:
        scenario = Contention()
    if not isinstance(scenario, (Contention, Outage)):
        raise TypeError(f"scenario must be Contention(...) or Outage(...), not {scenario!r}")
    if clients < 1:
        raise ValueError("clients must be >= 1")
    if max_calls is not None and max_calls < 1:
        raise ValueError("max_calls must be >= 1 (or None: no limit)")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    backoff = Backoff(kind=schedule, base=base, cap=cap, attempts=1,
                      first_exponent=scenario.first_exponent)
    if backoff.kind not in scenario.schedules:
        raise ValueError(f"the {scenario.name} scenario has no network delay, so schedule "
                         f"{schedule!r} (no wait) would retry forever at the same instant: "
                         "use 'constant' (a fixed wait of base)")
    waves = (isinstance(scenario, Contention) and scenario.server is None
             and backoff.kind in _WAVE_SCHEDULES)
    if method == "waves" and not waves:
        raise ValueError("method='waves' runs the contention scenario's schedules without "
                         f"jitter ({', '.join(_WAVE_SCHEDULES)}) on its own record (server=None)")
    # One write at a time needs a spread in the delays: with latency_sd 0 events tie,
    # and only the event loop orders them as it does (by client).
    writes = (isinstance(scenario, Contention) and scenario.server is None
              and scenario.latency_sd > 0)
    if method == "writes" and not writes:
        raise ValueError("method='writes' runs the contention scenario on its own record "
                         "(server=None) with latency_sd > 0")
    if method == "auto":  # the fastest: the same model, equal in distribution
        if writes:
            method = "writes"
        else:
            method = "waves" if waves and clients >= AUTO_WAVES_FROM else "events"
    # A run is a function of its arguments, so a cell run again (or a comparison
    # repeating one) is answered from a memo, as a copy the caller may change.
    # Not memoised: runs keeping every arrival time (large), and runs against a
    # server or call of the learner's own, whose state the arguments do not show.
    key = None
    if not times and getattr(scenario, "server", None) is None and getattr(scenario, "call", None) is None:
        key = (scenario, clients, schedule, seed, base, cap, max_calls, method, EXACT_WAVES_UP_TO)
        try:
            with _RUNS_LOCK:  # a learner may run herds from several threads at once
                memo = _RUNS.get(key)
                if memo is not None:
                    _RUNS.move_to_end(key)
        except TypeError:  # an argument that cannot be a key (unhashable): just run
            key = memo = None
        if memo is not None:
            return _copy(memo)  # the memo's own copy is never handed out, nor changed
    result = _run(scenario, clients, schedule, seed, base, cap, max_calls, times, method, backoff)
    if key is not None and len(result.load) <= _MAX_RUN_SECONDS:
        with _RUNS_LOCK:
            _RUNS[key] = _copy(result)
            if len(_RUNS) > _MAX_RUNS:
                _RUNS.popitem(last=False)
    return result


# simulate_herd's results by arguments, least recently used first. A result
# without times is a few hundred numbers; 128 covers any one cell of notebook 04
# run again but its two comparisons of hundreds of small herds, and keeps the
# course within its memory aim (benchmarks/memory.py). A run of more simulated
# seconds keeps two numbers a second (load and served): it is not kept.
_RUNS: OrderedDict[tuple, HerdResult] = OrderedDict()
_RUNS_LOCK = threading.Lock()
_MAX_RUNS = 128
_MAX_RUN_SECONDS = 1000


def _copy(result: HerdResult) -> HerdResult:
    return dataclasses.replace(result, load=list(result.load), served=list(result.served),
                               params=dict(result.params), wins_by_attempt=list(result.wins_by_attempt))


def _run(scenario, clients, schedule, seed, base, cap, max_calls, times, method, backoff) -> HerdResult:
    params = {"scenario": scenario.name, "seed": seed, "base": base, "cap": cap,
              **scenario.params(clients)}
    arrivals: list[float] | None = [] if times else None
    calls, last, done, load, served, wins = scenario._simulate(
        clients, backoff, random.Random(seed), math.inf if max_calls is None else max_calls,
        arrivals, method)

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
        wins_by_attempt=[wins.get(k, 0) for k in range(max(wins) + 1)] if wins else [],
        times=arrivals,
    )


@functools.lru_cache(maxsize=64)
def _capped_waits(base: float, cap: float, first_exponent: int) -> tuple[float, ...]:
    """``min(cap, base * 2**(n + first_exponent))`` for retries ``n`` 0 to 63 (later
    ones wait the last): the same for every run of a comparison, so made once."""
    return tuple(min(cap, base * 2.0 ** min(n + first_exponent, 62)) for n in range(64))


def _delay_fn(backoff: Backoff, rng: random.Random, clients: int):
    """``delay(i, n)``: client ``i``'s wait before its retry ``n``, :meth:`Backoff.delay`
    inlined (this runs a million times for big herds; a test checks they agree).
    Decorrelated's function keeps each client's previous wait in ``.previous``."""
    kind, base, cap = backoff.kind, backoff.base, backoff.cap
    uniform = rng.uniform
    first = backoff.first_exponent
    pow_cap = _capped_waits(base, cap, first)
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
        decorrelated.previous = previous
        return decorrelated
    if kind == "none":
        return lambda i, n: 0.0
    return lambda i, n: base  # constant


def _contention(clients, backoff, rng, server, latency, latency_sd, arrival_s, max_calls, times):
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
    wins: dict[int, int] = {}
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
        if times is not None:
            times.append(t)
        second = floor(t)
        load[second] = load.get(second, 0) + 1
        n = retries[i]
        if write(t, v):
            served[second] = served.get(second, 0) + 1
            wins[n] = wins.get(n, 0) + 1
            done += 1
            # Done when the success reply reaches the client (the article's measure).
            reply = t + abs(gauss(latency, latency_sd))
            if reply > last:
                last = reply
            continue
        retries[i] = n + 1
        # Conflict: the answer travels back, the client sleeps, its next read travels out.
        push(heap, (t + abs(gauss(latency, latency_sd)) + delay(i, n)
                    + abs(gauss(latency, latency_sd)), i, -1))
    return calls, last, done, load, served, wins


def _contention_own(clients, backoff, rng, latency, latency_sd, arrival_s, max_calls, times):
    """:func:`_contention` on the scenario's own record, with the record and
    ``random.gauss`` written into the loop: the same events, the same numbers.

    The loop is what every jittered and small herd runs (notebook 04 runs
    thousands), and a Python call per message delay was half its time.
    ``random.gauss`` (CPython's ``Lib/random.py``) makes its normals in pairs
    from two ``random()`` draws and keeps the second for the next call; the
    spare is kept here as a local, which is equivalent because nothing else
    in the loop draws normals (the backoff draws ``uniform``, one ``random()``).
    ``tests/test_herd_waves.py`` checks every figure against :func:`_contention`.
    """
    rand = rng.random
    delay = _delay_fn(backoff, rng, clients)
    log, sqrt, cos, sin, floor = math.log, math.sqrt, math.cos, math.sin, math.floor
    two_pi = 2.0 * math.pi
    spare = rng.gauss_next
    rng.gauss_next = None

    heap = []
    for i in range(clients):
        start = rand() * arrival_s
        if spare is None:
            x = rand() * two_pi
            g = sqrt(-2.0 * log(1.0 - rand()))
            z, spare = cos(x) * g, sin(x) * g
        else:
            z, spare = spare, None
        heap.append((start + abs(latency + z * latency_sd), i, -1))
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    version = 0  # the record: a write made with the current version wins and bumps it
    retries = [0] * clients
    load: dict[int, int] = {}
    served: dict[int, int] = {}
    wins: dict[int, int] = {}
    calls = done = 0
    last = 0.0
    while heap and calls < max_calls:
        t, i, v = pop(heap)
        # Two message delays (the read's reply and the write; or a conflict's
        # answer and the next read), drawn in the loop's order.
        if spare is None:
            x = rand() * two_pi
            g = sqrt(-2.0 * log(1.0 - rand()))
            z, spare = cos(x) * g, sin(x) * g
        else:
            z, spare = spare, None
        if v < 0:  # read; the reply travels back, the write travels out
            d1 = abs(latency + z * latency_sd)
            if spare is None:
                x = rand() * two_pi
                g = sqrt(-2.0 * log(1.0 - rand()))
                z, spare = cos(x) * g, sin(x) * g
            else:
                z, spare = spare, None
            push(heap, (t + d1 + abs(latency + z * latency_sd), i, version))
            continue
        calls += 1
        if times is not None:
            times.append(t)
        second = floor(t)
        load[second] = load.get(second, 0) + 1
        n = retries[i]
        if v == version:
            version += 1
            served[second] = served.get(second, 0) + 1
            wins[n] = wins.get(n, 0) + 1
            done += 1
            # Done when the success reply reaches the client (the article's measure).
            reply = t + abs(latency + z * latency_sd)
            if reply > last:
                last = reply
            continue
        retries[i] = n + 1
        # Conflict: the answer travels back, the client sleeps, its next read travels out.
        back = t + abs(latency + z * latency_sd) + delay(i, n)
        if spare is None:
            x = rand() * two_pi
            g = sqrt(-2.0 * log(1.0 - rand()))
            z, spare = cos(x) * g, sin(x) * g
        else:
            z, spare = spare, None
        push(heap, (back + abs(latency + z * latency_sd), i, -1))
    rng.gauss_next = spare
    return calls, last, done, load, served, wins


def _numpy_stream(make, size: int):
    """``next()``: the floats of ``make(k)`` one at a time, ``k`` from ``size`` doubling
    to 65,536: numpy makes them in bulk, the loop reads each for ~30 ns."""
    def chunks():
        k = size
        while True:
            yield make(k).tolist()
            k = min(2 * k, 1 << 16)
    return itertools.chain.from_iterable(chunks()).__next__


def _contention_write_loop(clients, backoff, rng, latency, latency_sd, arrival_s, max_calls, times):
    """The contention scenario on its own record, one write at a time (``method="writes"``).

    The model of :func:`_contention`, with the reads folded into the writes as in
    :func:`_contention_writes`: a write made at ``w`` with a version read at ``r``
    succeeds exactly when ``r`` is after the last success so far, so a conflict
    draws the client's whole next attempt at once (its answer's trip, the backoff,
    the next read's trip; the read's reply and the write's trip) and only writes
    are events: half the heap operations of the event loop. Every message delay
    and every jitter comes from numpy's generator (seeded from ``rng``) in bulk,
    so the loop does no arithmetic of its own beyond sums. The draws are the
    loop's in distribution, not number for number (a test compares the means over
    many seeds); with ``latency_sd`` 0, where events tie and the loop orders them
    by client, :func:`simulate_herd` takes the loop itself.

    The backoff before retry ``n`` is ``low[n] + u * width[n]`` with ``u`` uniform on
    [0, 1): full jitter ``0 + u * t``, equal ``t/2 + u * t/2``, and the schedules
    without jitter a fixed ``low`` and no width (``u`` is then always 0);
    decorrelated is ``min(cap, base + u * (3 * previous - base))``, that is
    ``min(cap, uniform(base, 3 * previous))``, per client.
    """
    import numpy as np

    generator = np.random.default_rng(rng.getrandbits(128))
    normal = generator.normal
    kind, base, cap = backoff.kind, backoff.base, backoff.cap
    t = _capped_waits(base, cap, backoff.first_exponent)

    def one(k):
        d = normal(latency, latency_sd, k)
        return np.abs(d, out=d)

    def two(k):  # two message delays in a row
        d = np.abs(normal(latency, latency_sd, (2, k)))
        return d[0] + d[1]

    size = max(64, 4 * clients)
    trips = _numpy_stream(two, size)
    reply = _numpy_stream(one, max(16, clients))
    decorrelated = kind == "decorrelated"
    if kind in ("full", "equal", "decorrelated"):
        u = _numpy_stream(generator.random, size)
        low = [0.0] * 64 if kind == "full" else [x / 2 for x in t]
        width = t if kind == "full" else low
    else:
        u = itertools.repeat(0.0).__next__
        low = t if kind == "exponential" else [0.0 if kind == "none" else base] * 64
        width = low
    previous = [base] * clients

    read_at = generator.random(clients) * arrival_s + one(clients)
    heap = list(zip((read_at + two(clients)).tolist(), read_at.tolist(), range(clients)))
    heapq.heapify(heap)
    pop, replace = heapq.heappop, heapq.heapreplace
    retries = [0] * clients
    wrote: list[float] = []  # every write's time, in order
    won: list[tuple[float, int]] = []  # (time, retry) of each success
    write = wrote.append
    success = -math.inf
    last = 0.0
    calls = 0
    while heap and calls < max_calls:
        w, r, i = heap[0]
        calls += 1
        write(w)
        if r > success:
            success = w
            won.append((w, retries[i]))
            # Done when the success reply reaches the client (the article's measure).
            e = w + reply()
            if e > last:
                last = e
            pop(heap)
            continue
        n = retries[i]
        retries[i] = n + 1
        if n > 63:
            n = 63
        if decorrelated:
            b = base + u() * (previous[i] * 3 - base)
            if b > cap:
                b = cap
            previous[i] = b
        else:
            b = low[n] + u() * width[n]
        r = w + trips() + b
        replace(heap, (r + trips(), r, i))

    if times is not None:
        times.extend(wrote)
    load = _per_second(wrote)
    served = _per_second([w for w, _ in won])
    wins: dict[int, int] = {}
    for _, n in won:
        wins[n] = wins.get(n, 0) + 1
    return calls, last, len(won), load, served, wins


def _per_second(moments: list[float]) -> dict[int, int]:
    """How many of ``moments`` fall in each whole second, as ``{second: count}``."""
    import numpy as np

    if not moments:
        return {}
    seconds, counts = np.unique(np.floor(np.array(moments)).astype(np.int64), return_counts=True)
    return dict(zip(seconds.tolist(), counts.tolist()))


def _gauss_stream(rng: random.Random):
    """``draw(k)``: the next ``k`` values of ``rng.gauss(0, 1)``, ``rng``'s own stream,
    as a numpy array, made ``k`` at a time at numpy speed.

    ``random.Random`` and numpy's ``MT19937`` are the same Mersenne Twister and
    build a double from two 32-bit words the same way (``(a >> 5) * 2**26 + (b >> 6)``
    over ``2**53``), so a generator started from ``rng.getstate()`` gives the same
    ``random()`` values; ``gauss`` turns each pair into two values with the formula
    of CPython's ``Lib/random.py`` (``cos`` first, ``sin`` kept for the next call).
    ``log`` is :mod:`math`'s, as there: numpy's own (vectorised on AVX-512 CPUs)
    differs from it in the last bit for about one number in 300; numpy's ``sqrt``,
    ``cos`` and ``sin`` agree with :mod:`math`'s (a test compares the streams).
    """
    import numpy as np

    _, state, gauss_next = rng.getstate()
    bits = np.random.MT19937()
    bits.state = {"bit_generator": "MT19937",
                  "state": {"key": np.array(state[:624], dtype=np.uint32), "pos": state[624]}}
    uniform = np.random.Generator(bits).random
    log = math.log
    carry = [] if gauss_next is None else [gauss_next]

    def draw(k):
        head = carry[:k]
        del carry[:k]
        need = k - len(head)
        if need <= 0:
            return np.array(head, dtype=float)
        pairs = (need + 1) // 2
        u = uniform(2 * pairs)
        x2pi = u[0::2] * (2 * math.pi)
        g2rad = np.sqrt(-2.0 * np.fromiter(map(log, (1.0 - u[1::2]).tolist()), float, pairs))
        z = np.empty(2 * pairs)
        z[0::2] = np.cos(x2pi) * g2rad
        z[1::2] = np.sin(x2pi) * g2rad
        if need < 2 * pairs:
            carry.append(float(z[-1]))
            z = z[:-1]
        return np.concatenate((head, z)) if head else z
    return draw


def _ties(t) -> bool:
    """Whether the sorted times ``t`` hold two equal ones."""
    return len(t) > 1 and bool((t[1:] == t[:-1]).any())


def _wave_delays(backoff: Backoff):
    """The wait before retry ``n`` (index, up to 63) of a schedule without jitter, as a numpy array."""
    import numpy as np

    kind, base, cap = backoff.kind, backoff.base, backoff.cap
    if kind == "exponential":
        return np.array(_capped_waits(base, cap, backoff.first_exponent))
    return np.full(64, 0.0 if kind == "none" else float(base))  # none: 0, constant: base


def _contention_waves(clients, backoff, rng, latency, latency_sd, arrival_s, max_calls, times):
    """:func:`_contention` for schedules without jitter, many events per numpy step.

    Same events, same order, same random numbers, so the same result (a test
    compares the two on every schedule without jitter): the clients' first reads
    are drawn as there, then every message delay ``|gauss(latency, latency_sd)|``
    comes from the same generator in the same order (:func:`_gauss_stream`).

    The event loop takes the earliest pending event (by time, then client),
    draws its delays (a read: two, its reply and its write's trip; a conflict:
    two, around the backoff delay; a success: one, its reply) and schedules the
    client's next event. Each client has exactly one pending event, so a step
    here takes the pending events of the next instants at once, in the loop's
    order ``e0 < e1 < ...``, and keeps the longest prefix that the loop would
    take in that order: ``ek`` is the loop's next event as long as no follow-up
    of ``e0 .. e(k-1)`` comes before it. In such a prefix every write was made
    with a version read before the step, so at most one write succeeds: the
    first made with the current version (the others now hold an old one). That
    fixes how many delays each event draws, so which numbers it gets, and the
    whole prefix is a handful of array operations.

    Why it pays without jitter: the clients on the same attempt form a wave
    (the module docstring) whose reads, and then whose writes, come before any
    of their follow-ups, so a step takes hundreds to thousands of events. The
    cost still grows with the calls (every delay is drawn, as the loop draws
    it), at a fraction of a microsecond each instead of ~2 us.
    """
    import numpy as np

    gauss = rng.gauss
    at_time = np.array([rng.random() * arrival_s + abs(gauss(latency, latency_sd))
                        for _ in range(clients)])
    version_of = np.full(clients, -1, dtype=np.int64)  # the pending event: -1 a read
    retries = np.zeros(clients, dtype=np.int64)
    # With latency_sd 0 every delay is |latency|: the numbers drawn change nothing.
    draw = np.zeros if latency_sd == 0 else _gauss_stream(rng)
    table = _wave_delays(backoff)
    buffer = np.empty(0)
    used = 0
    load: dict[int, int] = {}
    served: dict[int, int] = {}
    wins: dict[int, int] = {}
    calls = done = version = 0
    last = 0.0
    inf = math.inf
    span = latency if latency > 0 else 1e-3
    horizon = float(at_time.min()) + span
    while done < clients and calls < max_calls:
        ids = np.flatnonzero(at_time < horizon)
        if not len(ids):
            horizon = float(at_time.min()) + span
            continue
        # The loop's order: by time, then client.
        t = at_time[ids]
        order = np.argsort(t)
        t = t[order]
        if _ties(t):
            order = np.lexsort((ids, at_time[ids]))
            t = at_time[ids][order]
        ids = ids[order]
        w = len(ids)
        v = version_of[ids]
        write = v >= 0
        hits = np.flatnonzero(v == version)  # reads hold -1, never a version
        s = int(hits[0]) if len(hits) else w
        # Delays drawn: two an event, one for the success.
        at = np.arange(0, 2 * w, 2)
        if s < w:
            at[s + 1:] -= 1
        need = 2 * w
        if len(buffer) - used < need:
            # Chunks grow with the run: a small herd draws few numbers.
            chunk = max(need, min(2 * len(buffer), 1 << 20), 256)
            buffer = np.concatenate((buffer[used:], draw(chunk)))
            used = 0
        z = buffer[used:used + need]
        a = np.abs(latency + z[at] * latency_sd)
        b = np.abs(latency + z[at + 1] * latency_sd)
        n = retries[ids]
        # The next event: a read's write, a conflict's next read (a success has none).
        # A read adds 0.0 for the backoff, which leaves t + a unchanged.
        follow = t + a + np.where(write, table[np.minimum(n, 63)], 0.0) + b
        if s < w:
            follow[s] = inf
        # The longest prefix the loop takes in this order.
        k = w
        if w > 1:
            soonest = np.minimum.accumulate(follow[:-1])
            late = t[1:] >= soonest
            if late.any():
                j = int(late.argmax()) + 1
                if t[j] > soonest[j - 1]:
                    k = j
                else:  # a tie in time (rare): walk the late events in Python
                    for j in (np.flatnonzero(late) + 1).tolist():
                        if t[j] > soonest[j - 1]:
                            k = j
                            break
                        # The loop takes the lower client first.
                        if ids[np.flatnonzero(follow[:j] == t[j])].min() < ids[j]:
                            k = j
                            break
        wk = write[:k]
        ncalls = int(np.count_nonzero(wk))
        if calls + ncalls > max_calls:
            k = int(np.searchsorted(np.cumsum(wk), max_calls - calls)) + 1
            wk = write[:k]
            ncalls = max_calls - calls
        used += int(at[k - 1]) + (1 if k - 1 == s else 2)
        calls += ncalls
        if ncalls:
            tw = t[:k][wk]
            if times is not None:
                times.extend(tw.tolist())
            first_s, last_s = math.floor(tw[0]), math.floor(tw[-1])
            if first_s == last_s:
                load[first_s] = load.get(first_s, 0) + ncalls
            else:
                secs, counts = np.unique(np.floor(tw).astype(np.int64), return_counts=True)
                for sec, c in zip(secs.tolist(), counts.tolist()):
                    load[sec] = load.get(sec, 0) + c
        done_now = s < k
        pid = ids[:k]
        failed = wk.copy()
        if done_now:
            failed[s] = False
        retries[pid[failed]] += 1
        at_time[pid] = follow[:k]
        nv = np.where(wk, -1, version)
        if done_now:
            nv[s + 1:] = np.where(wk[s + 1:], -1, version + 1)
            second = math.floor(t[s])
            served[second] = served.get(second, 0) + 1
            wins[int(n[s])] = wins.get(int(n[s]), 0) + 1
            done += 1
            reply = float(t[s] + a[s])
            if reply > last:
                last = reply
            version += 1
        version_of[pid] = nv
        # The next step looks as far ahead as this one's prefix reached, or twice that.
        reach = float(t[k - 1] - t[0])
        span = 2 * span if k == w else max(reach * 1.5, 1e-9)
        horizon = float(t[k - 1]) + span
    return calls, last, done, load, served, wins


def _contention_writes(clients, backoff, rng, latency, latency_sd, arrival_s, max_calls, times):
    """:func:`_contention_waves` with numpy's own generator, one step per batch of writes.

    Which number each delay gets no longer follows the event loop, so a client's
    read need not be an event: when a conflict reaches it, the client's next read
    and the write after it are drawn at once (four delays and the backoff). A
    write made at ``w`` with a version read at ``r`` succeeds exactly when no
    write succeeded in between, that is when ``r`` is after the last success so
    far. A step takes the pending writes of the next instants in time order and
    keeps the longest prefix before the first follow-up write of a conflict in
    it (four message delays and a backoff later); along it the successes are
    found one after the other (each the first write read after the one before).
    The delays are the loop's in distribution, so the result is the loop's in
    distribution (a test compares them); ties in time, which the loop orders by
    client, have probability zero here (``latency_sd > 0``).
    """
    import numpy as np

    gauss = rng.gauss
    read_at = np.array([rng.random() * arrival_s + abs(gauss(latency, latency_sd))
                        for _ in range(clients)])
    normal = np.random.default_rng(rng.getrandbits(128)).normal

    def delays(k):
        d = normal(latency, latency_sd, k)
        return np.abs(d, out=d)

    write_at = read_at + delays(clients) + delays(clients)
    # Delays are drawn in chunks, four a write; those of the writes a step leaves for
    # the next are used by the next (nothing kept depended on them).
    buffer = np.empty(0)
    used = 0
    retries = np.zeros(clients, dtype=np.int64)
    table = _wave_delays(backoff)
    load: dict[int, int] = {}
    served: dict[int, int] = {}
    wins: dict[int, int] = {}
    calls = done = 0
    last = 0.0
    success = -math.inf  # when the last write succeeded
    inf = math.inf
    span = 4 * latency if latency > 0 else 1e-3
    horizon = float(write_at.min()) + span
    while done < clients and calls < max_calls:
        ids = np.flatnonzero(write_at < horizon)
        if not len(ids):
            horizon = float(write_at.min()) + span
            continue
        t = write_at[ids]
        order = np.argsort(t)
        ids, t = ids[order], t[order]
        r = read_at[ids]
        w = len(ids)
        n = retries[ids]
        # Every write's follow-up as if it failed: its reply, the backoff, the next
        # read's trip, the reply, the write's trip.
        if len(buffer) - used < 4 * w:
            # Chunks grow with the run (numpy's stream is the same however it is cut).
            chunk = max(4 * w, min(2 * len(buffer), 1 << 20), 4096)
            buffer = np.concatenate((buffer[used:], delays(chunk)))
            used = 0
        d = buffer[used:used + 4 * w].reshape(w, 4).T
        next_read = t + d[0] + table[np.minimum(n, 63)] + d[1]
        follow = next_read + d[2] + d[3]
        k = w
        if w > 1:
            soonest = np.minimum.accumulate(follow[:-1])
            late = t[1:] >= soonest
            if late.any():
                k = int(late.argmax()) + 1
        if k > max_calls - calls:
            k = max_calls - calls
        # The successes along the prefix, one after the other.
        fresh = r[:k]
        won = []
        at = 0
        while at < k:
            hit = fresh[at:] > success
            j = int(hit.argmax()) + at
            if not hit[j - at]:
                break
            won.append(j)
            success = float(t[j])
            at = j + 1
        used += 4 * k
        calls += k
        tk = t[:k]
        if times is not None:
            times.extend(tk.tolist())
        first_s, last_s = math.floor(tk[0]), math.floor(tk[-1])
        if first_s == last_s:
            load[first_s] = load.get(first_s, 0) + k
        else:
            secs, counts = np.unique(np.floor(tk).astype(np.int64), return_counts=True)
            for sec, c in zip(secs.tolist(), counts.tolist()):
                load[sec] = load.get(sec, 0) + c
        pid = ids[:k]
        read_at[pid] = next_read[:k]
        write_at[pid] = follow[:k]
        retries[pid] += 1
        if won:
            wid = ids[won]
            write_at[wid] = inf
            replies = t[won] + d[0][won]  # a success's reply: its first delay
            last = max(last, float(replies.max()))
            for j, nw in zip(won, n[won].tolist()):
                second = math.floor(t[j])
                served[second] = served.get(second, 0) + 1
                wins[nw] = wins.get(nw, 0) + 1
            done += len(won)
        reach = float(t[k - 1] - t[0])
        span = 2 * span if k == w else max(reach * 1.2, 1e-9)
        horizon = float(t[k - 1]) + span
    return calls, last, done, load, served, wins


def _outage_start(clients, backoff, rng, arrival_s):
    """What both outage loops start from: the delay function (and decorrelated's
    per-client previous waits) and the heap of first requests, drawn from ``rng``
    in this order, so both loops draw the same numbers."""
    delay = _delay_fn(backoff, rng, clients)
    heap = [(rng.random() * arrival_s, i) for i in range(clients)]
    heapq.heapify(heap)
    return delay, getattr(delay, "previous", None), heap


def _outage_own(clients, backoff, rng, duration, capacity, retry_after, arrival_s, max_calls,
                times, max_retry_after, jitter):
    """:func:`_outage` on the scenario's own :class:`~labkit.origin.OutageModel`, with the
    model written into the loop: the same events, the same numbers.

    The model kept its own count per second of the requests and of those served,
    the same counts the loop keeps, and its ``admit`` and ``retry_after_delay``
    were a call or two per request: a fifth to a quarter of the loop's time for
    notebook 04's 10,000-client outages. A test checks every figure against :func:`_outage` on
    the model itself.
    """
    delay, previous, heap = _outage_start(clients, backoff, rng, arrival_s)
    random01 = rng.random
    pop, push = heapq.heappop, heapq.heappush
    retries = [0] * clients
    load: dict[int, int] = {}
    served: dict[int, int] = {}
    wins: dict[int, int] = {}
    calls = done = 0
    last = 0.0
    floor, ceil = math.floor, math.ceil
    end = float(duration)  # the model starts at 0: down in [0, end)
    advise = retry_after != "none"
    seconds = retry_after == "seconds"
    while heap and calls < max_calls:
        t, i = pop(heap)
        calls += 1
        if times is not None:
            times.append(t)
        second = floor(t)
        load[second] = load.get(second, 0) + 1
        n = retries[i]
        if t >= end or t < 0:
            s = served.get(second, 0)
            if s < capacity:
                served[second] = s + 1
                wins[n] = wins.get(n, 0) + 1
                done += 1
                last = t
                continue
        retries[i] = n + 1
        if not advise:
            push(heap, (t + delay(i, n), i))
            continue
        # OutageModel.retry_after_delay: the recovery, or the start of the next second.
        moment = end if t < end else second + 1
        answer = float(ceil(moment - t)) if seconds else max(0.0, ceil(moment) - t)
        wait = answer if answer < max_retry_after else max_retry_after
        if jitter:
            wait += wait * jitter * random01()
        if previous is not None:
            previous[i] = wait
        push(heap, (t + wait, i))
    return calls, last, done, load, served, wins


def _outage(clients, backoff, rng, respond, arrival_s, max_calls, times, max_retry_after, jitter):
    # respond(t): True when served; otherwise the seconds Retry-After asks for,
    # or None (or False) without one.
    delay, previous, heap = _outage_start(clients, backoff, rng, arrival_s)
    random01 = rng.random
    pop, push = heapq.heappop, heapq.heappush
    retries = [0] * clients
    load: dict[int, int] = {}
    served: dict[int, int] = {}
    wins: dict[int, int] = {}
    calls = done = 0
    last = 0.0
    floor = math.floor
    while heap and calls < max_calls:
        t, i = pop(heap)
        calls += 1
        if times is not None:
            times.append(t)
        second = floor(t)
        load[second] = load.get(second, 0) + 1
        n = retries[i]
        answer = respond(t)
        if answer is True:
            served[second] = served.get(second, 0) + 1
            wins[n] = wins.get(n, 0) + 1
            done += 1
            last = t
            continue
        retries[i] = n + 1
        if answer is None or answer is False:
            push(heap, (t + delay(i, n), i))
            continue
        # Retry-After instead of the backoff, capped, as RetryPolicy.decide does; the
        # runner passes the delay just waited as the next decision's previous_delay,
        # which decorrelated jitter grows from.
        wait = answer if answer < max_retry_after else max_retry_after
        if jitter:
            wait += wait * jitter * random01()
        if previous is not None:
            previous[i] = wait
        push(heap, (t + wait, i))
    return calls, last, done, load, served, wins


def compare_schedules(schedules: Iterable[str] | None = None, scenario: HerdScenario | None = None,
                      *, runs: int = 1, seed: int = 0, **kwargs):
    """One row per schedule, as a DataFrame: :func:`simulate_herd` of ``scenario`` with ``kwargs``.

    ``schedules`` None means every schedule the scenario runs (``scenario.schedules``:
    all of :data:`SCHEDULES` under contention, all but ``"none"`` in the outage).
    ``runs > 1`` averages that many runs (seeds ``seed``, ``seed + 1``, ...), as the
    article averaged 100 runs per point; ``unfinished`` is then the total.
    """
    import pandas as pd

    if runs < 1:
        raise ValueError("runs must be >= 1")
    if schedules is None:
        schedules = (Contention if scenario is None else scenario).schedules
    columns = ["calls", "calls_per_client", "completion_s", "peak_rps", "unfinished"]
    rows = []
    for name in schedules:
        results = [simulate_herd(scenario, schedule=name, seed=seed + r, **kwargs)
                   for r in range(runs)]
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


def compare_retry_after(scenario: Outage | None = None, *, jitter: float = 0.5,
                        schedule: str = "full", bin_s: float = 0.01, **kwargs):
    """The outage with each ``Retry-After`` form, as a DataFrame: one row per variant.

    Rows: no ``Retry-After`` (the clients' backoff ``schedule`` decides), delay-seconds,
    an HTTP-date, then (if ``jitter`` > 0) seconds and date with each client adding
    ``retry_after_jitter=jitter`` (:class:`Outage`). ``scenario`` (default ``Outage()``)
    gives everything else; ``kwargs`` go to :func:`simulate_herd` (``clients``,
    ``seed``, ``base``, ``cap``). Columns: ``calls_per_client``, ``completion_s``,
    and, once the outage is over, ``peak_rps`` (the busiest second) and
    ``peak_<bin>ms`` (the busiest ``bin_s`` interval: a second's requests at one
    instant or spread over it).
    """
    import dataclasses

    import pandas as pd

    if scenario is None:
        scenario = Outage()
    if not isinstance(scenario, Outage):
        raise TypeError(f"scenario must be Outage(...), not {scenario!r}")
    variants = [("none", 0.0), ("seconds", 0.0), ("date", 0.0)]
    if jitter:
        variants += [("seconds", jitter), ("date", jitter)]
    fine = f"peak_{bin_s * 1000:g}ms"
    rows = []
    for form, j in variants:
        variant = dataclasses.replace(scenario, retry_after=form, retry_after_jitter=j)
        r = simulate_herd(variant, schedule=schedule, times=True, **kwargs)
        d = r.to_dict()
        label = form if form == "none" else f"{form}, jitter {j:g}" if j else form
        rows.append({"retry_after": label, "calls_per_client": d["calls_per_client"],
                     "completion_s": d["completion_s"],
                     "peak_rps": r.peak(after=scenario.duration),
                     fine: r.peak(after=scenario.duration, bin_s=bin_s)})
    return pd.DataFrame(rows).set_index("retry_after")


def compare_sizes(schedules: Iterable[str] | None = None, sizes: Iterable[int] = (10, 20, 50, 100),
                  scenario: HerdScenario | None = None, *,
                  columns: str | Iterable[str] = "calls_per_client", **kwargs):
    """One row per schedule, one column per herd size: :func:`compare_schedules` of
    ``scenario`` for ``clients`` in ``sizes`` (``kwargs``: ``runs``, ``seed``, ``base``...).

    ``columns`` names what to show (``calls_per_client``, ``completion_s``, ...); with
    several, the columns are (what, clients) pairs.
    """
    import pandas as pd

    names = [columns] if isinstance(columns, str) else list(columns)
    tables = {n: compare_schedules(schedules, scenario, clients=n, **kwargs) for n in sizes}
    frames = {name: pd.DataFrame({n: t[name] for n, t in tables.items()}).rename_axis(columns="clients")
              for name in names}
    if isinstance(columns, str):
        return frames[columns]
    return pd.concat(frames, axis=1)
