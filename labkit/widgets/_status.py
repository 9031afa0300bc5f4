"""A first widget: ask the simulator for any status code and read the exchange."""

from __future__ import annotations

import ipywidgets as w

from .._show import format_exchange
from ._output import replace_output

__all__ = ["StatusExplorer"]


class StatusExplorer(w.VBox):
    """Pick a code, a method and a transport; *Send* shows the whole exchange.

    Holds no logic: it calls the simulator and prints :func:`labkit.format_exchange`.
    """

    def __init__(self, sim, *, code: int = 511) -> None:
        self.sim = sim
        self.code = w.BoundedIntText(value=code, min=0, max=999, description="status")
        self.method = w.Dropdown(options=["GET", "HEAD", "POST", "DELETE"], value="GET", description="method")
        self.transport = w.ToggleButtons(options=["in-process", "loopback"], value="in-process")
        self.send = w.Button(description="Send", button_style="primary")
        self.out = w.Output(layout={"border": "1px solid #ccc", "min_height": "4em"})
        self.send.on_click(lambda _: self.run())
        super().__init__([w.HBox([self.code, self.method]), self.transport, self.send, self.out])

    def run(self) -> str:
        """Send the request now; returns the transcript it shows."""
        path = f"/status/{self.code.value}"
        if self.transport.value == "loopback":
            import httpx

            response = httpx.request(self.method.value, self.sim.serve().origin_url + path)
        else:
            with self.sim.client() as client:
                response = client.request(self.method.value, path)
        text = format_exchange(response)
        replace_output(self.out, text + "\n")
        return text
