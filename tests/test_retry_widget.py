"""RetryLab and its timeline plot: display only, readable without colour, described in words."""

import matplotlib
import pytest

matplotlib.use("Agg")

from labkit.labs import run_experiment  # noqa: E402
from labkit.widgets import RetryLab, describe_timeline, plot_timeline  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_a_single_attempt_keeps_the_time_axis_at_zero_and_up():
    result, _ = run_experiment("511 from the origin")
    assert len(result.attempts) == 1 and result.attempts[0].time == 0
    left, right = plot_timeline(result).axes[0].get_xlim()
    assert left == 0 and right > 0


def test_the_axis_ends_after_the_last_wait():
    result, _ = run_experiment("flaky 503")
    end = max(a.time + a.delay for a in result.attempts)
    left, right = plot_timeline(result).axes[0].get_xlim()
    assert left == 0 and right >= end


def test_decisions_differ_by_marker_as_well_as_colour():
    from labkit.widgets._retry import _LOOKS

    assert len({m for _, m in _LOOKS.values()}) == len(_LOOKS)
    assert len({c for c, _ in _LOOKS.values()}) == len(_LOOKS)


def test_the_lab_says_how_to_use_it_and_describes_its_plot():
    lab = RetryLab(experiment="flaky 503")
    assert "attempts" in lab.children[0].value and "Idempotency-Key" in lab.children[0].value
    kinds = [o["output_type"] for o in lab.out.outputs]
    assert kinds == ["display_data", "display_data", "stream"]  # timeline, plot, its description
    assert lab.out.outputs[2]["text"].strip() == describe_timeline(lab.result)
    assert describe_timeline(lab.result).startswith(f"The plot shows {len(lab.result.attempts)} attempt(s)")
    assert "200 at" in describe_timeline(lab.result)
