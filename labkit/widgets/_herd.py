"""The thundering-herd widget and plots. Display only: the simulation is
:func:`labkit.retry.simulate_herd`."""

from __future__ import annotations

import math

import ipywidgets as w

from ..retry import HERD_SCENARIOS, SCHEDULES, simulate_herd
from ._output import replace_output

__all__ = ["HerdLab", "plot_herd"]


# One look per schedule, the same in every plot: colour and line style, so the
# lines stay apart in greyscale and where they cross.
_STYLES = {
    "none": ("tab:red", (0, (1, 1))),
    "constant": ("tab:purple", (0, (5, 1, 1, 1))),
    "exponential": ("tab:orange", (0, (4, 2))),
    "full": ("tab:blue", "-"),
    "equal": ("tab:green", (0, (8, 2, 2, 2, 2, 2))),
    "decorrelated": ("black", (0, (2, 1, 6, 1))),
}


def plot_herd(results, *, ax=None, seconds: float | None = None, bin_s: float = 1.0,
              stacked: bool = False, labels=None):
    """Requests the server saw (contention: writes) per ``bin_s`` seconds, one line per
    result, up to ``seconds``; returns the figure.

    Per second (the default) uses ``HerdResult.load``. A shorter ``bin_s`` (e.g. 0.01)
    counts ``HerdResult.times`` (run ``simulate_herd(..., times=True)``): waves of
    synchronised retries a few tens of milliseconds apart only show as spikes then.
    Each schedule has its own colour and line style; the legend sits outside the
    plot, and the outage's capacity is a dashed line. One axes, log scale; or
    ``stacked``: one panel per result on a shared time axis, linear scale, so
    spikes and silence read directly. ``labels`` names the results (default: their
    schedules), e.g. when they differ in something else, such as the outage's
    ``Retry-After``.
    """
    import matplotlib.pyplot as plt

    if not bin_s > 0:
        raise ValueError("bin_s must be > 0 seconds")
    results = list(results)
    names = [r.schedule for r in results] if labels is None else list(labels)
    if len(names) != len(results):
        raise ValueError("one label per result")
    contention = any(r.params.get("scenario") == "contention" for r in results)
    per = "second" if bin_s == 1 else f"{bin_s * 1000:g} ms"
    what = f"{'writes' if contention else 'requests'} per {per}"
    if stacked:
        if ax is not None:
            raise ValueError("stacked draws its own panels: leave ax unset")
        fig, axes = plt.subplots(len(results), 1, sharex=True, squeeze=False,
                                 figsize=(9, 0.5 + 1.1 * len(results)))
        axes = axes[:, 0]
    else:
        if ax is None:
            fig, ax = plt.subplots(figsize=(9, 3.4))
        else:
            fig = ax.figure
        axes = [ax] * len(results)
    capacity = None
    # Results of one schedule (differing in something else) take the looks in turn.
    shared = len({r.schedule for r in results}) < len(results)
    looks = list(_STYLES.values())
    for k, (r, a, name) in enumerate(zip(results, axes, names)):
        x, y = _binned(r, seconds, bin_s)
        colour, style = looks[k % len(looks)] if shared else _STYLES.get(r.schedule, (None, "-"))
        label = f"{name} ({r.calls:,} calls)"
        a.step(x, y, where="post", color=colour, ls="-" if stacked else style, lw=1.1 if stacked else 1.3,
               label=label)
        capacity = r.params.get("capacity")
        if stacked:
            a.set_ylim(bottom=0)
            a.text(1.01, 0.5, label, transform=a.transAxes, va="center", fontsize=8)
            a.spines[["top", "right"]].set_visible(False)
    last = axes[-1] if len(axes) else ax
    last.set_xlim(left=0)
    last.set_xlabel("second")
    if stacked:
        fig.supylabel(what, fontsize=9)
    else:
        if capacity:
            ax.axhline(capacity * bin_s, color="grey", ls="--", lw=0.8, label="capacity")
        ax.set_yscale("symlog", linthresh=1)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(what)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    fig.tight_layout()
    return fig


def _binned(result, seconds, bin_s):
    """(bin starts, counts): requests per ``bin_s`` seconds up to ``seconds``."""
    if bin_s == 1:
        load = result.load[:int(math.ceil(seconds))] if seconds else result.load
        return list(range(len(load))), load
    if result.times is None:
        raise ValueError("bins shorter than a second count each request: "
                         "run simulate_herd(..., times=True)")
    end = seconds if seconds else max(result.times, default=0.0)
    counts = [0] * (int(end / bin_s) + 1)
    for t in result.times:
        k = int(t / bin_s)
        if k < len(counts) and t <= end:
            counts[k] += 1
    return [k * bin_s for k in range(len(counts))], counts


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
                                          description="schedules", rows=len(SCHEDULES))
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
        chosen = [s for s in self.schedules.value if s in scenario.schedules]
        skipped = [s for s in self.schedules.value if s not in scenario.schedules]
        self.results = [simulate_herd(scenario, clients=self.clients.value, schedule=s,
                                      base=self.base.value, cap=cap, seed=self.seed.value)
                        for s in chosen]
        table = pd.DataFrame([r.to_dict() for r in self.results],
                             columns=["schedule", "calls", "calls_per_client", "completion_s",
                                      "peak_rps"]).set_index("schedule")
        notes = [f"not run in the {scenario.name} scenario: {', '.join(skipped)} (no wait, and "
                 "requests there take no time)\n"] if skipped else []
        figures = [plot_herd(self.results)] if self.results else []
        replace_output(self.out, *notes, table, *figures)
        return self.results

    def __repr__(self) -> str:  # nbval compares this text: keep it stable
        return (f"HerdLab(scenario={self.scenario.value!r}, clients={self.clients.value}, "
                f"schedules={list(self.schedules.value)!r})")
