"""The thundering herd: the contention scenario at the lab's settings and where the
cap binds, the outage scenario's properties, agreement with real httpx clients, and
the CLI. The article's own figures: tests/test_herd_aws_reference.py."""

import json
import random

import httpx
import pytest

from labkit import Simulator
from labkit.cli import main
from labkit.origin import ContentionModel, OutageModel
from labkit.labs import herd_over_http
from labkit.retry import (
    SCHEDULES,
    Backoff,
    Contention,
    Outage,
    compare_schedules,
    compare_sizes,
    simulate_herd,
)
from labkit.retry._herd import _delay_fn

NO_JITTER = ("none", "constant", "exponential")
JITTERED = ("full", "equal", "decorrelated")
# The article's own setting (aws-samples/aws-arch-backoff-simulator): base 5 ms,
# cap 2 s, each message |normal(10 ms, 2 ms)|.
ARTICLE = dict(base=0.005, cap=2.0, scenario=Contention(latency=0.010, latency_sd=0.002))


def test_contention_at_the_lab_settings():
    # Lab defaults (base 1 s, cap 60 s), 300 clients, five seeds: no jitter makes
    # 10 to 20 times the calls of any jitter; with a base this far above the 40 ms
    # round trip, decorrelated jitter makes the fewest and equal the most of the three.
    table = compare_schedules(clients=300, seed=0, runs=5)
    calls = table["calls"]
    for name in NO_JITTER:
        assert calls[name] > 9 * calls[list(JITTERED)].max(), table
    assert calls["decorrelated"] < calls["full"] < calls["equal"], table
    # No wait finishes first and costs the most; exponential finishes last.
    times = table["completion_s"]
    assert times.idxmin() == "none" and times.idxmax() == "exponential", table
    assert calls.idxmax() == "none", table


def test_without_jitter_the_base_changes_time_but_not_calls():
    # Every client sleeps the same deterministic delay: the waves only move.
    a = simulate_herd(clients=200, schedule="exponential", seed=1)
    b = simulate_herd(clients=200, schedule="exponential", seed=1, **ARTICLE)
    assert a.calls == b.calls and a.wins_by_attempt == b.wins_by_attempt
    assert a.completion_s > 10 * b.completion_s


def test_few_writes_win_each_synchronised_wave():
    # Without jitter the clients on the same attempt form one wave: exactly one
    # write wins the first, a few win each later one (the clients' network delays
    # add up and spread each wave over tens of ms).
    result = simulate_herd(clients=1000, schedule="exponential", seed=0)
    wins = result.wins_by_attempt
    assert sum(wins) == 1000 and wins[0] == 1
    assert 5 < 1000 / len(wins) < 8 and max(wins) <= 12


def test_when_the_cap_binds_equal_jitter_makes_fewer_calls_than_full():
    # The documented limit of the article's result: 500 clients need ~500 * 20 ms = 10 s of
    # one-at-a-time writes, far beyond the 2 s cap; every client then sleeps near
    # the cap, and equal jitter's sleeps there (3/4 cap on average) beat full's (1/2).
    table = compare_schedules(["full", "equal"], clients=500, seed=0, **ARTICLE)
    assert table.loc["equal", "calls"] < table.loc["full", "calls"], table


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_contention_every_client_writes_exactly_once(schedule):
    record = ContentionModel()
    result = simulate_herd(Contention(server=record), clients=200, schedule=schedule, seed=3)
    assert result.unfinished == 0 and record.version == 200
    assert sum(result.served) == 200 and sum(result.load) == result.calls
    assert result.calls > 200  # conflicts happened: every client but one needed a retry
    assert record.stats()["calls"] == result.calls
    assert record.stats()["conflicts"] == result.calls - 200
    assert result.peak_rps == max(result.load)
    assert result.completion_s == pytest.approx(max(
        s for s, n in enumerate(result.served) if n), abs=1)
    assert sum(result.wins_by_attempt) == 200 and result.wins_by_attempt[0] == 1


def test_contention_a_lone_client_succeeds_at_once():
    result = simulate_herd(clients=1, schedule="full", seed=0)
    assert result.calls == 1 and result.unfinished == 0
    # read arrives after one delay, the write after two more, the success reply
    # after a fourth (the article's completion): about 40 ms.
    assert 0.025 < result.completion_s < 0.055


