"""The outage herd with Retry-After (RFC 9110 section 10.2.3): the endpoint and the
simulation agree, clients honour it as RetryPolicy does, an HTTP-date synchronises the
herd, delay-seconds spreads it over at most a second, client jitter spreads it further."""

import json
import math

import httpx
import matplotlib
import pytest

matplotlib.use("Agg")

from labkit import Simulator, VirtualClock  # noqa: E402
from labkit.cli import main  # noqa: E402
from labkit.core import http_date, parse_retry_after  # noqa: E402
from labkit.labs import herd_over_http  # noqa: E402
from labkit.origin import OutageModel  # noqa: E402
from labkit.retry import (  # noqa: E402
    Backoff,
    Contention,
    Outage,
    RetryPolicy,
    compare_retry_after,
    simulate_herd,
)

TIMES = [0.0, 0.3, 4.999, 9.2, 9.999, 10.0, 10.001, 10.5, 11.75, 12.0]


# -- the server model and the endpoint ------------------------------------------------


@pytest.mark.parametrize("form", ["seconds", "date"])
def test_model_advertises_when_it_next_has_capacity(form):
    model = OutageModel(duration=10, capacity=1, retry_after=form)
    assert model.retry_after_value(0.3) == ("10" if form == "seconds" else http_date(10))
    assert model.retry_after_value(9.999) == ("1" if form == "seconds" else http_date(10))
    # Shedding after recovery: its capacity renews with the next second.
    assert model.retry_after_value(10.5) == ("1" if form == "seconds" else http_date(11))
    for t in TIMES:
        # The number the simulation uses is the one a client parses from the field.
        delay = model.retry_after_delay(t)
        assert delay == parse_retry_after(model.retry_after_value(t), now=t) > 0
        assert t + delay >= model.next_capacity(t)


def test_model_without_retry_after_and_bad_form():
    model = OutageModel(duration=10)
    assert model.retry_after_value(1.0) is None and model.retry_after_delay(1.0) is None
    with pytest.raises(ValueError, match="retry_after"):
        OutageModel(retry_after="soon")


@pytest.mark.parametrize("form", ["seconds", "date"])
def test_endpoint_sends_it_and_the_policy_reads_what_the_simulation_uses(form):
    clock = VirtualClock()
    clock.advance(0.4)  # the outage starts off a whole second: a date rounds up
    sim = Simulator(clock=clock, name=f"test-outage-ra-{form}")
    model = OutageModel(duration=5, capacity=2, retry_after=form, start=clock.time())
    policy = RetryPolicy(backoff=Backoff(attempts=10))
    try:
        with sim.client() as client:
            put = client.put(f"/outage?key=k&duration=5&capacity=2&retry_after={form}")
            assert put.status_code == 201 and put.json()["retry_after"] == form
            for step in (0.25, 2.5, 2.25, 0.0, 0.0, 1.5):  # down, down, up, up, shed, shed
                clock.advance(step)
                now = clock.time()
                response = client.get("/outage?key=k")
                if not model.admit(now):
                    assert response.status_code == 503
                    assert response.headers["retry-after"] == model.retry_after_value(now)
                    assert response.json()["retry_after"] == model.retry_after_value(now)
                    decision = policy.decide(response, attempt=1, now=now)
                    assert decision.delay == model.retry_after_delay(now)
                else:
                    assert response.status_code == 200
            assert client.get("/outage/stats?key=k").json()["retry_after"] == form
            assert client.get("/outage?key=k&retry_after=later").status_code == 400
    finally:
        sim.stop()


# -- the simulation agrees with the endpoint --------------------------------------------


@pytest.mark.parametrize("transport", ["inprocess", "loopback"])
@pytest.mark.parametrize("form, jitter, schedule", [
    ("seconds", 0.0, "full"), ("date", 0.0, "full"), ("date", 0.5, "decorrelated"),
    ("seconds", 0.3, "equal")])
def test_herd_over_http_agrees_with_retry_after(form, jitter, schedule, transport):
    scenario = Outage(duration=3, capacity=4, retry_after=form, retry_after_jitter=jitter)
    params = dict(clients=25, schedule=schedule, seed=7, base=0.5, cap=8, times=True)
    real = herd_over_http(scenario, transport=transport, **params)
    model = simulate_herd(scenario, **params)
    assert (real.calls, real.completion_s, real.load, real.served, real.times) == (
        model.calls, model.completion_s, model.load, model.served, model.times)
    assert real.unfinished == 0 and real.calls > 25


# -- what the herd does ----------------------------------------------------------------


def test_default_is_no_retry_after_and_the_numbers_stay():
    assert Outage().retry_after == "none" and Outage().retry_after_jitter == 0
    # The outage's figures from before Retry-After existed (notebook 04, README).
    assert simulate_herd(Outage(), clients=10_000, schedule="full", seed=0).calls == 60_037
    assert simulate_herd(Outage(), clients=1000, schedule="decorrelated", seed=0).calls == 4839


