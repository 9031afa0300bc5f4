"""The thundering-herd widget and plots. Display only: the simulation is
:func:`labkit.retry.simulate_herd`."""

from __future__ import annotations

import math
import statistics

import ipywidgets as w
import traitlets

from ..retry import HERD_SCENARIOS, SCHEDULES, simulate_herd
from ._output import replace_output

__all__ = ["HerdLab", "ScheduleChoice", "describe_herd", "herd_extent", "plot_herd"]

# One look per schedule, the same in every plot: colour (Okabe-Ito, safe for
# colour-blind readers, no red/green pair) and line style, so the lines stay apart
# in greyscale and where they cross.
_STYLES = {
    "none": ("#666666", (0, (1, 1))),
    "constant": ("#CC79A7", (0, (5, 1, 1, 1))),
    "exponential": ("#56B4E9", (0, (4, 2))),
    "full": ("#0072B2", "-"),
    "equal": ("#D55E00", (0, (8, 2, 2, 2, 2, 2))),
    "decorrelated": ("black", (0, (2, 1, 6, 1))),
}

# The time axis ends when this share of each result's requests had happened.
SHARE = 0.99
# A result whose share takes this many times as long as the others' (their median)
# is left running past the edge.
_OUTLIER = 5.0


def _time_of_share(result, share: float, bin_s: float) -> float:
    """Seconds until ``share`` of ``result``'s requests had reached the server."""
    if bin_s < 1 and result.times:
        ordered = sorted(result.times)
        return ordered[max(0, math.ceil(share * len(ordered)) - 1)] + bin_s
    total, seen = sum(result.load), 0
    for second, count in enumerate(result.load):
        seen += count
        if seen >= share * total:
            return second + 1.0
    return float(len(result.load))


def herd_extent(results, *, bin_s: float = 1.0, share: float = SHARE) -> tuple[float, list]:
    """``(seconds, beyond)``: where a plot of ``results`` should end its time axis, and the
    results that run on past it.

    The axis ends when ``share`` (99%) of each result's requests had happened, so
    a long tail does not squeeze the first minute into a sliver; a result that
    takes more than five times as long as the others (their median) is left running
    off the edge instead of stretching the axis (``beyond``; say so in the caption).
    """
    results = list(results)
    if not results:
        return 1.0, []
    ends = [_time_of_share(r, share, bin_s) for r in results]
    far = [len(ends) > 1 and end > _OUTLIER * statistics.median(ends[:k] + ends[k + 1:])
           for k, end in enumerate(ends)]
    kept = [end for end, out in zip(ends, far) if not out]
    return max(max(kept) * 1.05, bin_s), [r for r, out in zip(results, far) if out]