def test_contention_model_conflicts():
    record = ContentionModel()
    a, b = record.read(0.0), record.read(0.001)
    assert record.write(0.01, a) is True
    assert record.write(0.02, b) is False  # b read before a's write succeeded
    assert record.write(1.5, record.read(1.0)) is True
    assert record.stats() == {"version": 2, "calls": 3, "conflicts": 1, "peak_rps": 2,
                              "load": {"0": 2, "1": 1}, "served": {"0": 1, "1": 1}}


@pytest.mark.parametrize("first_exponent", [0, 1])
@pytest.mark.parametrize("kind", SCHEDULES)
def test_inlined_delays_agree_with_backoff(kind, first_exponent):
    backoff = Backoff(kind=kind, base=0.5, cap=20.0, attempts=1, first_exponent=first_exponent)
    delay = _delay_fn(backoff, random.Random(9), clients=2)
    rng, previous = random.Random(9), None
    for n in range(12):
        previous = backoff.delay(n, rng, previous)
        assert delay(1, n) == previous


@pytest.mark.parametrize("scenario", [Contention(), Outage()])
def test_reproducible_by_seed(scenario):
    a = simulate_herd(scenario, clients=500, schedule="decorrelated", seed=3)
    b = simulate_herd(scenario, clients=500, schedule="decorrelated", seed=3)
    c = simulate_herd(scenario, clients=500, schedule="decorrelated", seed=4)
    assert (a.calls, a.load, a.completion_s) == (b.calls, b.load, b.completion_s)
    assert a.load != c.load


def test_compare_schedules_averages_runs():
    table = compare_schedules(["full"], clients=50, seed=5, runs=3)
    calls = [simulate_herd(clients=50, schedule="full", seed=s).calls for s in (5, 6, 7)]
    assert table.loc["full", "calls"] == pytest.approx(sum(calls) / 3, abs=1e-3)
    with pytest.raises(ValueError, match="runs"):
        compare_schedules(["full"], runs=0)


def test_compare_sizes_is_compare_schedules_per_herd_size():
    table = compare_sizes(["full", "equal"], sizes=[20, 40], seed=2, runs=2, **ARTICLE)
    assert list(table.columns) == [20, 40] and list(table.index) == ["full", "equal"]
    assert table.loc["equal", 40] == compare_schedules(["equal"], clients=40, seed=2, runs=2,
                                                       **ARTICLE).loc["equal", "calls_per_client"]
    both = compare_sizes(["full"], sizes=[20], columns=["calls_per_client", "completion_s"], **ARTICLE)
    assert list(both.columns) == [("calls_per_client", 20), ("completion_s", 20)]


# -- the outage scenario: the load on a recovering server -----------------------------


@pytest.fixture(scope="module")
def outage_table():
    return compare_schedules(clients=2000, seed=1, scenario=Outage())


def test_outage_runs_every_schedule_but_none():
    # Requests take no time there: a client that never waits would never let time pass.
    assert Outage.schedules == tuple(s for s in SCHEDULES if s != "none")
    with pytest.raises(ValueError, match="use 'constant'"):
        simulate_herd(Outage(), clients=10, schedule="none")


def test_outage_no_jitter_wastes_the_most_calls(outage_table):
    assert list(outage_table.index) == list(Outage.schedules)
    worst_jittered = outage_table.loc[list(JITTERED), "calls"].max()
    for name in ("constant", "exponential"):
        assert outage_table.loc[name, "calls"] > 1.4 * worst_jittered, outage_table


def test_outage_synchronised_retries_finish_last(outage_table):
    # Without jitter every client retries at the same instants: the server sees
    # waves it can only serve a capacity's worth of, once per cap.
    exp = outage_table.loc["exponential"]
    for name in JITTERED:
        assert exp["completion_s"] > 3 * outage_table.loc[name, "completion_s"], outage_table
    assert (outage_table["unfinished"] == 0).all()


def test_outage_every_client_succeeds_and_the_server_never_serves_beyond_capacity():
    result = simulate_herd(Outage(capacity=250, duration=5), clients=3000, schedule="full", seed=4)
    assert result.unfinished == 0
    assert sum(result.served) == 3000
    assert max(result.served) <= 250
    assert sum(result.load) == result.calls
    assert all(s == 0 for s in result.served[:5])  # nothing served during the outage
    assert result.peak_rps == max(result.load)


def test_call_limit_reports_unfinished_clients():
    result = simulate_herd(Outage(duration=1000), clients=100, schedule="constant", base=0.01,
                           max_calls=5000)
    assert result.calls == 5000 and result.unfinished == 100
    assert result.completion_s == float("inf") and result.to_dict()["completion_s"] is None
    result = simulate_herd(clients=100, schedule="none", max_calls=150)
    assert result.calls == 150 and result.unfinished > 0 and result.completion_s == float("inf")


