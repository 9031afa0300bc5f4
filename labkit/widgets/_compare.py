"""Side by side: pick two scenarios (401, 407, 511, misconfigured servers), send, compare.

Holds no logic: the scenarios and the comparison table come from
``labkit.labs`` (``run_scenario``, ``compare``), each exchange's report from
``labkit.inspector.report``; this only lays them out.
"""

from __future__ import annotations

import ipywidgets as w

from ..inspector import report
from ..labs import SCENARIOS, compare, run_scenario
from ._output import replace_output

__all__ = ["CompareExchanges"]

_OPTIONS = [(s.title, key) for key, s in SCENARIOS.items()]


class CompareExchanges(w.VBox):
    """Two scenario pickers, *Send*, both exchanges with their findings, and a comparison table."""

    def __init__(self, sim, *, left: str = "401-basic", right: str = "511", body_limit: int = 400) -> None:
        self.sim = sim
        self.body_limit = body_limit
        layout = {"width": "48%"}
        self.left = w.Dropdown(options=_OPTIONS, value=left, layout=layout)
        self.right = w.Dropdown(options=_OPTIONS, value=right, layout=layout)
        self.send = w.Button(description="Send both", button_style="primary")
        pane = {"border": "1px solid #ccc", "width": "50%", "overflow": "auto"}
        self.left_out = w.Output(layout=pane)
        self.right_out = w.Output(layout=pane)
        self.table = w.Output()
        self.exchanges: tuple = ()
        self.send.on_click(lambda _: self.run())
        super().__init__([
            w.HBox([self.left, self.right]), self.send,
            w.HBox([self.left_out, self.right_out]), self.table,
        ])
        self.run()

    def _show(self, out: w.Output, title: str, ex) -> None:
        text = report(ex, body_limit=self.body_limit)
        replace_output(out, f"{title}\n{'=' * len(title)}\n{text}\n")

    def run(self) -> tuple:
        """Send both scenarios now; returns their two exchanges."""
        left = run_scenario(self.sim, self.left.value)
        right = run_scenario(self.sim, self.right.value)
        self._show(self.left_out, SCENARIOS[self.left.value].title, left)
        self._show(self.right_out, SCENARIOS[self.right.value].title, right)
        replace_output(self.table, compare({
            SCENARIOS[self.left.value].title: left, SCENARIOS[self.right.value].title: right}))
        self.exchanges = (left, right)
        return self.exchanges
