"""The herd run many events per numpy step ("waves") against the event loop: the same
result figure for figure up to 1,000 clients and whenever the model is deterministic,
the same distribution above; and "none" finishes at 10,000 clients.
(The module docstring of labkit/retry/_herd.py, "How a herd runs".)"""

import dataclasses
import math
import random
import statistics

import pytest

from labkit.retry import SCHEDULES, Backoff, Contention, Outage, simulate_herd
from labkit.retry import _herd
from labkit.retry._herd import _contention_writes, _gauss_stream

NO_JITTER = ("none", "constant", "exponential")
ARTICLE = dict(base=0.005, cap=2.0)
SIZES = (1, 2, 7, 50, 300)
SCENARIOS = {
    "contention": Contention(),
    "contention, no latency spread": Contention(latency_sd=0),  # deterministic
    "contention, arrivals over 0.5 s": Contention(arrival_s=0.5),
    "contention, no latency": Contention(latency=0, latency_sd=0),  # every event ties
    "contention, first wait base": Contention(first_exponent=0),
    "outage": Outage(),
}


def _figures(result):
    # Every figure a result reports, and every request's time.
    return (result.to_dict(), result.completion_s, result.load, result.served,
            result.wins_by_attempt, result.times)


@pytest.mark.parametrize("clients", SIZES)
@pytest.mark.parametrize("settings", [{}, ARTICLE], ids=["lab", "article"])
@pytest.mark.parametrize("name", SCENARIOS)
def test_waves_equal_the_event_loop_for_every_schedule(name, settings, clients):
    # Contention without jitter runs as waves; up to 1,000 clients the result is the
    # loop's, figure for figure. Where "auto" cannot fold the reads into the writes
    # (no spread in the delays, or the outage) it takes the waves or the loop: the
    # loop's result again.
    scenario = SCENARIOS[name]
    for schedule in scenario.schedules:
        kwargs = dict(clients=clients, schedule=schedule, seed=clients, times=True, **settings)
        events = simulate_herd(scenario, method="events", **kwargs)
        assert events.unfinished == 0 and sum(events.wins_by_attempt) == clients
        methods = ["waves"] if isinstance(scenario, Contention) and schedule in NO_JITTER else []
        if not (isinstance(scenario, Contention) and scenario.latency_sd > 0):
            methods.append("auto")
        for method in methods:
            result = simulate_herd(scenario, method=method, **kwargs)
            assert _figures(result) == _figures(events), (name, schedule, method)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("scenario, settings, clients", [
    (Contention(), {}, 7), (Contention(), ARTICLE, 60), (Contention(arrival_s=0.5), ARTICLE, 40),
    (Contention(first_exponent=0), {}, 30), (Contention(), {}, 250),
], ids=["lab-7", "article-60", "arrivals-40", "first-wait-base-30", "lab-250"])
def test_writes_agree_with_the_event_loop_in_distribution(schedule, scenario, settings, clients):
    # "writes" (what "auto" takes whenever the delays have a spread) folds each read into
    # the write after it and draws from numpy: over the same seeds its mean calls per
    # client, completion time and waves agree with the loop's within four standard
    # errors of their difference; every client finishes and every write is counted.
    runs = 60
    both = {}
    for method in ("events", "writes"):
        results = [simulate_herd(scenario, clients=clients, schedule=schedule, seed=s,
                                 method=method, times=True, **settings) for s in range(runs)]
        for r in results:
            assert r.unfinished == 0 and sum(r.wins_by_attempt) == clients
            assert sum(r.load) == r.calls == len(r.times) and sum(r.served) == clients
            assert r.times == sorted(r.times)
        both[method] = results
    events, writes = both["events"], both["writes"]
    assert [_figures(r) for r in writes] != [_figures(r) for r in events]  # numpy's numbers
    figures = {"calls_per_client": lambda r: r.calls_per_client,
               "completion_s": lambda r: r.completion_s,
               "waves": lambda r: len(r.wins_by_attempt)}
    for figure, of in figures.items():
        a, b = [of(r) for r in events], [of(r) for r in writes]
        se = math.sqrt((statistics.variance(a) + statistics.variance(b)) / runs)
        assert abs(statistics.fmean(a) - statistics.fmean(b)) <= max(4 * se, 1e-9), (figure, a, b)


def test_auto_takes_writes_whenever_the_delays_have_a_spread():
    for schedule in SCHEDULES:
        for clients in (1, 50, 400):
            kwargs = dict(clients=clients, schedule=schedule, seed=3, times=True)
            auto = simulate_herd(method="auto", **kwargs)
            assert _figures(auto) == _figures(simulate_herd(method="writes", **kwargs))
            assert _figures(auto) == _figures(simulate_herd(method="writes", **kwargs))  # reproducible


