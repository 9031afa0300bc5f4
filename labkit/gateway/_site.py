"""The portal's own web site, served by the gateway at its portal host.

It is the user portal of RFC 8952 section 4.1 (sign in, sign out, extend a
session), the captive portal API of RFC 8908, and a venue page. The gateway
lets every device reach it, signed in or not (the "walled garden").

Hardened as a real portal's site would be:

* **Wrong passwords are throttled.** After ``Portal.max_failures`` in a row a
  device gets ``429 Too Many Requests`` with ``Retry-After`` (RFC 6585
  section 4) until its lockout ends (see :mod:`._portal`).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from ..core import Request, Response, media_type, problem
from . import _pages as pages
from ._captive_api import captive_document, captive_response
from ._portal import InvalidCredentials, Portal, TooManyAttempts
from ._replies import html, not_allowed, wants_json

__all__ = ["PortalSite"]


class PortalSite:
    """A ``(Request) -> Response`` handler for the portal host: pages act on ``portal``.

    The device is ``request.client_host``, the same address the gateway
    enforces on.
    """

    def __init__(self, portal: Portal, host: str) -> None:
        self.portal = portal
        self.host = host.lower()

    @property
    def login_url(self) -> str:
        return f"http://{self.host}/login"

    @property
    def captive_api_url(self) -> str:
        """The URI a network would hand out by DHCP/RA (RFC 8910)."""
        return f"http://{self.host}/api/captive"

    @property
    def venue_url(self) -> str:
        return f"http://{self.host}/venue"

    def __call__(self, request: Request) -> Response:
        path, method, device = request.path, request.method, request.client_host
        if path in ("/", "/login"):
            if method in ("GET", "HEAD"):
                return self._login_or_online(device, _safe_next(request.query_params.get("next", "")))
            if method == "POST":
                return self._sign_in(request)
            return not_allowed("GET, HEAD, POST")
        if path == "/logout":
            if method != "POST":  # not a GET: a link prefetch must not sign anyone out
                return not_allowed("POST")
            self.portal.sign_out(device)
            return html(200, pages.message_page(
                "Signed out", f"{device} is captive again.", link=self.login_url, link_text="Sign in again"))
        if path == "/extend":
            if method != "POST":
                return not_allowed("POST")
            try:
                self.portal.extend(device)
            except LookupError as exc:
                return html(409, pages.message_page("No session to extend", str(exc),
                                                    link=self.login_url, link_text="Sign in"))
            except PermissionError as exc:
                return html(403, pages.message_page("Cannot extend", str(exc)))
            return self._login_or_online(device, "")
        if path == "/api/captive":
            if method not in ("GET", "HEAD"):
                return not_allowed("GET, HEAD")
            doc = captive_document(
                self.portal.state(device),
                user_portal_url=self.login_url,
                venue_info_url=self.venue_url,
                can_extend=self.portal.can_extend,
            )
            return captive_response(doc)
        if path == "/venue":
            return html(200, pages.message_page(
                "labkit café", "Free Wi-Fi for customers. Ask at the counter for today's password."))
        return html(404, pages.message_page(
            "Not found", f"The portal has no page {path!r}.", link=self.login_url, link_text="Sign in"))

    def _login_or_online(self, device: str, next_url: str, status: int = 200) -> Response:
        state = self.portal.state(device)
        if state.captive:
            return html(status, pages.login_page(self.login_url, next_url=next_url))
        extend = f"http://{self.host}/extend" if self.portal.can_extend else None
        return html(status, pages.online_page(
            state.user or "", state.seconds_remaining or 0, next_url=next_url,
            logout=f"http://{self.host}/logout", extend=extend))

    def _sign_in(self, request: Request) -> Response:
        ctype = media_type(request.header("content-type"))
        if ctype != "application/x-www-form-urlencoded":
            return problem(
                415,
                "Send the sign-in form as application/x-www-form-urlencoded "
                "(fields: user, password, next).",
                headers=[("accept-post", "application/x-www-form-urlencoded")],
            )
        try:
            form = dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            form = {}
        user, password = form.get("user", ""), form.get("password", "")
        next_url = _safe_next(form.get("next", ""))
        if not user or not password:
            return html(400, pages.login_page(
                self.login_url, next_url=next_url, user=user,
                error="Enter both a user name and a password."))
        try:
            self.portal.sign_in(request.client_host, user, password)
        except InvalidCredentials as exc:
            # 403: credentials were sent and are not good enough (RFC 9110
            # section 15.5.4). Not 401: there is no WWW-Authenticate challenge here.
            return html(403, pages.login_page(
                self.login_url, next_url=next_url, user=user, error=str(exc)))
        except TooManyAttempts as exc:
            # 429 with how long to wait (RFC 6585 section 4). The wait is for a
            # person: repeating the same form sooner gets the same answer.
            wait = [("retry-after", str(exc.retry_after))]
            if wants_json(request.header("accept")):
                return problem(429, str(exc), headers=wait, retry_after=exc.retry_after)
            response = html(429, pages.login_page(
                self.login_url, next_url=next_url, user=user, error=str(exc)))
            response.headers.extend(wait)
            return response
        return self._login_or_online(request.client_host, next_url)

    def __repr__(self) -> str:
        return f"<PortalSite http://{self.host}/>"


def _safe_next(url: str) -> str:
    # Only web URLs go back into a link: never javascript: or data: ones.
    return url if url.startswith(("http://", "https://")) and len(url) <= 2048 else ""
