"""Signing in the way a person does: through the portal's HTML form, over HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from ._gateway import PORTAL_HOST

__all__ = ["LoginResult", "submit_login", "submit_logout"]

_ERROR = re.compile(r'<p class="error" id="error">(.*?)</p>', re.S)
_REMAINING = re.compile(r'<span id="remaining">(\d+)</span>')


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What the portal answered to one form submission (plain data)."""

    status: int
    online: bool
    message: str
    seconds_remaining: int | None = None


def submit_login(client, user: str, password: str, *, next_url: str = "", portal_host: str = PORTAL_HOST) -> LoginResult:
    """POST the login form with an httpx ``client`` that goes through the gateway."""
    r = client.post(
        f"http://{portal_host}/login",
        data={"user": user, "password": password, "next": next_url},
    )
    return _read(r)


def submit_logout(client, *, portal_host: str = PORTAL_HOST) -> LoginResult:
    r = client.post(f"http://{portal_host}/logout")
    return LoginResult(r.status_code, False, "signed out" if r.status_code == 200 else r.text[:200])


def _read(r) -> LoginResult:
    text = r.text
    remaining = _REMAINING.search(text)
    if r.status_code == 200 and remaining:
        secs = int(remaining.group(1))
        return LoginResult(200, True, f"online for {secs} s", secs)
    error = _ERROR.search(text)
    message = unescape(error.group(1)) if error else f"{r.status_code} {r.reason_phrase}"
    return LoginResult(r.status_code, False, message)
