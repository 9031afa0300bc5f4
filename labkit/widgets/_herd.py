"""The thundering-herd widget and plots. Display only: the simulation is
:func:`labkit.retry.simulate_herd`."""

from __future__ import annotations

import ipywidgets as w

from ..retry import simulate_herd

__all__ = ["HerdLab", "plot_herd"]

NAMES = ("none", "exponential", "full", "equal", "decorrelated")


def plot_herd(results, *, ax=None, seconds: int | None = None):
    """Load the server saw per second, one line per result; returns the figure."""
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
    ax.set_ylabel("requests that second")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


class HerdLab(w.VBox):
    """Clients, cap and schedules in; calls, completion, peak load and the load plot out."""

    def __init__(self, *, clients: int = 2000, cap: float = 60.0, base: float = 1.0,
                 schedules: tuple[str, ...] = NAMES, seed: int = 0) -> None:
        self.clients = w.IntSlider(value=clients, min=100, max=10000, step=100, description="clients")
        self.cap = w.FloatSlider(value=cap, min=1, max=120, step=1, description="cap s")
        self.base = w.FloatLogSlider(value=base, base=10, min=-2, max=1, step=0.1, description="base s")
        self.schedules = w.SelectMultiple(options=list(NAMES), value=list(schedules),
                                          description="schedules", rows=5)
        self.seed = w.IntText(value=seed, description="seed", layout={"width": "10em"})
        self.out = w.Output(layout={"border": "1px solid #ccc", "min_height": "6em"})
        self.results = []
        for c in (self.clients, self.cap, self.base, self.schedules, self.seed):
            c.observe(lambda _: self.update(), names="value")
        super().__init__([w.HBox([self.clients, self.base, self.cap]),
                          w.HBox([self.schedules, self.seed]), self.out])
        self.update()

    def update(self):
        import matplotlib.pyplot as plt
        import pandas as pd

        cap = max(self.cap.value, self.base.value)
        self.results = [simulate_herd(clients=self.clients.value, schedule=s, base=self.base.value,
                                      cap=cap, seed=self.seed.value) for s in self.schedules.value]
        table = pd.DataFrame([r.to_dict() for r in self.results]).set_index("schedule")[
            ["calls", "calls_per_client", "completion_s", "peak_rps"]]
        self.out.clear_output()
        self.out.append_display_data(table)
        if self.results:
            fig = plot_herd(self.results)
            self.out.append_display_data(fig)
            plt.close(fig)
        return self.results

    def __repr__(self) -> str:  # nbval compares this text: keep it stable
        return f"HerdLab(clients={self.clients.value}, schedules={list(self.schedules.value)!r})"