def test_load_frame():
    frame = simulate_herd(clients=200, schedule="equal").load_frame()
    assert list(frame.columns) == ["load", "served", "shed"]
    assert (frame["shed"] >= 0).all() and frame.index.name == "second"


def test_bad_input():
    with pytest.raises(ValueError, match="clients"):
        simulate_herd(clients=0)
    with pytest.raises(ValueError, match="unknown schedule"):
        simulate_herd(schedule="linear")
    with pytest.raises(TypeError, match="scenario"):
        simulate_herd("meteor")
    with pytest.raises(TypeError, match="capacity"):
        Contention(capacity=10)
    with pytest.raises(TypeError, match="latency"):
        Outage(latency=0.1)
    with pytest.raises(ValueError, match="latency"):
        Contention(latency=-1)
    with pytest.raises(ValueError, match="arrival_s"):
        Contention(arrival_s=float("nan"))
    with pytest.raises(ValueError, match="capacity"):
        OutageModel(capacity=0)


# -- the simulation agrees with real httpx clients --------------------------------


class SettableClock:
    """A clock set to exact event times (VirtualClock.advance would add float error)."""

    def __init__(self):
        self.now = 0.0

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += max(0.0, seconds)

    async def asleep(self, seconds):
        self.sleep(seconds)


def _client(sim, transport):
    if transport == "inprocess":
        return sim.client()
    return httpx.Client(base_url=sim.serve().origin_url, timeout=5)


class RecordOverHTTP:
    """Written here, not imported: GET for the ETag, PUT with If-Match (RFC 9110 section 13.1.1)."""

    def __init__(self, client, clock):
        self.client, self.clock = client, clock

    def read(self, now):
        self.clock.now = now
        response = self.client.get("/contention?key=herd")
        assert response.status_code == 200
        return int(response.headers["etag"].strip('"'))

    def write(self, now, version):
        self.clock.now = now
        response = self.client.put("/contention?key=herd", headers={"if-match": f'"{version}"'})
        assert response.status_code in (200, 412), response.text
        return response.status_code == 200


@pytest.mark.parametrize("transport", ["inprocess", "loopback"])
@pytest.mark.parametrize("schedule", ["none", "exponential", "full", "equal", "decorrelated"])
def test_contention_simulation_agrees_with_httpx_clients(schedule, transport):
    clock = SettableClock()
    sim = Simulator(clock=clock, name=f"test-herd-occ-{transport}")
    params = dict(clients=20, schedule=schedule, seed=7, base=0.05, cap=2)
    try:
        with _client(sim, transport) as client:
            assert client.get("/contention?key=herd").headers["etag"] == '"0"'  # starts at t=0
            real = simulate_herd(Contention(server=RecordOverHTTP(client, clock)), **params)
            stats = client.get("/contention/stats?key=herd").json()
    finally:
        sim.stop()
    # The event loop draws its numbers in the order the clients make their requests.
    model = simulate_herd(method="events", **params)
    assert (real.calls, real.completion_s, real.load, real.served) == (
        model.calls, model.completion_s, model.load, model.served)
    assert real.unfinished == 0 and real.calls > 20  # conflicts happened
    assert stats["version"] == 20 and stats["calls"] == model.calls
    assert stats["conflicts"] == model.calls - 20 and stats["peak_rps"] == model.peak_rps
    assert [stats["load"].get(str(s), 0) for s in range(len(model.load))] == model.load


@pytest.mark.parametrize("transport", ["inprocess", "loopback"])
@pytest.mark.parametrize("schedule", ["constant", "exponential", "full", "decorrelated"])
def test_outage_simulation_agrees_with_httpx_clients(schedule, transport):
    clock = SettableClock()
    sim = Simulator(clock=clock, name=f"test-herd-{transport}")
    params = dict(clients=25, schedule=schedule, seed=7, base=0.5, cap=8)
    try:
        with _client(sim, transport) as client:
            assert client.put("/outage?key=herd&duration=3&capacity=4").status_code == 201

            def call(t):
                clock.now = t
                return client.get("/outage?key=herd").status_code == 200

            real = simulate_herd(Outage(duration=3, capacity=4, call=call), **params)
            stats = client.get("/outage/stats?key=herd").json()
    finally:
        sim.stop()
    model = simulate_herd(Outage(duration=3, capacity=4), method="events", **params)
    assert (real.calls, real.completion_s, real.load, real.served) == (
        model.calls, model.completion_s, model.load, model.served)
    assert real.unfinished == 0 and real.calls > 25  # retries happened
    assert stats["calls"] == model.calls and stats["peak_rps"] == model.peak_rps
    assert [stats["load"].get(str(s), 0) for s in range(len(model.load))] == model.load


