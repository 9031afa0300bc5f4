"""One measured client row at a time: pick a mode, a client and a scheme.

Display only: the rows come from :func:`labkit.labs.client_matrix` (or any
runner with rows of the same shape), and :func:`labkit.labs.client_detail`
words them.
"""

from __future__ import annotations

import ipywidgets as w

from ..labs import client_detail
from ._output import replace_output

__all__ = ["ClientExplorer"]


class ClientExplorer(w.VBox):
    """Dropdowns for mode, client and scheme over ``rows``; shows the chosen row's details."""

    def __init__(self, rows, *, mode: str | None = None, client: str | None = None, https: bool = False) -> None:
        self.rows = [r if isinstance(r, dict) else r.to_dict() for r in rows]
        if not self.rows:
            raise ValueError("no rows to explore: run labkit.labs.client_matrix() first")
        modes = list(dict.fromkeys(r["mode"] for r in self.rows))
        clients = list(dict.fromkeys(r["client"] for r in self.rows))
        self.mode = w.Dropdown(options=modes, value=mode or modes[0], description="mode")
        self.client = w.Dropdown(options=clients, value=client or clients[0], description="client")
        self.scheme = w.Dropdown(options=["http", "https"], value="https" if https else "http",
                                 description="scheme")
        self.out = w.Output(layout={"border": "1px solid #ccc"})
        for control in (self.mode, self.client, self.scheme):
            control.observe(lambda _change: self._render(), names="value")
        super().__init__([w.HBox([self.mode, self.client, self.scheme]), self.out])
        self._render()

    def row(self) -> dict | None:
        """The row the dropdowns select, or None if the matrix has none for them."""
        https = self.scheme.value == "https"
        for r in self.rows:
            if r["mode"] == self.mode.value and r["client"] == self.client.value and bool(r["https"]) == https:
                return r
        return None

    def show(self, *, mode: str | None = None, client: str | None = None, https: bool | None = None) -> str:
        """Choose as if from the dropdowns; returns the text it displays."""
        if mode is not None:
            self.mode.value = mode
        if client is not None:
            self.client.value = client
        if https is not None:
            self.scheme.value = "https" if https else "http"
        return self._render()

    def _render(self) -> str:
        row = self.row()
        text = client_detail(row) if row is not None else "no row for this choice"
        replace_output(self.out, text + "\n")
        return text

    def __repr__(self) -> str:  # stable text/plain for nbval
        return f"ClientExplorer({len(self.rows)} rows)"
