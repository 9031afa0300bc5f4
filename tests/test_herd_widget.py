"""HerdLab displays simulate_herd's results (no logic of its own) in one output update."""

import matplotlib

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