@pytest.mark.parametrize("scenario, params", [
    (Contention(), dict(clients=15, schedule="equal", seed=5, base=0.05, cap=2)),
    (Outage(duration=3, capacity=4), dict(clients=30, schedule="equal", seed=5, base=0.5, cap=8)),
])
def test_herd_over_http_helper_agrees_with_the_model(scenario, params):
    real = herd_over_http(scenario, method="events", **params)
    model = simulate_herd(scenario, method="events", **params)
    assert (real.calls, real.load, real.completion_s) == (model.calls, model.load, model.completion_s)
    assert real.calls > params["clients"]


def test_herd_over_http_bad_input():
    with pytest.raises(ValueError, match="transport"):
        herd_over_http(transport="carrier-pigeon")
    with pytest.raises(TypeError, match="scenario"):
        herd_over_http("meteor")


# -- CLI -----------------------------------------------------------------------------


def test_cli_json(capsys):
    assert main(["herd", "--clients", "300", "--schedule", "decorrelated", "--seed", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # The terminal's default is the outage: fast at 10,000 clients for every schedule.
    expected = simulate_herd(Outage(), clients=300, schedule="decorrelated", seed=2)
    assert doc["calls"] == expected.calls and doc["scenario"] == "outage"
    assert doc["completion_s"] == round(expected.completion_s, 3)
    assert doc["peak_rps"] == expected.peak_rps
    assert doc["schedule"] == "decorrelated" and doc["unfinished"] == 0


def test_cli_older_outage_flags_still_mean_the_outage(capsys):
    assert main(["herd", "--clients", "300", "--duration", "5", "--capacity", "40", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    expected = simulate_herd(Outage(duration=5, capacity=40), clients=300)
    assert doc["scenario"] == "outage" and doc["capacity"] == 40 and doc["duration"] == 5
    assert (doc["calls"], doc["peak_rps"]) == (expected.calls, expected.peak_rps)


def test_cli_text(capsys):
    assert main(["herd", "--clients", "100", "--schedule", "constant"]) == 0
    out = capsys.readouterr().out
    assert "schedule: constant" in out and "calls:" in out and "peak_rps:" in out
    assert "outage: 10 s" in out and "first_exponent 0" in out
    assert main(["herd", "--clients", "100", "--scenario", "contention"]) == 0
    assert "contention" in capsys.readouterr().out
    assert main(["herd", "--clients", "100", "--latency", "0.02", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["scenario"] == "contention"


def test_cli_none_means_no_wait(capsys):
    flags = ["herd", "--scenario", "contention", "--clients", "50", "--base", "0.005", "--cap", "2",
             "--latency", "0.010", "--json"]
    assert main([*flags, "--schedule", "none"]) == 0
    none = json.loads(capsys.readouterr().out)
    assert main([*flags, "--schedule", "constant"]) == 0
    constant = json.loads(capsys.readouterr().out)
    assert none["calls"] == simulate_herd(Contention(latency=0.010), clients=50, schedule="none",
                                          base=0.005, cap=2).calls
    # Waiting nothing between conflicts costs more writes than waiting base (5 ms).
    assert none["calls"] > constant["calls"] and none["completion_s"] < constant["completion_s"]
    # The outage has no network delay: no wait would never let time pass.
    assert main(["herd", "--schedule", "none"]) == 2
    assert "use 'constant'" in capsys.readouterr().err


def test_cli_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        main(["herd", "--schedule", "linear"])
    with pytest.raises(SystemExit):
        main(["herd", "--clients", "0"])
    with pytest.raises(SystemExit):
        main(["herd", "--scenario", "meteor"])
    assert main(["herd", "--base", "0"]) == 2
    assert "base must be > 0" in capsys.readouterr().err
    assert main(["herd", "--scenario", "contention", "--capacity", "5"]) == 2
    assert "--scenario outage" in capsys.readouterr().err
    assert main(["herd", "--scenario", "outage", "--latency", "0.1"]) == 2
    assert "--scenario contention" in capsys.readouterr().err