@pytest.mark.parametrize("schedule", NO_JITTER)
def test_waves_take_many_events_a_step_and_agree_at_1000_clients(schedule):
    kwargs = dict(clients=1000, schedule=schedule, seed=4, **ARTICLE)
    waves = simulate_herd(method="waves", **kwargs)
    assert _figures(waves) == _figures(simulate_herd(method="events", **kwargs))


@pytest.mark.parametrize("max_calls", [1, 2, 99, 1000, 5000])
def test_waves_stop_at_the_call_limit_where_the_loop_does(max_calls):
    kwargs = dict(clients=60, schedule="none", seed=1, max_calls=max_calls)
    waves = simulate_herd(method="waves", **kwargs)
    assert _figures(waves) == _figures(simulate_herd(method="events", **kwargs))
    assert waves.calls <= max_calls
    if waves.unfinished:  # stopped by the limit, right at it
        assert waves.calls == max_calls and waves.completion_s == math.inf


@pytest.mark.parametrize("skip", [0, 1, 2, 5])
def test_gauss_stream_is_pythons(skip):
    # After any number of draws (even or odd: Python keeps the second value of a pair).
    ours, theirs = random.Random(7), random.Random(7)
    for rng in (ours, theirs):
        for _ in range(skip):
            rng.gauss(0.0, 1.0)
    draw = _gauss_stream(ours)
    got = [*draw(1), *draw(2), *draw(5), *draw(3000), *draw(200_001)]
    assert got == [theirs.gauss(0.0, 1.0) for _ in range(len(got))]


@pytest.mark.parametrize("arrival_s", [0.05, 0.5, 3.0])
@pytest.mark.parametrize("settings", [{}, ARTICLE], ids=["lab", "article"])
@pytest.mark.parametrize("schedule", NO_JITTER)
def test_writes_only_engine_is_the_loop_when_delays_are_fixed(schedule, settings, arrival_s):
    # Above 1,000 clients the reads are folded into the writes and the delays come from
    # numpy. With latency_sd=0 the delays are fixed and only the arrivals (drawn as in
    # the loop) are random: the result must be the loop's.
    base, cap = settings.get("base", 1.0), settings.get("cap", 60.0)
    for clients in (2, 7, 50, 300):
        events = simulate_herd(Contention(latency_sd=0, arrival_s=arrival_s), clients=clients,
                               schedule=schedule, seed=clients, method="events", **settings)
        backoff = Backoff(kind=schedule, base=base, cap=cap, attempts=1, first_exponent=1)
        calls, last, done, load, served, wins = _contention_writes(
            clients, backoff, random.Random(clients), 0.010, 0.0, arrival_s, math.inf, None)
        assert (calls, last, done) == (events.calls, events.completion_s, clients)
        assert [load.get(s, 0) for s in range(len(events.load))] == events.load
        assert [served.get(s, 0) for s in range(len(events.served))] == events.served
        assert [wins.get(n, 0) for n in range(len(events.wins_by_attempt))] == events.wins_by_attempt


@pytest.mark.parametrize("schedule, settings, clients", [
    ("none", ARTICLE, 100), ("exponential", ARTICLE, 100), ("constant", {}, 300),
])
def test_writes_only_engine_agrees_with_the_loop_in_distribution(monkeypatch, schedule, settings,
                                                                 clients):
    # The same seeds through the event loop and through the numpy engine (forced here
    # below 1,000 clients): the mean calls per client and completion time agree within
    # four standard errors of their difference, and both make the same number of waves.
    runs = 40
    events = [simulate_herd(clients=clients, schedule=schedule, seed=s, method="events",
                            **settings) for s in range(runs)]
    monkeypatch.setattr(_herd, "EXACT_WAVES_UP_TO", 0)
    fast = [simulate_herd(clients=clients, schedule=schedule, seed=s, method="waves", **settings)
            for s in range(runs)]
    assert all(r.unfinished == 0 for r in fast)
    assert [_figures(r) for r in fast] != [_figures(r) for r in events]  # not the loop's numbers
    for figure in ("calls_per_client", "completion_s"):
        a = [getattr(r, figure) for r in events]
        b = [getattr(r, figure) for r in fast]
        se = math.sqrt((statistics.variance(a) + statistics.variance(b)) / runs)
        assert abs(statistics.fmean(a) - statistics.fmean(b)) < 4 * se, (figure, a, b)
    waves_a = statistics.fmean(len(r.wins_by_attempt) for r in events)
    waves_b = statistics.fmean(len(r.wins_by_attempt) for r in fast)
    assert abs(waves_a - waves_b) < 0.05 * waves_a


