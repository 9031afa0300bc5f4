"""HerdLab displays simulate_herd's results (no logic of its own) in one output update."""

import matplotlib
import pytest

matplotlib.use("Agg")

from labkit.retry import Outage, simulate_herd  # noqa: E402
from labkit.widgets import HerdLab  # noqa: E402


def test_herd_lab_shows_the_simulation():
    lab = HerdLab(clients=200, schedules=("constant", "full"), seed=3)
    assert [r.schedule for r in lab.results] == ["constant", "full"]
    assert lab.results[1].calls == simulate_herd(clients=200, schedule="full", seed=3).calls
    kinds = [o["output_type"] for o in lab.out.outputs]
    assert kinds == ["display_data", "display_data"]  # the table and the plot
    assert "image/png" in lab.out.outputs[1]["data"]
    assert "calls_per_client" in lab.out.outputs[0]["data"]["text/plain"]
    assert repr(lab) == "HerdLab(scenario='contention', clients=200, schedules=['constant', 'full'])"


def test_herd_lab_switches_scenario():
    lab = HerdLab(clients=200, schedules=("equal",), seed=1)
    lab.scenario.value = "outage"
    assert lab.results[0].params["scenario"] == "outage"
    assert lab.results[0].calls == simulate_herd(Outage(), clients=200, schedule="equal", seed=1).calls
    assert len(lab.out.outputs) == 2
    lab.schedules.value = ()
    assert lab.results == [] and len(lab.out.outputs) == 1  # the (empty) table only


def test_herd_lab_skips_none_in_the_outage_and_says_so():
    lab = HerdLab(clients=200, schedules=("none", "full"), seed=1, scenario="outage")
    assert [r.schedule for r in lab.results] == ["full"]
    assert "not run in the outage scenario: none" in lab.out.outputs[0]["text"]
    lab.scenario.value = "contention"
    assert [r.schedule for r in lab.results] == ["none", "full"]


def test_plot_herd_bins_short_intervals_and_keeps_the_legend_outside():
    import matplotlib.pyplot as plt

    from labkit.retry import Contention
    from labkit.widgets import plot_herd

    article = dict(base=0.005, cap=2.0, scenario=Contention(latency=0.010), times=True)
    results = [simulate_herd(clients=100, schedule=s, seed=0, **article) for s in ("exponential", "full")]
    assert len(results[0].times) == results[0].calls
    fig = plot_herd(results, seconds=3, bin_s=0.01)
    ax = fig.axes[0]
    lines = ax.get_lines()
    # 10 ms bins: exponential's synchronised waves are spikes with silence between.
    exp = lines[0].get_ydata()
    assert len(exp) == 301 and sum(exp) == sum(1 for t in results[0].times if t <= 3)
    assert max(exp) > 20 and sum(1 for y in exp if y == 0) > 200
    assert lines[0].get_linestyle() != lines[1].get_linestyle()
    legend = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert legend.x0 >= ax.get_window_extent().x1  # beside the data, not on it
    assert ax.get_ylabel() == "writes per 10 ms"
    plt.close(fig)
    fig = plot_herd(results, seconds=3, bin_s=0.01, stacked=True)
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="times=True"):
        plot_herd([simulate_herd(clients=50, schedule="full", seed=0)], bin_s=0.01)
