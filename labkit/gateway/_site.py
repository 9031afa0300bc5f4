"""The portal's own web site, served by the gateway at its portal host.

It is the user portal of RFC 8952 section 4.1 (sign in, sign out, extend a
session), the captive portal API of RFC 8908, and a venue page. The gateway
lets every device reach it, signed in or not (the "walled garden").

Hardened as a real portal's site would be:

* **Cross-site requests are refused.** The portal knows a device by its
  address, and a browser sends that with every request whichever page made
  it: as ambient as a cookie. So without a check, a page on any site could
  POST to ``/logout`` and sign the device out (or fill in ``/login``): a
  cross-site request forgery. Every request with an unsafe method (RFC 9110
  section 9.2.1) must come from the portal's own origin. Browsers say where a
  request came from in ``Origin``, sent with every POST (the Fetch standard,
  "Origin header" and "append a request `Origin` header"; RFC 6454 section 7);
  when it is absent, the origin of ``Referer`` is checked instead. That is the
  OWASP CSRF Prevention Cheat Sheet's "Verifying Origin With Standard
  Headers". ``Origin: null`` (a sandboxed frame, a ``data:`` page) is refused.
  The portal's own origin is ``http://portal.labkit.test``, or whatever
  ``scheme://host:port`` the request itself was sent to (its target origin,
  from the request-target or ``Host``): the same site may be reached through
  the proxy, at the gateway's own loopback address, or under a reverse
  proxy's path prefix. An attacker's page cannot choose the Host its victim's
  browser sends, and the gateway serves this site only for the portal's host,
  its own address, and requests a reverse proxy on another port forwarded
  (see :class:`~labkit.gateway.Gateway`).
  A request with neither header is let through: curl, httpx, the notebooks'
  forms and the widgets send none, while a browser that follows the Fetch
  standard sends ``Origin`` with every POST (``null`` when the page's
  referrer policy hides where it came from). A token (the cheat sheet's "synchronizer token") would
  need a per-device secret in every form, so a client could no longer sign in
  with one POST, as the lab's curl and httpx examples do; the check of
  standard headers needs no state and no change to any client.
* **Wrong passwords are throttled.** After ``Portal.max_failures`` in a row a
  device gets ``429 Too Many Requests`` with ``Retry-After`` (RFC 6585
  section 4) until its lockout ends (see :mod:`._portal`).
* **The pages cannot be framed** by another site (clickjacking: a hidden
  portal page under a decoy button): ``Content-Security-Policy:
  frame-ancestors 'none'`` (CSP Level 3, "frame-ancestors"), and the older
  ``X-Frame-Options: DENY`` (RFC 7034) for browsers without CSP. No page of
  the course frames the portal, so ``'self'`` is not needed.

The same pages are served wherever a browser reached them (``base``): at
``http://portal.labkit.test`` through the proxy, at the gateway's own address
(``http://127.0.0.1:PORT``), or under a reverse proxy's path prefix
(``/user/NAME/proxy/PORT`` under JupyterHub). Every link and form points back
to that same place, so a browser never leaves the address it could reach.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from ..core import Request, Response, media_type, problem
from . import _pages as pages
from ._captive_api import captive_document, captive_response
from ._portal import InvalidCredentials, Portal, TooManyAttempts
from ._replies import html, not_allowed, wants_json

__all__ = ["FRAMING_HEADERS", "PAGES", "PortalSite", "origin_of"]

#: Methods that change nothing on the server (RFC 9110 section 9.2.1): not checked.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

#: On every response of the portal's site: no other site may frame it.
FRAMING_HEADERS = (
    ("content-security-policy", "frame-ancestors 'none'"),  # CSP Level 3
    ("x-frame-options", "DENY"),  # RFC 7034, for browsers older than CSP Level 2
)

_DEFAULT_PORTS = {"http": "80", "https": "443"}

#: The portal's own paths. ``/`` is one too at the portal's host, but not at the
#: gateway's own address, where it is the 511 for a captive device (openNDS).
PAGES = frozenset({"/login", "/logout", "/extend", "/api/captive", "/venue"})


class PortalSite:
    """A ``(Request) -> Response`` handler for the portal host: pages act on ``portal``.

    The device is ``request.client_host``, the same address the gateway
    enforces on. Unsafe requests from another site's pages are refused,
    repeated wrong passwords are answered 429, and no page may be framed by
    another site: this module's docstring says why, with its sources.
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

    @property
    def origin(self) -> str:
        """The portal's own origin (RFC 6454), as a browser sends it in ``Origin``."""
        return f"http://{self.host}"

    def __call__(self, request: Request, base: str | None = None) -> Response:
        """Answer ``request``; ``base`` is where the browser reached the site.

        By default the portal's own origin, ``http://portal.labkit.test``. On
        a direct visit to the gateway (see :class:`~labkit.gateway.Gateway`)
        it is the gateway's address as the request named it
        (``http://127.0.0.1:PORT``) or a reverse proxy's path prefix
        (``/user/NAME/proxy/PORT``); links and forms then point there, and the
        online page names the device the browser is.
        """
        direct = base is not None
        base = base if direct else self.origin
        response = self._cross_site(request, base) if request.method not in SAFE_METHODS else None
        if response is None:
            response = self._route(request, base, direct)
        response.headers.extend(FRAMING_HEADERS)
        return response

    def _cross_site(self, request: Request, base: str) -> Response | None:
        """A refusal if an unsafe request came from another site's page, else None."""
        sent = request.header("origin")
        field = "Origin"
        if sent is None:
            referer = request.header("referer")
            if referer is None:
                return None  # not sent by a browser's page: curl, httpx, a script
            sent, field = origin_of(referer), "Referer"
        sent = sent.strip()
        got = origin_of(sent)
        if got != "null" and got in (self.origin, origin_of(_target_url(request))):
            return None
        login = f"{base}/login"
        own = origin_of(base) if base.startswith("http") else origin_of(_target_url(request))
        detail = (
            f"Refused: this {request.method} to the portal came from a page at {sent} "
            f"(its {field} header), not from the portal's own pages at {own}. "
            "A page on another site may not sign this device in or out. "
            f"Open {login} and use its form."
        )
        if wants_json(request.header("accept")):
            return problem(403, detail, sent_origin=sent, portal_origin=own)
        return html(403, pages.message_page(
            "Cross-site request refused", detail, link=login, link_text="Open the portal"))

    def _route(self, request: Request, base: str, direct: bool) -> Response:
        path, method, device = request.path, request.method, request.client_host
        login = f"{base}/login"
        if path in ("/", "/login"):
            if method in ("GET", "HEAD"):
                return self._login_or_online(
                    device, _safe_next(request.query_params.get("next", "")), base, direct)
            if method == "POST":
                return self._sign_in(request, base, direct)
            return not_allowed("GET, HEAD, POST")
        if path == "/logout":
            if method != "POST":  # not a GET: a link prefetch must not sign anyone out
                return not_allowed("POST")
            self.portal.sign_out(device)
            return html(200, pages.message_page(
                "Signed out", f"{device} is captive again.", link=login, link_text="Sign in again"))
        if path == "/extend":
            if method != "POST":
                return not_allowed("POST")
            try:
                self.portal.extend(device)
            except LookupError as exc:
                return html(409, pages.message_page("No session to extend", str(exc),
                                                    link=login, link_text="Sign in"))
            except PermissionError as exc:
                return html(403, pages.message_page("Cannot extend", str(exc)))
            return self._login_or_online(device, "", base, direct)
        if path == "/api/captive":
            if method not in ("GET", "HEAD"):
                return not_allowed("GET, HEAD")
            doc = captive_document(
                self.portal.state(device),
                user_portal_url=login,
                venue_info_url=f"{base}/venue",
                can_extend=self.portal.can_extend,
            )
            return captive_response(doc)
        if path == "/venue":
            return html(200, pages.message_page(
                "labkit café", "Free Wi-Fi for customers. Ask at the counter for today's password."))
        return html(404, pages.message_page(
            "Not found", f"The portal has no page {path!r}.", link=login, link_text="Sign in"))

    def _login_or_online(
        self, device: str, next_url: str, base: str, direct: bool, status: int = 200,
    ) -> Response:
        state = self.portal.state(device)
        if state.captive:
            return html(status, pages.login_page(f"{base}/login", next_url=next_url))
        extend = f"{base}/extend" if self.portal.can_extend else None
        return html(status, pages.online_page(
            state.user or "", state.seconds_remaining or 0, next_url=next_url,
            logout=f"{base}/logout", extend=extend, device=device if direct else None))

    def _sign_in(self, request: Request, base: str, direct: bool) -> Response:
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
        action = f"{base}/login"
        if not user or not password:
            return html(400, pages.login_page(
                action, next_url=next_url, user=user,
                error="Enter both a user name and a password."))
        try:
            self.portal.sign_in(request.client_host, user, password)
        except InvalidCredentials as exc:
            # 403: credentials were sent and are not good enough (RFC 9110
            # section 15.5.4). Not 401: there is no WWW-Authenticate challenge here.
            return html(403, pages.login_page(
                action, next_url=next_url, user=user, error=str(exc)))
        except TooManyAttempts as exc:
            # 429 with how long to wait (RFC 6585 section 4). The wait is for a
            # person: repeating the same form sooner gets the same answer.
            wait = [("retry-after", str(exc.retry_after))]
            if wants_json(request.header("accept")):
                return problem(429, str(exc), headers=wait, retry_after=exc.retry_after)
            response = html(429, pages.login_page(
                action, next_url=next_url, user=user, error=str(exc)))
            response.headers.extend(wait)
            return response
        return self._login_or_online(request.client_host, next_url, base, direct)

    def __repr__(self) -> str:
        return f"<PortalSite http://{self.host}/>"