def test_none_finishes_at_10000_clients():
    # Event by event this stopped at the old 5,000,000-call limit with clients waiting.
    result = simulate_herd(clients=10_000, schedule="none", seed=0)
    assert result.unfinished == 0 and result.calls > 5_000_000
    assert sum(result.wins_by_attempt) == 10_000 and sum(result.served) == 10_000
    assert sum(result.load) == result.calls and math.isfinite(result.completion_s)
    # The quadratic herd: about a sixth of clients**2 writes.
    assert 0.12 < result.calls / 10_000**2 < 0.2


def test_exponential_at_10000_clients_is_constant_moved_in_time():
    # Waves 1 s and more apart never overlap, so the schedule only moves them: the same
    # calls and waves, later (as at 1,000 clients on the event loop).
    constant = simulate_herd(clients=10_000, schedule="constant", seed=0)
    exponential = simulate_herd(clients=10_000, schedule="exponential", seed=0)
    assert constant.calls == exponential.calls and constant.unfinished == 0
    assert constant.wins_by_attempt == exponential.wins_by_attempt
    assert exponential.completion_s > 10 * constant.completion_s


def test_method_bad_input():
    with pytest.raises(ValueError, match="method must be one of auto, events, waves, writes"):
        simulate_herd(clients=5, method="batch")
    with pytest.raises(ValueError, match="without jitter"):
        simulate_herd(clients=5, schedule="full", method="waves")
    with pytest.raises(ValueError, match="without jitter"):
        simulate_herd(Outage(), clients=5, schedule="constant", method="waves")
    with pytest.raises(ValueError, match="server=None"):
        simulate_herd(Contention(server=_herd.ContentionModel()), clients=5, schedule="none",
                      method="waves")
    with pytest.raises(ValueError, match="latency_sd > 0"):
        simulate_herd(Contention(latency_sd=0), clients=5, method="writes")
    with pytest.raises(ValueError, match="server=None"):
        simulate_herd(Contention(server=_herd.ContentionModel()), clients=5, method="writes")
    with pytest.raises(ValueError, match="contention scenario"):
        simulate_herd(Outage(), clients=5, schedule="full", method="writes")
    with pytest.raises(ValueError, match="max_calls"):
        simulate_herd(clients=5, max_calls=0)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("scenario", [Contention(), Contention(latency=0.010, latency_sd=0.002),
                                      Contention(arrival_s=2.0), Contention(latency_sd=0)],
                         ids=["lab", "article", "spread", "no-spread"])
def test_the_loop_on_its_own_record_equals_the_loop_on_a_model(schedule, scenario):
    # The own-record loop writes the record and random.gauss into itself; a
    # ContentionModel passed as the server takes the general loop.
    from labkit.origin import ContentionModel

    for clients in (1, 7, 60):
        for seed in (0, 1):
            own = simulate_herd(scenario, clients=clients, schedule=schedule, seed=seed,
                                method="events", times=True)
            general = simulate_herd(dataclasses.replace(scenario, server=ContentionModel()),
                                    clients=clients, schedule=schedule, seed=seed,
                                    method="events", times=True)
            assert own.to_dict() == general.to_dict()
            assert (own.times, own.load, own.served, own.wins_by_attempt) == (
                general.times, general.load, general.served, general.wins_by_attempt)


@pytest.mark.parametrize("schedule, clients", [("full", 30), ("none", 30), ("none", 400)])
@pytest.mark.parametrize("max_calls", [1, 29, 60, 200])
def test_writes_stop_at_the_call_limit(schedule, clients, max_calls):
    # One write at a time (30 clients) and many per numpy step ("none", 400 clients).
    kwargs = dict(clients=clients, schedule=schedule, seed=2, method="writes", times=True)
    free = simulate_herd(**kwargs)
    result = simulate_herd(max_calls=max_calls, **kwargs)
    if max_calls >= free.calls:  # finished under the limit: the same run
        assert _figures(result) == _figures(free)
    else:
        assert result.calls == max_calls == sum(result.load) == len(result.times)
        assert result.unfinished > 0 and result.completion_s == math.inf
        assert result.times == free.times[:max_calls]


@pytest.mark.parametrize("retry_after, jitter", [("none", 0), ("seconds", 0), ("date", 0),
                                                  ("seconds", 0.5), ("date", 0.5)])
