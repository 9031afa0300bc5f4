"""Side by side: pick two scenarios (401, 403, 407, 511, misconfigured servers), send, compare.

Holds no logic: the scenarios and the comparison table come from
``labkit.labs`` (``run_scenario``, ``compare``), each exchange's report from
``labkit.inspector.report``; this only lays them out. Bodies and table cells
are shown whole: the link in a 511's body and "what fixes it" are the lesson.
"""

from __future__ import annotations

import ipywidgets as w

from ..inspector import report
from ..labs import SCENARIOS, compare, run_scenario, whole
from ._output import replace_output

__all__ = ["CompareExchanges"]

_OPTIONS = [(s.title, key) for key, s in SCENARIOS.items()]
_HELP = ("Pick a scenario in each list, then press <b>Send both</b>: each pane shows the exchange, "
         "who answered it and the Inspector's findings; the table below answers the same questions "
         "for both.")


class CompareExchanges(w.VBox):
    """Two scenario pickers, *Send*, both exchanges with their findings, and a comparison table."""

    def __init__(self, sim, *, left: str = "401-basic", right: str = "511") -> None:
        self.sim = sim
        layout = {"width": "48%"}
        self.left = w.Dropdown(options=_OPTIONS, value=left, layout=layout,
                               tooltip="the exchange shown on the left")
        self.right = w.Dropdown(options=_OPTIONS, value=right, layout=layout,
                                tooltip="the exchange shown on the right")
        self.send = w.Button(description="Send both", button_style="primary",
                             tooltip="send both requests again and compare the answers")
        pane = {"border": "1px solid #ccc", "width": "50%", "overflow": "auto"}
        self.left_out = w.Output(layout=pane)
        self.right_out = w.Output(layout=pane)
        self.table = w.Output()
        self.exchanges: tuple = ()
        self.send.on_click(lambda _: self.run())
        super().__init__([
            w.HTML(_HELP), w.HBox([self.left, self.right]), self.send,
            w.HBox([self.left_out, self.right_out]), self.table,
        ])
        self.run()

    def _show(self, out: w.Output, title: str, ex) -> None:
        replace_output(out, f"{title}\n{'=' * len(title)}\n{report(ex)}\n")

    def run(self) -> tuple:
        """Send both scenarios now; returns their two exchanges."""
        left = run_scenario(self.sim, self.left.value)
        right = run_scenario(self.sim, self.right.value)
        self._show(self.left_out, SCENARIOS[self.left.value].title, left)
        self._show(self.right_out, SCENARIOS[self.right.value].title, right)
        replace_output(self.table, whole(compare({
            SCENARIOS[self.left.value].title: left, SCENARIOS[self.right.value].title: right})))
        self.exchanges = (left, right)
        return self.exchanges

    def __repr__(self) -> str:  # nbval compares this text: keep it stable
        return f"CompareExchanges(left={self.left.value!r}, right={self.right.value!r})"
