"""The gateway: the network's enforcement device in front of the origin.

One handler, two ways in. In-process it wraps the origin like a transparent
intercepting proxy (the way a café's access point sits in the path); on
loopback it is served as an explicit HTTP proxy (absolute-form targets and
CONNECT, RFC 9112 sections 3.2.2-3.2.3), because nothing on one machine can
intercept another program's traffic. Any host name is served by the
simulated origin: there is no internet behind the gateway.

Every response leaving it carries ``Via: 1.1 labkit-gateway`` (RFC 9110
section 7.6.3); the ones it writes itself also say ``Server: labkit-gateway``,
so a learner can tell the network's answer from the origin's.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, quote

from ..core import Clock, Disconnect, Handler, RealClock, Request, Response, http_date, problem
from . import _pages as pages
from ._captive_api import captive_document, captive_response
from ._portal import InvalidCredentials, Portal

__all__ = ["MODES", "PORTAL_HOST", "Gateway"]

PORTAL_HOST = "portal.labkit.test"
SERVER = "labkit-gateway"
VIA = "1.1 labkit-gateway"

MODES = {
    "rfc6585": "511 with a link to the login page, never stored (RFC 6585 section 6)",
    "redirect": "302/303 to the login page, as most deployed portals do",
    "spoof": "200 with the login page in place of the content asked for",
    "cacheable": "a 511 with Cache-Control: max-age (a bug: RFC 6585 forbids storing 511)",
    "proxy-auth": "an explicit proxy demanding credentials: 407 (RFC 9110 section 15.5.8)",
}

# Hop-by-hop fields are for this connection only and are not forwarded
# (RFC 9110 section 7.6.1); Proxy-Authorization is consumed by the proxy that
# asked for it (RFC 9110 section 11.7.2).
_HOP_BY_HOP = frozenset({
    "connection", "proxy-connection", "keep-alive", "te", "trailer",
    "transfer-encoding", "upgrade", "proxy-authorization", "proxy-authenticate",
})


class Gateway:
    """An intercepting proxy with a captive portal, as a ``(Request) -> Response`` handler.

    ``upstream`` answers every host but the portal's. Devices are told apart by
    ``request.client[0]`` (an IP address identifier, RFC 8952 section 3.4.2). ``mode`` may be switched at
    any time (see :data:`MODES`). Credentials of the simulated venue:
    user ``guest``, password ``letmein`` (:data:`labkit.gateway.DEFAULT_USERS`).
    """

    def __init__(
        self,
        upstream: Handler,
        *,
        clock: Clock | None = None,
        portal: Portal | None = None,
        mode: str = "rfc6585",
        portal_host: str = PORTAL_HOST,
        session_seconds: float = 3600.0,
        users: dict[str, str] | None = None,
        cacheable_max_age: int = 300,
        realm: str = "labkit-gateway",
    ) -> None:
        self.upstream = upstream
        self.clock: Clock = clock or RealClock()
        self.portal = portal or Portal(clock=self.clock, users=users, session_seconds=session_seconds)
        self.portal_host = portal_host.lower()
        self.cacheable_max_age = int(cacheable_max_age)
        self.realm = realm
        self.mode = mode

    # -- configuration ---------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(
                f"unknown gateway mode {value!r}; choose one of: {', '.join(MODES)}"
            )
        self._mode = value

    @property
    def login_url(self) -> str:
        return f"http://{self.portal_host}/login"

    @property
    def captive_api_url(self) -> str:
        """The URI a network would hand out by DHCP/RA (RFC 8910)."""
        return f"http://{self.portal_host}/api/captive"

    @property
    def venue_url(self) -> str:
        return f"http://{self.portal_host}/venue"

    # -- the handler -----------------------------------------------------
    def __call__(self, request: Request) -> Response:
        mode = self._mode
        if mode == "proxy-auth":
            return self._proxy_auth(request)
        online = self.portal.is_online(request.client_host)
        if request.method == "CONNECT":
            return self._connect(request, online, mode)
        if request.host.lower() == self.portal_host:
            return self._stamp(self._portal(request))  # the walled garden: always reachable
        if online:
            return self._forward(request)
        if request.scheme == "https":
            # In-process only: a transparent interceptor sees a TLS handshake for
            # a name it has no certificate for; the client gets no page at all.
            raise Disconnect
        return self._stamp(self._captive(request, mode))

    def _captive(self, request: Request, mode: str) -> Response:
        original = _original_url(request)
        if mode == "redirect":
            location = f"{self.login_url}?next={quote(original, safe='')}"
            # 302 keeps GET/HEAD; 303 turns a POST into a GET of the login page
            # (RFC 9110 sections 15.4.3, 15.4.4).
            status = 302 if request.method in ("GET", "HEAD", "CONNECT") else 303
            return Response(
                status,
                [("location", location), ("content-type", "text/html; charset=utf-8")],
                pages.redirect_page(location),
            )
        if mode == "spoof":
            # Answers as if it were the origin serving a static file: status 200,
            # no Cache-Control, but a Last-Modified a day old. That alone makes
            # the page heuristically fresh for about 2.4 h (10% of its age,
            # RFC 9111 section 4.2.2), so a cache keeps the login page as the site.
            return Response(
                200,
                [("content-type", "text/html; charset=utf-8"),
                 ("last-modified", http_date(self.clock.time() - 86400))],
                pages.spoof_page(self.login_url, original),
            )
        response = self._network_auth_required(request)
        if mode == "cacheable":
            response.set_header("cache-control", f"max-age={self.cacheable_max_age}")
        return response

    def _network_auth_required(self, request: Request) -> Response:
        """511 per RFC 6585 section 6: a link, no form, no challenge, never stored."""
        if _wants_json(request.header("accept")):
            return problem(
                511,
                "This network requires you to sign in before it forwards requests. "
                f"Open {self.login_url} in a browser, then repeat the request.",
                login_url=self.login_url,
                captive_api=self.captive_api_url,
                answered_by=SERVER,
            )
        return Response(
            511,
            [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store")],
            pages.network_auth_page(self.login_url),
        )

    def _connect(self, request: Request, online: bool, mode: str) -> Response:
        # A CONNECT asks for a TLS tunnel (RFC 9110 section 9.3.6). A captive
        # network cannot show a page inside it: the client gets only a status
        # for the tunnel, and browsers never render a proxy's CONNECT body.
        if not online:
            if mode == "spoof":
                # Spoofing portals hijack the tunnel; the TLS handshake then fails.
                raise Disconnect
            return self._stamp(self._captive(request, mode))
        return self._stamp(self._no_tunnel(request))

    def _no_tunnel(self, request: Request) -> Response:
        return problem(
            502,
            f"Signed in: a real gateway would now open a tunnel to {request.authority or request.host}, "
            "but this lab has no internet behind the gateway and its origin speaks plain HTTP. "
            "Use http:// URLs.",
        )

    def _proxy_auth(self, request: Request) -> Response:
        """An explicit proxy that wants credentials on every request (RFC 9110 section 11.7)."""
        credentials = request.header("proxy-authorization")
        detail = "This proxy requires credentials (Proxy-Authorization) on every request."
        if credentials is not None:
            user, password = _basic(credentials)
            if user is not None and self.portal.check(user, password):
                if request.method == "CONNECT":
                    return self._stamp(self._no_tunnel(request))
                if request.host.lower() == self.portal_host:
                    return self._stamp(self._portal(request))
                return self._forward(request)
            detail = "The Proxy-Authorization credentials were not accepted; send valid ones."
        # A 407 MUST carry Proxy-Authenticate (RFC 9110 section 11.7.1).
        challenge = f'Basic realm="{self.realm}", charset="UTF-8"'
        if _wants_json(request.header("accept")):
            response = problem(407, detail, headers=[("proxy-authenticate", challenge)])
        else:
            response = Response(
                407,
                [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store"),
                 ("proxy-authenticate", challenge)],
                pages.message_page("Proxy Authentication Required", detail),
            )
        return self._stamp(response)

    # -- forwarding ------------------------------------------------------
    def _forward(self, request: Request) -> Response:
        headers = request.headers
        nominated = request.header("connection")
        drop = _HOP_BY_HOP
        if nominated:
            drop = drop | {n.strip().lower() for n in nominated.split(",")}
        forwarded = [(k, v) for k, v in headers if k not in drop]
        forwarded.append(("via", VIA))  # a proxy MUST add Via (RFC 9110 section 7.6.3)
        upstream_request = Request(
            request.method, request.path, request.query, forwarded, request.body,
            request.client, request.scheme, request.authority, request.id,
        )
        response = self.upstream(upstream_request)
        via = response.header("via")
        if via:
            response.set_header("via", f"{via}, {VIA}")
        else:
            response.headers.append(("via", VIA))
        return response

    def _stamp(self, response: Response) -> Response:
        response.headers.append(("server", SERVER))
        response.headers.append(("via", VIA))
        response.headers.append(("date", http_date(self.clock.time())))
        return response

    # -- the user portal (RFC 8952 section 4.1, initial connection) ----------
    def _portal(self, request: Request) -> Response:
        path, method, device = request.path, request.method, request.client_host
        if path in ("/", "/login"):
            if method in ("GET", "HEAD"):
                return self._login_or_online(device, _safe_next(request.query_params.get("next", "")))
            if method == "POST":
                return self._sign_in(request)
            return _not_allowed("GET, HEAD, POST")
        if path == "/logout":
            if method != "POST":  # not a GET: a link prefetch must not sign anyone out
                return _not_allowed("POST")
            self.portal.sign_out(device)
            return _html(200, pages.message_page(
                "Signed out", f"{device} is captive again.", link=self.login_url, link_text="Sign in again"))
        if path == "/extend":
            if method != "POST":
                return _not_allowed("POST")
            try:
                self.portal.extend(device)
            except LookupError as exc:
                return _html(409, pages.message_page("No session to extend", str(exc),
                                                     link=self.login_url, link_text="Sign in"))
            except PermissionError as exc:
                return _html(403, pages.message_page("Cannot extend", str(exc)))
            return self._login_or_online(device, "")
        if path == "/api/captive":
            if method not in ("GET", "HEAD"):
                return _not_allowed("GET, HEAD")
            doc = captive_document(
                self.portal.state(device),
                user_portal_url=self.login_url,
                venue_info_url=self.venue_url,
                can_extend=self.portal.can_extend,
            )
            return captive_response(doc)
        if path == "/venue":
            return _html(200, pages.message_page(
                "labkit café", "Free Wi-Fi for customers. Ask at the counter for today's password."))
        return _html(404, pages.message_page(
            "Not found", f"The portal has no page {path!r}.", link=self.login_url, link_text="Sign in"))

    def _login_or_online(self, device: str, next_url: str, status: int = 200) -> Response:
        state = self.portal.state(device)
        if state.captive:
            return _html(status, pages.login_page(self.login_url, next_url=next_url))
        extend = f"http://{self.portal_host}/extend" if self.portal.can_extend else None
        return _html(status, pages.online_page(
            state.user or "", state.seconds_remaining or 0, next_url=next_url,
            logout=f"http://{self.portal_host}/logout", extend=extend))

    def _sign_in(self, request: Request) -> Response:
        ctype = (request.header("content-type") or "").split(";")[0].strip().lower()
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
            return _html(400, pages.login_page(
                self.login_url, next_url=next_url, user=user,
                error="Enter both a user name and a password."))
        try:
            self.portal.sign_in(request.client_host, user, password)
        except InvalidCredentials as exc:
            # 403: credentials were sent and are not good enough (RFC 9110
            # section 15.5.4). Not 401: there is no WWW-Authenticate challenge here.
            return _html(403, pages.login_page(
                self.login_url, next_url=next_url, user=user, error=str(exc)))
        return self._login_or_online(request.client_host, next_url)

    def __repr__(self) -> str:
        return f"<Gateway mode={self._mode!r} portal={self.portal_host}>"


def _html(status: int, body: bytes) -> Response:
    return Response(
        status, [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store")], body
    )


def _not_allowed(allow: str) -> Response:
    return problem(405, f"This portal page accepts {allow}.", headers=[("allow", allow)])


def _wants_json(accept: str | None) -> bool:
    """A client that asks for JSON (and not HTML) gets problem+json."""
    if not accept:
        return False
    accept = accept.lower()
    return "json" in accept and "text/html" not in accept


def _original_url(request: Request) -> str:
    if request.method == "CONNECT":
        return f"https://{request.authority or request.host}/"
    host = request.authority or request.header("host") or "origin.test"
    query = f"?{request.query}" if request.query else ""
    return f"{request.scheme}://{host}{request.path}{query}"


def _safe_next(url: str) -> str:
    # Only web URLs go back into a link: never javascript: or data: ones.
    return url if url.startswith(("http://", "https://")) and len(url) <= 2048 else ""


def _basic(credentials: str) -> tuple[str | None, str]:
    scheme, _, token = credentials.strip().partition(" ")
    if scheme.lower() != "basic":
        return None, ""
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, ""
    return (user, password) if sep else (None, "")
