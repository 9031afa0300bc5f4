"""The retry lab widget and the timeline plot. Display only: the experiments are
:mod:`labkit.labs`'s, the policy and the runner :mod:`labkit.retry`'s."""

from __future__ import annotations

from html import escape

import ipywidgets as w

from ..labs import EXPERIMENTS, run_experiment
from ..retry import SCHEDULES, Backoff, RetryPolicy
from ._output import replace_output

__all__ = ["RetryLab", "plot_timeline"]

_COLOURS = {"done": "tab:green", "retry": "tab:orange", "refresh": "tab:blue",
            "sign-in": "tab:purple", "stop": "tab:red"}


def plot_timeline(result, *, ax=None, title: str | None = None):
    """One marker per attempt at its clock time, one bar per wait; returns the figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 2.6))
    else:
        fig = ax.figure
    for a in result.attempts:
        colour = _COLOURS.get(a.decision, "grey")
        if a.delay > 0:
            ax.barh(a.attempt, a.delay, left=a.time, height=0.35, color=colour, alpha=0.25)
        ax.plot([a.time], [a.attempt], "o", color=colour)
        ax.annotate(f"{a.status} → {a.decision}", (a.time, a.attempt), xytext=(6, 6),
                    textcoords="offset points", fontsize=8)
    ax.set_xlabel("time on the virtual clock (s)")
    ax.set_ylabel("attempt")
    ax.set_yticks([a.attempt for a in result.attempts])
    ax.set_ylim(0.5, len(result.attempts) + 0.9)
    ax.margins(x=0.15)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


class RetryLab(w.VBox):
    """Sliders for base, cap and attempts; schedule, method and endpoint pickers.

    Every change reruns the experiment on a fresh simulator (virtual clock,
    nothing waits) and shows the timeline table and plot.
    """

    def __init__(self, *, experiment: str = "flaky 503", schedule: str = "full", base: float = 1.0,
                 cap: float = 30.0, attempts: int = 5, method: str = "GET", seed: int = 0) -> None:
        style = {"description_width": "initial"}
        self.experiment = w.Dropdown(options=list(EXPERIMENTS), value=experiment, description="endpoint")
        self.schedule = w.Dropdown(options=list(SCHEDULES), value=schedule, description="schedule")
        self.method = w.Dropdown(options=["GET", "HEAD", "PUT", "DELETE", "POST", "PATCH"],
                                 value=method, description="method")
        self.key = w.Checkbox(value=False, description="Idempotency-Key", style=style)
        self.base = w.FloatLogSlider(value=base, base=10, min=-2, max=1, step=0.1, description="base s")
        self.cap = w.FloatSlider(value=cap, min=1, max=120, step=1, description="cap s")
        self.attempts = w.IntSlider(value=attempts, min=1, max=12, description="attempts")
        self.seed = w.IntText(value=seed, description="seed", layout={"width": "10em"})
        self.about = w.HTML()
        self.out = w.Output(layout={"border": "1px solid #ccc", "min_height": "6em"})
        self.result = None
        controls = [self.experiment, self.schedule, self.method, self.key, self.base, self.cap,
                    self.attempts, self.seed]
        for c in controls:
            c.observe(lambda _: self.update(), names="value")
        super().__init__([w.HBox([self.experiment, self.method, self.key]),
                          w.HBox([self.schedule, self.seed]),
                          w.HBox([self.base, self.cap, self.attempts]), self.about, self.out])
        self.update()

    def policy(self) -> RetryPolicy:
        cap = max(self.cap.value, self.base.value)
        return RetryPolicy(backoff=Backoff(kind=self.schedule.value, base=self.base.value, cap=cap,
                                           attempts=self.attempts.value))

    def update(self):
        """Rerun the experiment with the current settings; returns the RetryResult."""
        name = self.experiment.value
        self.result, _ = run_experiment(name, policy=self.policy(), method=self.method.value,
                                        seed=self.seed.value, idempotency_key=self.key.value)
        exp = EXPERIMENTS[name]
        self.about.value = (f"<code>{exp.method or self.method.value} {exp.url}</code>: {exp.about}. "
                            f"Outcome: <b>{self.result.decision}</b> after "
                            f"{len(self.result.attempts)} attempt(s), {self.result.elapsed:g} s."
                            f"{_waits_for(self.result.response)}")
        replace_output(self.out, self.result.timeline, plot_timeline(self.result, title=name))
        return self.result

    def __repr__(self) -> str:  # nbval compares this text: keep it stable
        return f"RetryLab(experiment={self.experiment.value!r}, schedule={self.schedule.value!r})"


def _waits_for(response) -> str:
    """What the last answer asked the client to wait, if anything (a 429's or 503's Retry-After)."""
    if response is None or "retry-after" not in response.headers:
        return ""
    return (f" The last answer, {response.status_code}, said "
            f"<code>Retry-After: {escape(response.headers['retry-after'])}</code>.")
