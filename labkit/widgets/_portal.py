"""Portal widgets: sign in through the form, and switch the gateway's mode.

They hold no logic: :func:`labkit.gateway.submit_login` signs in and
:func:`labkit.labs.survey` says what each client sees; these only display.
"""

from __future__ import annotations

import httpx
import ipywidgets as w

from ..gateway import MODES, submit_login, submit_logout
from ..labs import survey
from ._output import replace_output

__all__ = ["PortalModes", "SignInForm"]


class SignInForm(w.VBox):
    """The portal's login form as a widget, submitted over HTTP by ``client``.

    ``client`` is an httpx client that goes through the gateway, e.g.
    ``sim.client(device="127.0.0.2", gateway=True)``.
    """

    def __init__(self, client, *, user: str = "guest") -> None:
        self.client = client
        self.user = w.Text(value=user, description="user")
        self.password = w.Password(description="password")
        self.sign_in = w.Button(description="Sign in", button_style="primary")
        self.sign_out = w.Button(description="Sign out")
        self.out = w.Output(layout={"border": "1px solid #ccc", "min_height": "2em"})
        self.sign_in.on_click(lambda _: self.submit())
        self.sign_out.on_click(lambda _: self.leave())
        super().__init__([self.user, self.password, w.HBox([self.sign_in, self.sign_out]), self.out])

    def submit(self):
        """Post the form now; returns the :class:`~labkit.gateway.LoginResult` it shows."""
        return self._run(lambda: submit_login(self.client, self.user.value, self.password.value))

    def leave(self):
        return self._run(lambda: submit_logout(self.client))

    def _run(self, action):
        # A button callback's exception would vanish into the kernel log: show it.
        try:
            result = action()
        except (httpx.HTTPError, RuntimeError) as exc:
            self._show(f"no answer: {type(exc).__name__}: {exc}")
            return None
        self._show(f"{result.status}: {result.message}")
        return result

    def _show(self, text: str) -> None:
        replace_output(self.out, text + "\n")

    def __repr__(self) -> str:  # stable text/plain for nbval
        return "SignInForm()"


class PortalModes(w.VBox):
    """A mode dropdown; each choice shows what a browser, an API client, the
    connectivity probes (phones, browsers, NetworkManager) and a shared cache
    see through the gateway."""

    def __init__(self, gateway, *, url: str = "http://news.test/status/200") -> None:
        self.gateway = gateway
        self.url = url
        self.mode = w.Dropdown(options=list(MODES), value=gateway.mode, description="mode")
        self.out = w.Output(layout={"border": "1px solid #ccc"})
        self.mode.observe(lambda change: self._render(change["new"]), names="value")
        self.rows: list = []
        super().__init__([self.mode, self.out])
        self._render(gateway.mode)

    def show(self, mode: str):
        """Choose ``mode`` as if from the dropdown; returns the rows it displays."""
        if self.mode.value != mode:
            self.mode.value = mode  # the observer switches and renders
        else:
            self._render(mode)
        return self.rows

    def _render(self, mode: str) -> None:
        import pandas as pd

        self.gateway.mode = mode
        self.rows = survey(self.gateway, url=self.url)
        table = pd.DataFrame([{"client": r.client, "status": r.status, "sees": r.sees} for r in self.rows])
        replace_output(self.out, f"mode {mode}: {MODES[mode]}\n", table.style.hide(axis="index"))

    def __repr__(self) -> str:
        return f"PortalModes(mode={self.mode.value!r})"
