"""The thundering-herd widget and plots. Display only: the simulation is
:func:`labkit.retry.simulate_herd`."""

from __future__ import annotations

import ipywidgets as w

from ..retry import HERD_SCENARIOS, SCHEDULES, simulate_herd
from ._output import replace_output

__all__ = ["HerdLab", "plot_herd"]


def plot_herd(results, *, ax=None, seconds: int | None = None):
    """Load the server saw per second, one line per result; returns the figure.

    Under contention the load is writes per second (the article's calls); the
    outage draws its capacity as a dashed line.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 3.2))
    else:
        fig = ax.figure
    capacity = None
    for r in results:
        load = r.load[:seconds] if seconds else r.load
        ax.plot(range(len(load)), load, label=f"{r.schedule} ({r.calls:,} calls)", lw=1.2)
        capacity = r.params.get("capacity")
    if capacity:
        ax.axhline(capacity, color="black", ls="--", lw=0.8, label="capacity")
    ax.set_yscale("log")
    ax.set_xlabel("second")
    contention = any(r.params.get("scenario") == "contention" for r in results)
    ax.set_ylabel("writes that second" if contention else "requests that second")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


class HerdLab(w.VBox):
    """Scenario, clients, base, cap and schedules in; calls, completion, peak load and the plot out."""

    def __init__(self, *, clients: int = 2000, cap: float = 60.0, base: float = 1.0,
                 schedules: tuple[str, ...] = SCHEDULES, seed: int = 0,
                 scenario: str = "contention") -> None:
        self.scenario = w.ToggleButtons(options=list(HERD_SCENARIOS), value=scenario,
                                        description="scenario")
        self.clients = w.IntSlider(value=clients, min=100, max=10000, step=100, description="clients")
        self.cap = w.FloatSlider(value=cap, min=1, max=120, step=1, description="cap s")
        self.base = w.FloatLogSlider(value=base, base=10, min=-2, max=1, step=0.1, description="base s")
        self.schedules = w.SelectMultiple(options=list(SCHEDULES), value=list(schedules),
                                          description="schedules", rows=5)
        self.seed = w.IntText(value=seed, description="seed", layout={"width": "10em"})
        self.out = w.Output(layout={"border": "1px solid #ccc", "min_height": "6em"})
        self.results = []
        for c in (self.scenario, self.clients, self.cap, self.base, self.schedules, self.seed):
            c.observe(lambda _: self.update(), names="value")
        super().__init__([self.scenario, w.HBox([self.clients, self.base, self.cap]),
                          w.HBox([self.schedules, self.seed]), self.out])
        self.update()

    def update(self):
        """Rerun the simulation for every chosen schedule; returns the results it shows."""
        import pandas as pd

        cap = max(self.cap.value, self.base.value)
        scenario = HERD_SCENARIOS[self.scenario.value]()
        self.results = [simulate_herd(scenario, clients=self.clients.value, schedule=s,
                                      base=self.base.value, cap=cap, seed=self.seed.value)
                        for s in self.schedules.value]
        table = pd.DataFrame([r.to_dict() for r in self.results],
                             columns=["schedule", "calls", "calls_per_client", "completion_s",
                                      "peak_rps"]).set_index("schedule")
        figures = [plot_herd(self.results)] if self.results else []
        replace_output(self.out, table, *figures)
        return self.results

    def __repr__(self) -> str:  # nbval compares this text: keep it stable
        return (f"HerdLab(scenario={self.scenario.value!r}, clients={self.clients.value}, "
                f"schedules={list(self.schedules.value)!r})")
