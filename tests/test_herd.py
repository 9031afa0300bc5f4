"""The thundering herd: the AWS article's qualitative result, agreement with real
httpx clients against /outage, and the CLI."""

import json

import httpx
import pytest

from labkit import Simulator
from labkit.cli import main
from labkit.origin._outage import OutageModel
from labkit.retry import compare_schedules, simulate_herd

JITTERED = ("full", "equal", "decorrelated")
NO_JITTER = ("none", "exponential")


@pytest.fixture(scope="module")
def table():
    # 2,000 clients: big enough for the herd effect, ~0.1 s to simulate.
    return compare_schedules(clients=2000, seed=1)


def test_no_jitter_wastes_the_most_calls(table):
    worst_jittered = table.loc[list(JITTERED), "calls"].max()
    for name in NO_JITTER:
        assert table.loc[name, "calls"] > 1.4 * worst_jittered, table


def test_decorrelated_jitter_makes_the_fewest_calls(table):
    assert table["calls"].idxmin() == "decorrelated", table


def test_synchronised_retries_finish_last_and_hit_hardest(table):
    # Without jitter every client retries at the same instants: the server sees
    # waves it can only serve a capacity's worth of, once per cap.
    exp = table.loc["exponential"]
    for name in JITTERED:
        assert exp["completion_s"] > 3 * table.loc[name, "completion_s"], table
    assert (table["unfinished"] == 0).all()


def test_every_client_succeeds_and_the_server_never_serves_beyond_capacity():
    result = simulate_herd(clients=3000, schedule="full", seed=4, capacity=250, duration=5)
    assert result.unfinished == 0
    assert sum(result.served) == 3000
    assert max(result.served) <= 250
    assert sum(result.load) == result.calls
    assert all(s == 0 for s in result.served[:5])  # nothing served during the outage
    assert result.peak_rps == max(result.load)


def test_reproducible_by_seed():
    a = simulate_herd(clients=500, schedule="decorrelated", seed=3)
    b = simulate_herd(clients=500, schedule="decorrelated", seed=3)
    c = simulate_herd(clients=500, schedule="decorrelated", seed=4)
    assert (a.calls, a.load) == (b.calls, b.load)
    assert a.load != c.load


def test_call_limit_reports_unfinished_clients():
    result = simulate_herd(clients=100, schedule="none", base=0.01, duration=1000, max_calls=5000)
    assert result.calls == 5000 and result.unfinished == 100
    assert result.completion_s == float("inf") and result.to_dict()["completion_s"] is None


def test_load_frame():
    frame = simulate_herd(clients=200, schedule="equal").load_frame()
    assert list(frame.columns) == ["load", "served", "shed"]
    assert (frame["shed"] >= 0).all() and frame.index.name == "second"


def test_bad_input():
    with pytest.raises(ValueError, match="clients"):
        simulate_herd(clients=0)
    with pytest.raises(ValueError, match="unknown schedule"):
        simulate_herd(schedule="linear")
    with pytest.raises(ValueError, match="capacity"):
        OutageModel(capacity=0)


# -- the simulation agrees with real httpx clients against /outage ----------------


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


@pytest.mark.parametrize("transport", ["inprocess", "loopback"])
@pytest.mark.parametrize("schedule", ["none", "exponential", "full", "decorrelated"])
def test_simulation_agrees_with_httpx_clients_on_the_outage_endpoint(schedule, transport):
    clock = SettableClock()
    sim = Simulator(clock=clock, name=f"test-herd-{transport}")
    params = dict(clients=25, schedule=schedule, seed=7, base=0.5, cap=8, duration=3, capacity=4)
    try:
        if transport == "inprocess":
            client = sim.client()
        else:
            client = httpx.Client(base_url=sim.serve().origin_url, timeout=5)
        with client:
            assert client.put("/outage?key=herd&duration=3&capacity=4").status_code == 201

            def call(t):
                clock.now = t
                return client.get("/outage?key=herd").status_code == 200

            real = simulate_herd(call=call, **params)
            stats = client.get("/outage/stats?key=herd").json()
    finally:
        sim.stop()
    model = simulate_herd(**params)
    assert (real.calls, real.completion_s, real.load, real.served) == (
        model.calls, model.completion_s, model.load, model.served)
    assert real.unfinished == 0 and real.calls > 25  # retries happened
    assert stats["calls"] == model.calls and stats["peak_rps"] == model.peak_rps
    assert [stats["load"].get(str(s), 0) for s in range(len(model.load))] == model.load


# -- CLI -----------------------------------------------------------------------------


def test_cli_json(capsys):
    assert main(["herd", "--clients", "300", "--schedule", "decorrelated", "--seed", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    expected = simulate_herd(clients=300, schedule="decorrelated", seed=2)
    assert doc["calls"] == expected.calls
    assert doc["completion_s"] == round(expected.completion_s, 3)
    assert doc["peak_rps"] == expected.peak_rps
    assert doc["schedule"] == "decorrelated"


def test_cli_text(capsys):
    assert main(["herd", "--clients", "100", "--schedule", "none"]) == 0
    out = capsys.readouterr().out
    assert "schedule: none" in out and "calls:" in out and "peak_rps:" in out


def test_cli_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        main(["herd", "--schedule", "linear"])
    with pytest.raises(SystemExit):
        main(["herd", "--clients", "0"])
    assert main(["herd", "--base", "0"]) == 2
    assert "base must be > 0" in capsys.readouterr().err


def test_herd_over_http_helper_agrees_with_the_model():
    from labkit.retry import herd_over_http

    params = dict(clients=30, schedule="equal", seed=5, base=0.5, cap=8, duration=3, capacity=4)
    real = herd_over_http(**params)
    model = simulate_herd(**params)
    assert (real.calls, real.load, real.completion_s) == (model.calls, model.load, model.completion_s)
    with pytest.raises(ValueError, match="transport"):
        herd_over_http(transport="carrier-pigeon")