def test_a_date_sends_the_whole_herd_back_at_one_instant():
    table = compare_retry_after(clients=1000, seed=0, jitter=0.5)
    assert list(table.index) == ["none", "seconds", "date", "seconds, jitter 0.5", "date, jitter 0.5"]
    # Every client meets the outage once and comes back at the recovery, 10.000 s.
    date = simulate_herd(Outage(retry_after="date"), clients=1000, seed=0, times=True)
    assert sum(1 for t in date.times if t == 10.0) == 1000
    peak = table["peak_10ms"]
    assert peak["date"] == 1000
    assert peak["date"] > 20 * peak["seconds"] and peak["date"] > 20 * peak["date, jitter 0.5"]
    assert peak["seconds"] > peak["seconds, jitter 0.5"]
    # Jitter on top of Retry-After flattens the busiest second too, and saves calls.
    assert table.loc["date, jitter 0.5", "peak_rps"] < 0.7 * table.loc["date", "peak_rps"]
    assert table.loc["seconds, jitter 0.5", "calls_per_client"] < table.loc["seconds", "calls_per_client"]
    # With Retry-After the backoff never runs: every 503 carries it.
    equal = compare_retry_after(clients=1000, seed=0, jitter=0.5, schedule="equal")
    assert equal.iloc[1:].equals(table.iloc[1:])


def test_delay_seconds_spreads_the_return_over_at_most_one_second():
    # First failures spread over 5 s; rounding the time left up to whole seconds
    # brings every client back within the second after the recovery.
    result = simulate_herd(Outage(retry_after="seconds", arrival_s=5), clients=1000, seed=0,
                           times=True)
    returns = result.times[1000:2000]
    assert 10.0 <= min(returns) and max(returns) < 11.0
    assert result.peak(after=10) == 1000 and result.peak(after=10, bin_s=0.01) < 30


@pytest.mark.parametrize("jitter", [0.0, 0.25, 1.0])
def test_jitter_waits_between_retry_after_and_retry_after_times_one_plus_j(jitter):
    seen = []

    def call(t):  # every client's first request: 503, Retry-After 4; its second: served
        seen.append(t)
        return True if t > 0 else "4"
    result = simulate_herd(Outage(arrival_s=0, retry_after_jitter=jitter, call=call), clients=500)
    returns = seen[500:]
    assert result.calls == 1000 and len(returns) == 500
    assert min(returns) >= 4 and max(returns) <= 4 * (1 + jitter)
    if jitter:
        assert max(returns) > 4 * (1 + 0.9 * jitter)  # spread over the whole interval


def test_retry_after_is_capped_as_the_policy_caps_it_and_jittered_after():
    seen = []

    def call(t):
        seen.append(t)
        return True if t > 0 else "100"
    simulate_herd(Outage(arrival_s=0, call=call), clients=50)
    assert set(seen[50:]) == {60.0}  # RetryPolicy's max_retry_after, 60 s
    seen.clear()
    simulate_herd(Outage(arrival_s=0, max_retry_after=30, retry_after_jitter=0.5, call=call), clients=50)
    assert 30 <= min(seen[50:]) and max(seen[50:]) <= 45


def test_a_503_without_retry_after_falls_back_on_the_backoff():
    def call(t):
        return True if t > 0 else False
    result = simulate_herd(Outage(arrival_s=0, call=call), clients=3, schedule="constant", base=2,
                           times=True)
    assert result.times == [0.0, 0.0, 0.0, 2.0, 2.0, 2.0]


def test_bad_input():
    for bad in (dict(retry_after="soon"), dict(retry_after_jitter=-0.1),
                dict(retry_after_jitter=math.nan), dict(max_retry_after=0)):
        with pytest.raises(ValueError):
            Outage(**bad)
    with pytest.raises(TypeError, match="Outage"):
        compare_retry_after(Contention())
    result = simulate_herd(Outage(), clients=100)
    with pytest.raises(ValueError, match="times=True"):
        result.peak(bin_s=0.01)
    with pytest.raises(ValueError, match="bin_s"):
        result.peak(bin_s=0)
    assert result.peak() == result.peak_rps and result.peak(after=1e6) == 0


def test_plot_herd_labels():
    import matplotlib.pyplot as plt

    from labkit.widgets import plot_herd

    results = [simulate_herd(Outage(retry_after=f), clients=200, seed=0, times=True)
               for f in ("seconds", "date")]
    fig = plot_herd(results, seconds=15, bin_s=0.01, stacked=True, labels=["seconds", "date"])
    assert [t.get_text().split(" (")[0] for ax in fig.axes for t in ax.texts] == ["seconds", "date"]
    plt.close(fig)
    with pytest.raises(ValueError, match="one label per result"):
        plot_herd(results, labels=["seconds"])


# -- CLI -------------------------------------------------------------------------------


def test_cli_retry_after(capsys):
    assert main(["herd", "--clients", "500", "--retry-after", "date", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    expected = simulate_herd(Outage(retry_after="date"), clients=500)
    assert (doc["calls"], doc["retry_after"]) == (expected.calls, "date")
    assert doc["recovery_peak_10ms"] == 500 == doc["recovery_peak_rps"]
    assert main(["herd", "--clients", "500", "--retry-after", "date", "--retry-after-jitter", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "retry-after: date on every 503" in out and "50% longer" in out
    assert "after recovery: peak_rps" in out
    assert main(["herd", "--clients", "500"]) == 0
    assert "retry-after" not in capsys.readouterr().out  # the default: none
    assert main(["herd", "--scenario", "contention", "--retry-after", "seconds"]) == 2
    assert "--retry-after belongs to --scenario outage" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["herd", "--retry-after", "tomorrow"])