@pytest.mark.parametrize("schedule", Outage.schedules)
def test_the_outage_on_its_own_model_equals_the_loop_on_the_model(schedule, retry_after, jitter):
    # The outage loop writes OutageModel into itself; a call() answering from a fresh
    # OutageModel, its Retry-After as the header's text, takes the general loop.
    from labkit.origin import OutageModel

    scenario = Outage(duration=3, arrival_s=2.0, retry_after=retry_after, retry_after_jitter=jitter)
    for clients in (1, 9, 400):
        model = OutageModel(duration=3, capacity=scenario.capacity_for(clients), retry_after=retry_after)

        def call(t):
            return True if model.admit(t) else (model.retry_after_value(t) or False)

        kwargs = dict(clients=clients, schedule=schedule, seed=clients, base=0.5, cap=8, times=True)
        own = simulate_herd(scenario, **kwargs)
        general = simulate_herd(dataclasses.replace(scenario, call=call), **kwargs)
        assert own.calls > clients or clients == 1
        assert _figures(own) == _figures(general), (clients, schedule)
        assert own.load == [model.load.get(s, 0) for s in range(len(own.load))]


def test_a_run_again_is_the_same_result_and_a_copy_of_its_own():
    # simulate_herd memoises runs by their arguments (a cell run again is instant).
    first = simulate_herd(Outage(), clients=300, schedule="full", seed=11)
    again = simulate_herd(Outage(), clients=300, schedule="full", seed=11)
    assert again == first and again is not first
    assert any(key[0] == Outage() and key[1:4] == (300, "full", 11) for key in _herd._RUNS)
    again.load.append(10**6)
    again.params["seed"] = "changed"
    third = simulate_herd(Outage(), clients=300, schedule="full", seed=11)
    assert third == first and third.load[-1] != 10**6 and third.params["seed"] == 11
    # Each argument is part of the key.
    assert simulate_herd(Outage(), clients=300, schedule="full", seed=12) != first
    assert simulate_herd(Outage(retry_after="seconds"), clients=300, schedule="full", seed=11) != first


def test_the_memo_follows_the_exact_waves_limit(monkeypatch):
    exact = simulate_herd(clients=400, schedule="none", seed=5, method="waves")
    monkeypatch.setattr(_herd, "EXACT_WAVES_UP_TO", 0)
    numpy_stream = simulate_herd(clients=400, schedule="none", seed=5, method="waves")
    assert _figures(numpy_stream) != _figures(exact)
    monkeypatch.setattr(_herd, "EXACT_WAVES_UP_TO", 1000)
    assert simulate_herd(clients=400, schedule="none", seed=5, method="waves") == exact


def test_runs_with_times_or_a_learners_own_server_are_run_every_time():
    with_times = simulate_herd(Outage(), clients=50, schedule="full", seed=3, times=True)
    assert with_times.times and simulate_herd(Outage(), clients=50, schedule="full", seed=3).times is None
    seen = []

    def call(t):
        seen.append(t)
        return t > 1.0

    simulate_herd(Outage(call=call), clients=20, schedule="constant", seed=3)
    once = list(seen)
    simulate_herd(Outage(call=call), clients=20, schedule="constant", seed=3)
    assert len(once) >= 20 and seen == once + once

    class Counting(_herd.ContentionModel):
        reads = 0

        def read(self, now):
            Counting.reads += 1
            return super().read(now)

    simulate_herd(Contention(server=Counting()), clients=10, schedule="full", seed=3, method="events")
    once = Counting.reads
    simulate_herd(Contention(server=Counting()), clients=10, schedule="full", seed=3, method="events")
    assert once >= 10 and Counting.reads == 2 * once


def test_the_memo_stays_bounded():
    for seed in range(_herd._MAX_RUNS + 20):
        simulate_herd(clients=3, schedule="full", seed=1000 + seed)
    assert len(_herd._RUNS) == _herd._MAX_RUNS


def test_a_run_of_many_simulated_seconds_is_not_kept():
    # Two numbers a simulated second (load and served): long runs would fill memory.
    long = simulate_herd(clients=50, schedule="exponential", seed=4, base=8.0, cap=600.0)
    assert len(long.load) > _herd._MAX_RUN_SECONDS
    assert not any(key[1:4] == (50, "exponential", 4) for key in _herd._RUNS)
    assert simulate_herd(clients=50, schedule="exponential", seed=4, base=8.0, cap=600.0) == long


def test_an_argument_that_cannot_be_a_key_is_run_all_the_same():
    # A list cannot key the memo; the run goes ahead, and the error is random.Random's own.
    with pytest.raises(TypeError, match="supported seed types"):
        simulate_herd(clients=5, schedule="full", seed=[3])