def _safe_next(url: str) -> str:
    # Only web URLs go back into a link: never javascript: or data: ones. A
    # path on this host (where a reverse proxy's prefix sent the browser) is
    # one too, but not one that starts "//", which names another host; nor
    # one with a backslash, a space or a control character, since the URL
    # standard reads a backslash as "/" in http URLs and drops tabs and newlines.
    if len(url) > 2048:
        return ""
    if url.startswith(("http://", "https://")):
        return url
    if url.startswith("/") and not url.startswith("//") and "\\" not in url \
            and all(" " < ch != "\x7f" for ch in url):
        return url
    return ""


def origin_of(url: str) -> str:
    """The origin of an absolute URL, serialized as in ``Origin`` (RFC 6454 section 6.2).

    Lower-case scheme and host, the port only if it is not the scheme's
    default; ``"null"`` for anything that is not an http(s) URL with a host.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return "null"
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in _DEFAULT_PORTS or not host:
        return "null"
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port is None or str(port) == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _target_url(request: Request) -> str:
    # Where the client sent this request: absolute-form authority, else Host.
    # Behind a reverse proxy that ends TLS (JupyterHub's proxy, then
    # jupyter-server-proxy), the browser's scheme is the first
    # X-Forwarded-Proto. A cross-site page cannot add that header to a form
    # POST, and a fetch() that sets it needs a CORS preflight the portal
    # never grants (the Fetch standard, "CORS-safelisted request-header").
    scheme = request.scheme
    forwarded = (request.header("x-forwarded-proto") or "").split(",")[0].strip().lower()
    if forwarded in _DEFAULT_PORTS:
        scheme = forwarded
    return f"{scheme}://{request.authority or request.header('host') or ''}/"
