"""The retry lab widget and the timeline plot. Display only: the experiments are
:mod:`labkit.labs`'s, the policy and the runner :mod:`labkit.retry`'s."""

from __future__ import annotations

from html import escape

import ipywidgets as w

from ..labs import EXPERIMENTS, run_experiment
from ..retry import SCHEDULES, Backoff, RetryPolicy
from ._output import replace_output

__all__ = ["RetryLab", "describe_timeline", "plot_timeline"]

# One look per decision: a marker shape as well as a colour (Okabe-Ito, safe for
# colour-blind readers), so no two decisions differ by colour alone.
_LOOKS = {"done": ("#0072B2", "o"), "retry": ("#E69F00", "s"), "refresh": ("#56B4E9", "^"),
          "sign-in": ("#CC79A7", "D"), "stop": ("#D55E00", "X")}


def plot_timeline(result, *, ax=None, title: str | None = None):
    """One marker per attempt at its clock time, one bar per wait; returns the figure.

    The time axis starts at 0 and ends after the last wait (at least 1 s), so a
    single attempt at 0 s does not get a negative axis.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 2.6))
    else:
        fig = ax.figure
    for a in result.attempts:
        colour, marker = _LOOKS.get(a.decision, ("grey", "o"))
        if a.delay > 0:
            ax.barh(a.attempt, a.delay, left=a.time, height=0.35, color=colour, alpha=0.25)
        ax.plot([a.time], [a.attempt], marker, color=colour, clip_on=False)  # whole at 0 s
        ax.annotate(f"{a.status} → {a.decision}", (a.time, a.attempt), xytext=(6, 6),
                    textcoords="offset points", fontsize=8)
    end = max([a.time + a.delay for a in result.attempts], default=0.0)
    # Room on the right for the last label; never left of 0 s.
    ax.set_xlim(0, max(end, 1.0) * 1.25)
    ax.set_xlabel("time on the virtual clock (s)")
    ax.set_ylabel("attempt")
    ax.set_yticks([a.attempt for a in result.attempts])
    ax.set_ylim(0.5, len(result.attempts) + 0.9)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def describe_timeline(result) -> str:
    """The timeline plot in one sentence, for readers who cannot see it."""
    steps = "; ".join(
        f"{a.status} at {a.time:g} s, {a.decision}" + (f" after {a.delay:g} s" if a.delay > 0 else "")
        for a in result.attempts)
    return (f"The plot shows {len(result.attempts)} attempt(s) on the virtual clock, one marker each "
            f"(a bar for each wait): {steps}.")


_HELP = ("<b>endpoint</b>: what the server does; <b>method</b> and <b>Idempotency-Key</b>: the "
         "request; <b>schedule</b>: how to wait between attempts (<b>seed</b> changes the jitter); "
         "drag <b>base</b> (first wait), <b>cap</b> (longest wait) and <b>attempts</b> (the budget). "
         "Every change reruns the experiment.")


class RetryLab(w.VBox):
    """Sliders for base, cap and attempts; schedule, method and endpoint pickers.

    Every change reruns the experiment on a fresh simulator (virtual clock,
    nothing waits) and shows the timeline table and plot.
    """

    def __init__(self, *, experiment: str = "flaky 503", schedule: str = "full", base: float = 1.0,
                 cap: float = 30.0, attempts: int = 5, method: str = "GET", seed: int = 0) -> None:
        style = {"description_width": "initial"}
        self.experiment = w.Dropdown(options=list(EXPERIMENTS), value=experiment, description="endpoint",
                                     tooltip="the lab endpoint and what it does wrong")
        self.schedule = w.Dropdown(options=list(SCHEDULES), value=schedule, description="schedule",
                                   tooltip="how long to wait before each retry")
        self.method = w.Dropdown(options=["GET", "HEAD", "PUT", "DELETE", "POST", "PATCH"],
                                 value=method, description="method",
                                 tooltip="POST and PATCH are retried only with an Idempotency-Key")
        self.key = w.Checkbox(value=False, description="Idempotency-Key", style=style,
                              tooltip="send the same key on every attempt")
        self.base = w.FloatLogSlider(value=base, base=10, min=-2, max=1, step=0.1, description="base s",
                                      tooltip="the first wait, in seconds (log scale)")
        self.cap = w.FloatSlider(value=cap, min=1, max=120, step=1, description="cap s",
                                  tooltip="no wait is longer than this")
        self.attempts = w.IntSlider(value=attempts, min=1, max=12, description="attempts",
                                    tooltip="requests in all, the first included")
        self.seed = w.IntText(value=seed, description="seed", layout={"width": "10em"},
                            tooltip="another seed draws other jitter")
        self.about = w.HTML()
        self.out = w.Output(layout={"border": "1px solid #ccc", "min_height": "6em"})
        self.result = None
        controls = [self.experiment, self.schedule, self.method, self.key, self.base, self.cap,
                    self.attempts, self.seed]
        for c in controls:
            c.observe(lambda _: self.update(), names="value")
        super().__init__([w.HTML(_HELP), w.HBox([self.experiment, self.method, self.key]),
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
        replace_output(self.out, self.result.timeline, plot_timeline(self.result, title=name),
                       describe_timeline(self.result) + "\n")
        return self.result

    def __repr__(self) -> str:  # nbval compares this text: keep it stable
        return f"RetryLab(experiment={self.experiment.value!r}, schedule={self.schedule.value!r})"


def _waits_for(response) -> str:
    """What the last answer asked the client to wait, if anything (a 429's or 503's Retry-After)."""
    if response is None or "retry-after" not in response.headers:
        return ""
    return (f" The last answer, {response.status_code}, said "
            f"<code>Retry-After: {escape(response.headers['retry-after'])}</code>.")
