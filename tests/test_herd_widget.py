"""HerdLab displays simulate_herd's results (no logic of its own) in one output update."""

import math

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
    assert kinds == ["display_data", "display_data", "stream"]  # the table, the plot, its description
    assert "image/png" in lab.out.outputs[1]["data"]
    assert lab.out.outputs[2]["text"].startswith("The plot shows the writes the server saw per second")
    assert "calls_per_client" in lab.out.outputs[0]["data"]["text/plain"]
    assert repr(lab) == "HerdLab(scenario='contention', clients=200, schedules=['constant', 'full'])"


def test_herd_lab_switches_scenario():
    lab = HerdLab(clients=200, schedules=("equal",), seed=1)
    lab.scenario.value = "outage"
    assert lab.results[0].params["scenario"] == "outage"
    assert lab.results[0].calls == simulate_herd(Outage(), clients=200, schedule="equal", seed=1).calls
    assert len(lab.out.outputs) == 3
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


def test_schedules_are_checkboxes_and_one_tick_reruns_once():
    import ipywidgets as w

    lab = HerdLab(clients=200, schedules=("full",), seed=0)
    assert all(isinstance(box, w.Checkbox) for box in lab.schedules.boxes.values())
    runs = []
    update = lab.update
    lab.update = lambda: runs.append(1) or update()
    lab.schedules.boxes["equal"].value = True
    assert lab.schedules.value == ("full", "equal") and len(runs) == 1
    assert [r.schedule for r in lab.results] == ["full", "equal"]
    lab.schedules.value = ("constant",)  # set from code: the boxes follow, one rerun
    assert [b.value for b in lab.schedules.boxes.values()] == [s == "constant" for s in lab.schedules.options]
    assert len(runs) == 2


def test_every_control_says_how_to_use_it():
    lab = HerdLab(clients=200, schedules=("full",), seed=0)
    help_text = lab.children[0].value
    for control in ("scenario", "clients", "base", "cap", "schedules", "seed"):
        assert control in help_text
    assert "tick" in help_text
    for control in (lab.clients, lab.cap, lab.base, lab.seed):
        assert control.tooltip


def test_the_time_axis_fits_the_data():
    import matplotlib.pyplot as plt

    from labkit.widgets import describe_herd, herd_extent, plot_herd

    results = [simulate_herd(clients=1000, schedule=s, seed=0) for s in ("exponential", "full", "equal")]
    seconds, beyond = herd_extent(results)
    # Exponential backoff runs on for hours; it does not squeeze the first minute into a sliver.
    assert [r.schedule for r in beyond] == ["exponential"]
    assert 60 < seconds < max(r.completion_s for r in results[1:]) < 200 < results[0].completion_s
    for r in results[1:]:  # 99% of each jittered schedule's writes fall inside the axis
        assert sum(r.load[:math.ceil(seconds)]) >= 0.99 * sum(r.load)
    fig = plot_herd(results)
    assert fig.axes[0].get_xlim() == (0, seconds)
    plt.close(fig)
    # Two lines are enough to tell: each is measured against the others.
    assert herd_extent(results[:2])[1] == [results[0]]
    text = describe_herd(results)
    assert text.startswith("The plot shows the writes the server saw per second")
    assert all(f"{name} peaks at" in text for name in ("exponential", "full", "equal"))
    assert "all but exponential" in text and "past the edge" in text


def test_schedules_differ_by_line_style_and_never_by_red_against_green():
    from labkit.widgets._herd import _STYLES

    colours = [c for c, _ in _STYLES.values()]
    styles = [str(s) for _, s in _STYLES.values()]
    assert len(set(colours)) == len(colours) and len(set(styles)) == len(styles)
    assert not {"tab:red", "tab:green", "red", "green"} & set(colours)


@pytest.mark.parametrize("seconds, bin_s", [(None, 0.01), (1.5, 0.01), (0.3, 0.1), (2.0, 0.25)])
def test_short_bins_count_every_request_once(seconds, bin_s):
    # plot_herd's bins shorter than a second count HerdResult.times: each request in
    # the bin int(t / bin_s), none after `seconds` (the run's last request without it).
    from labkit.widgets._herd import _binned

    result = simulate_herd(clients=40, schedule="full", seed=5, base=0.05, cap=2, times=True)
    result.times += [1.5, 0.3, 0.0]  # on an edge: the end itself, a bin's start, the origin
    end = seconds if seconds else max(result.times)
    expected = [0] * (int(end / bin_s) + 1)
    for t in result.times:
        if t <= end and int(t / bin_s) < len(expected):
            expected[int(t / bin_s)] += 1
    starts, counts = _binned(result, seconds, bin_s)
    assert counts == expected and sum(counts) == sum(t <= end for t in result.times)
    assert starts == [k * bin_s for k in range(len(expected))] and type(counts[0]) is int


def test_plot_herd_labels_its_log_axis_with_plain_numbers():
    import matplotlib.pyplot as plt

    from labkit.widgets import plot_herd

    fig = plot_herd([simulate_herd(Outage(), clients=2000, schedule=s, seed=0) for s in ("constant", "full")])
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
    plt.close(fig)
    assert ax.get_yscale() == "symlog"
    # 1, 10, 100, 1,000: never "$\mathdefault{10^{3}}$", which needs the mathtext parser.
    assert labels and not any("$" in label for label in labels)
    assert {"1", "10", "100"} <= set(labels), labels