def _s(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds >= 10 else f"{seconds:.2g} s"


def describe_herd(results, *, seconds: float | None = None, bin_s: float = 1.0, labels=None,
                  stacked: bool = False) -> str:
    """What :func:`plot_herd` draws, in words, for readers who cannot see it: each line's
    peak and end, and where the time axis stops. Same arguments as ``plot_herd``."""
    results = list(results)
    if not results:
        return "No schedule chosen: nothing to plot."
    names = [r.schedule for r in results] if labels is None else list(labels)
    contention = any(r.params.get("scenario") == "contention" for r in results)
    what = "writes" if contention else "requests"
    fitted, beyond = herd_extent(results, bin_s=bin_s)
    per = "second" if bin_s == 1 else f"{bin_s * 1000:g} ms"
    layout = ("one panel per line" if stacked else "log scale; line styles tell the lines apart")
    lines = "; ".join(f"{name} peaks at {r.peak(bin_s=bin_s) if bin_s != 1 else r.peak_rps:,} and is "
                      f"done after {_s(r.completion_s)}" for name, r in zip(names, results))
    text = f"The plot shows the {what} the server saw per {per} ({layout}): {lines}."
    if seconds is None:
        whose = "every line" if not beyond else "all but " + ", ".join(
            n for n, r in zip(names, results) if any(r is b for b in beyond))
        text += (f" The time axis ends at {_s(fitted)}, when {SHARE:.0%} of the {what} of {whose} "
                 "had happened; the rest come later, past the edge.")
    else:
        text += f" The time axis ends at {_s(seconds)}."
    return text


def plot_herd(results, *, ax=None, seconds: float | None = None, bin_s: float = 1.0,
              stacked: bool = False, labels=None):
    """Requests the server saw (contention: writes) per ``bin_s`` seconds, one line per
    result, up to ``seconds``; returns the figure.

    Without ``seconds`` the time axis fits the data (:func:`herd_extent`): it ends
    when 99% of each result's requests had happened. :func:`describe_herd` says in
    words what the plot shows.

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
    from matplotlib.ticker import FuncFormatter

    if not bin_s > 0:
        raise ValueError("bin_s must be > 0 seconds")
    results = list(results)
    names = [r.schedule for r in results] if labels is None else list(labels)
    if len(names) != len(results):
        raise ValueError("one label per result")
    if seconds is None:
        seconds, _ = herd_extent(results, bin_s=bin_s)
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
    last.set_xlim(0, seconds)
    last.set_xlabel("second")
    if stacked:
        fig.supylabel(what, fontsize=9)
    else:
        if capacity:
            ax.axhline(capacity * bin_s, color="grey", ls="--", lw=0.8, label="capacity")
        ax.set_yscale("symlog", linthresh=1)
        # Plain numbers (1, 10, 1,000) rather than powers of ten: read at a glance, and
        # drawn without matplotlib's mathtext parser, which a widget redraws often.
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
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
    import numpy as np

    end = seconds if seconds else max(result.times, default=0.0)
    n = int(end / bin_s) + 1
    t = np.asarray(result.times, dtype=float)
    t = t[t <= end]
    k = (t / bin_s).astype(np.int64)  # int(): times are never negative
    counts = np.bincount(k[k < n], minlength=n)
    return [j * bin_s for j in range(n)], counts.tolist()


class ScheduleChoice(w.HBox):
    """One checkbox per schedule. ``value`` is the tuple of ticked ones, in the
    options' order, and can be observed and set like a ``SelectMultiple``'s (which
    needs Ctrl-click to choose several, and says nothing of it)."""

    value = traitlets.Tuple()

    def __init__(self, options, value=(), **kwargs) -> None:
        self.options = tuple(options)
        self.boxes = {o: w.Checkbox(value=o in value, description=o, indent=False,
                                    layout={"width": "auto", "margin": "0 1em 0 0"},
                                    tooltip=f"tick to plot {o}") for o in self.options}
        self._syncing = False
        super().__init__(list(self.boxes.values()), **kwargs)
        self.value = tuple(o for o in self.options if o in value)
        for box in self.boxes.values():
            box.observe(self._from_boxes, names="value")
        self.observe(self._to_boxes, names="value")

    def _from_boxes(self, _change) -> None:
        if not self._syncing:
            self.value = tuple(o for o, box in self.boxes.items() if box.value)

    def _to_boxes(self, change) -> None:
        # Tick every box first, then let the one change of ``value`` stand: no
        # intermediate values (each would rerun the simulation).
        self._syncing = True
        try:
            for o, box in self.boxes.items():
                box.value = o in change["new"]
        finally:
            self._syncing = False


_HELP = ("<b>scenario</b>: click one; <b>clients</b>, <b>base</b> (the first wait) and <b>cap</b> "
         "(the longest wait): drag the sliders; <b>schedules</b>: tick every one to compare; "
         "<b>seed</b>: another number draws other random delays. Every change reruns the "
         "simulation; the plot's time axis ends when 99% of the requests had happened.")


class HerdLab(w.VBox):
    """Scenario, clients, base, cap and schedules in; calls, completion, peak load, the plot
    and a sentence describing it out."""

    def __init__(self, *, clients: int = 2000, cap: float = 60.0, base: float = 1.0,
                 schedules: tuple[str, ...] = SCHEDULES, seed: int = 0,
                 scenario: str = "contention") -> None:
        self.scenario = w.ToggleButtons(options=list(HERD_SCENARIOS), value=scenario,
                                        description="scenario",
                                        tooltips=[f"the {s} scenario" for s in HERD_SCENARIOS])
        self.clients = w.IntSlider(value=clients, min=100, max=10000, step=100, description="clients",
                                   tooltip="how many clients retry at once")
        self.cap = w.FloatSlider(value=cap, min=1, max=120, step=1, description="cap s",
                                 tooltip="no wait is longer than this")
        self.base = w.FloatLogSlider(value=base, base=10, min=-2, max=1, step=0.1, description="base s",
                                     tooltip="the first wait, in seconds (log scale)")
        self.schedules = ScheduleChoice(SCHEDULES, value=tuple(schedules))
        self.seed = w.IntText(value=seed, description="seed", layout={"width": "10em"},
                              tooltip="another seed draws other random delays")
        self.out = w.Output(layout={"border": "1px solid #ccc", "min_height": "6em"})
        self.results = []
        for c in (self.scenario, self.clients, self.cap, self.base, self.schedules, self.seed):
            c.observe(lambda _: self.update(), names="value")
        super().__init__([w.HTML(_HELP), self.scenario, w.HBox([self.clients, self.base, self.cap]),
                          w.HBox([w.Label("schedules", layout={"margin": "0 1em 0 0"}), self.schedules]),
                          self.seed, self.out])
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
        shown = [plot_herd(self.results), describe_herd(self.results) + "\n"] if self.results else []
        replace_output(self.out, *notes, table, *shown)
        return self.results

    def __repr__(self) -> str:  # nbval compares this text: keep it stable
        return (f"HerdLab(scenario={self.scenario.value!r}, clients={self.clients.value}, "
                f"schedules={list(self.schedules.value)!r})")
