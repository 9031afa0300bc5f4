"""Portal modes: how the gateway answers a request it will not forward yet.

Each mode is one row of :data:`MODES`: a name, a one-line description, and
the behaviour the gateway dispatches to. A mode decides two things:

* :meth:`PortalMode.admits`: has this request earned forwarding? Most modes
  ask the portal whether the device has signed in; an explicit proxy asks for
  credentials on every request instead.
* :meth:`PortalMode.refuse`: what a request that has not earned it gets: a
  511 page, a redirect, a spoofed 200, a cacheable 511 or a 407.

Each description says which real portal the mode stands for, read from the
portals' source code:

* openNDS (``src/http_microhttpd.c``) and nodogsplash (same file) redirect a
  captive GET with 307 (``send_redirect_temp``: ``MHD_HTTP_TEMPORARY_REDIRECT``)
  to the gateway's own address, port 2050 by default (``DEFAULT_GATEWAYPORT``
  in ``src/conf.h``). Neither accepts another method: openNDS answers it 511,
  nodogsplash 503 (``libmicrohttpd_cb``: "only allow get").
* coova-chilli (``src/redir.c``, ``redir_reply`` and ``redir_http``), pfSense
  (``src/usr/local/captiveportal/index.php``: PHP's ``header("Location")``,
  which is a 302) and OPNsense (``lighttpd-zone.conf`` template:
  ``url.redirect-code = 302``) redirect with 302 and no-cache headers,
  whatever the method. None of the five answers a POST with 303.
* The only 511 in these portals is openNDS's (``send_error(connection, 511)``):
  for a method other than GET, a direct visit to the gateway's address, and
  a "late request" from a device whose firewall rule is not in place yet.
  No portal among them answers every captive request with 511, spoofs
  content with a 200, or makes a 511 cacheable: ``spoof`` and ``cacheable``
  are teaching cases.

Adding a mode is adding a row (and a class, if no existing one behaves as
wanted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol
from urllib.parse import quote

from ..core import Clock, Disconnect, Request, Response, Stall, basic_credentials, http_date, problem
from . import _pages as pages
from ._portal import Portal
from ._replies import SERVER, wants_json



class Venue(Protocol):
    """What a mode reads of the gateway it serves (a :class:`labkit.gateway.Gateway`).

    A protocol rather than the class itself, so the mode table stands below
    the gateway that dispatches through it.
    """

    portal: Portal
    clock: Clock
    realm: str
    cacheable_max_age: int
    https: str
    drop_seconds: float

    @property
    def login_url(self) -> str: ...

    @property
    def captive_api_url(self) -> str: ...

__all__ = [
    "CacheableNetworkAuthRequired",
    "MODES",
    "NetworkAuthRequired",
    "PortalMode",
    "ProxyAuthRequired",
    "RedirectToLogin",
    "SpoofedContent",
    "TemporaryRedirectToLogin",
    "Venue",
    "network_auth_required",
]


@dataclass(frozen=True)
class PortalMode:
    """A way for a captive network to treat devices that have not signed in.

    Subclasses override :meth:`answer` (and, for other ways to be let
    through, :meth:`admits`). ``str(mode)`` is its description, so
    ``f"{MODES[name]}"`` reads as a sentence.
    """

    name: str
    description: str
    #: Whether the portal's own site is reachable before admission.
    walled_garden = True

    def admits(self, gateway: Venue, request: Request) -> bool:
        """Forward this request? By default: once its device has signed in."""
        return gateway.portal.is_online(request.client_host)

    def refuse(self, gateway: Venue, request: Request) -> Response:
        """The answer to a request that :meth:`admits` turned down."""
        if request.method == "CONNECT" or request.scheme == "https":
            return self.refuse_tls(gateway, request)
        return self.answer(gateway, request)

    def refuse_tls(self, gateway: Venue, request: Request) -> Response:
        """HTTPS from a captive device: no page can be shown, only a failure.

        With ``gateway.https == "drop"`` nothing comes back (:class:`Stall`):
        the client times out, as behind pfSense (``filter_captiveportal_pass``
        in ``src/etc/inc/captiveportal.inc``: a pf ``block``, and pf drops by
        default) or OPNsense (``captiveportal_auto_rules`` in
        ``src/etc/inc/plugins.inc.d/captiveportal.inc``: "Default Captive
        Portal block rule"). With ``"refuse"`` the failure is immediate, as
        behind openNDS and nodogsplash (``fw_iptables.c``: ``reject``, an ICMP
        port-unreachable) or coova-chilli (``dhcp_doDNAT`` in ``src/dhcp.c``:
        a TCP reset).
        """
        if gateway.https == "drop":
            raise Stall(gateway.drop_seconds)
        if request.method != "CONNECT":
            # In-process only: the gateway plays a transparent interceptor, and
            # the connection fails before any page (RemoteProtocolError).
            raise Disconnect
        # A CONNECT asks an explicit proxy for a TLS tunnel (RFC 9110 section
        # 9.3.6). A captive network cannot show a page inside it: the client
        # gets only a status for the tunnel, and browsers never render a
        # proxy's CONNECT body.
        return self.answer(gateway, request)

    def answer(self, gateway: Venue, request: Request) -> Response:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.description


class NetworkAuthRequired(PortalMode):
    """511 per RFC 6585 section 6: a link, no form, no challenge, never stored.

    What the RFC asks of a captive network; no portal studied answers every
    captive request this way. openNDS comes closest: ``send_error(connection,
    511)`` in ``src/http_microhttpd.c`` for other methods than GET, direct
    visits to the gateway and late requests.
    """

    def answer(self, gateway: Venue, request: Request) -> Response:
        return network_auth_required(request, gateway.login_url, gateway.captive_api_url)


class CacheableNetworkAuthRequired(NetworkAuthRequired):
    """The 511 made storable for ``gateway.cacheable_max_age`` seconds: the bug to spot.

    A teaching case: no portal studied was found to send it.
    """

    def answer(self, gateway: Venue, request: Request) -> Response:
        response = super().answer(gateway, request)
        response.set_header("cache-control", f"max-age={gateway.cacheable_max_age}")
        return response


class RedirectToLogin(PortalMode):
    """302 to the login page, carrying the URL asked for as ``next``, never cached.

    As coova-chilli, pfSense and OPNsense do, for every method: coova-chilli's
    ``redir_reply`` sends "302 Moved Temporarily" with ``redir_http``'s
    ``Cache-Control: no-cache, must-revalidate``; pfSense's captive portal
    ``index.php`` sends ``Cache-Control: no-cache, no-store, must-revalidate``
    with its ``Location``; OPNsense's lighttpd adds ``no-store, no-cache,
    must-revalidate``. (A client re-sends a redirected POST as a GET after a
    302, as browsers and httpx do: RFC 9110 section 15.4.3 allows it.)
    """

    def answer(self, gateway: Venue, request: Request) -> Response:
        location = _login_location(gateway, request)
        return Response(
            302,
            [("location", location), ("content-type", "text/html; charset=utf-8"),
             ("cache-control", "no-cache, no-store, must-revalidate")],
            pages.redirect_page(location),
        )


class TemporaryRedirectToLogin(NetworkAuthRequired):
    """307 to the login page for a GET, 511 for any other method: openNDS.

    openNDS's ``libmicrohttpd_cb`` (``src/http_microhttpd.c``) answers any
    method but GET with 511, and ``redirect_to_splashpage`` sends a captive
    GET to the splash page with ``send_redirect_temp``: a 307 with a "Click
    here to continue" link, ``Connection: close`` and no cache headers (a 307
    is not heuristically cacheable, RFC 9110 section 15.1). nodogsplash
    redirects the same way and answers other methods 503. A 307 keeps the
    method and body (RFC 9110 section 15.4.8), which is why these portals
    redirect only GETs.
    """

    def answer(self, gateway: Venue, request: Request) -> Response:
        if request.method != "GET":
            return super().answer(gateway, request)
        location = _login_location(gateway, request)
        return Response(
            307,
            [("location", location), ("content-type", "text/html; charset=utf-8"),
             ("connection", "close")],
            pages.redirect_page(location),
        )


class SpoofedContent(PortalMode):
    """The login page served as if it were the content asked for.

    A teaching case: no portal studied sends it. Android's NetworkMonitor
    (``sendHttpProbe``) does provide for "portals that return HTTP 200 with a
    login page for all HTTP requests", opening the probe URL itself as the
    login page.
    """

    def refuse_tls(self, gateway: Venue, request: Request) -> Response:
        if gateway.https == "drop":
            return super().refuse_tls(gateway, request)
        # The tunnel is hijacked: the client meets the portal's certificate
        # instead of the site's, and the TLS handshake fails. (coova-chilli's
        # redirssl option intercepts port 443 so: doc/chilli.conf.5.in.)
        raise Disconnect

    def answer(self, gateway: Venue, request: Request) -> Response:
        # Answers as if it were the origin serving a static file: status 200,
        # no Cache-Control, but a Last-Modified a day old. That alone makes
        # the page heuristically fresh for about 2.4 h (10% of its age,
        # RFC 9111 section 4.2.2), so a cache keeps the login page as the site.
        return Response(
            200,
            [("content-type", "text/html; charset=utf-8"),
             ("last-modified", http_date(gateway.clock.time() - 86400))],
            pages.spoof_page(gateway.login_url, _original_url(request)),
        )


class ProxyAuthRequired(PortalMode):
    """An explicit proxy that wants credentials on every request (RFC 9110 section 11.7).

    A portal session does not count, and the portal's site is behind the
    proxy too: there is no walled garden.
    """

    walled_garden = False

    def admits(self, gateway: Venue, request: Request) -> bool:
        credentials = basic_credentials(request.header("proxy-authorization"))
        return credentials is not None and gateway.portal.check(*credentials)

    def refuse(self, gateway: Venue, request: Request) -> Response:
        return self.answer(gateway, request)  # a 407 suits every request, CONNECT included

    def answer(self, gateway: Venue, request: Request) -> Response:
        if request.header("proxy-authorization") is None:
            detail = "This proxy requires credentials (Proxy-Authorization) on every request."
        else:
            detail = "The Proxy-Authorization credentials were not accepted; send valid ones."
        # A 407 MUST carry Proxy-Authenticate (RFC 9110 section 11.7.1).
        challenge = f'Basic realm="{gateway.realm}", charset="UTF-8"'
        if wants_json(request.header("accept")):
            return problem(407, detail, headers=[("proxy-authenticate", challenge)])
        return Response(
            407,
            [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store"),
             ("proxy-authenticate", challenge)],
            pages.message_page("Proxy Authentication Required", detail),
        )


#: Every mode by name, in the order a learner meets them.
MODES: Mapping[str, PortalMode] = MappingProxyType({mode.name: mode for mode in (
    NetworkAuthRequired(
        "rfc6585", "511 with a link to the login page, never stored (RFC 6585 section 6); "
                   "openNDS sends 511 in some cases, no portal for every request"),
    RedirectToLogin(
        "redirect", "302 to the login page with no-cache headers, whatever the method: "
                    "coova-chilli, pfSense, OPNsense"),
    TemporaryRedirectToLogin(
        "redirect-307", "307 to the login page for GET, 511 for other methods: openNDS "
                        "(nodogsplash also redirects with 307)"),
    SpoofedContent(
        "spoof", "200 with the login page in place of the content asked for "
                 "(a teaching case: no portal studied sends it)"),
    CacheableNetworkAuthRequired(
        "cacheable", "a 511 with Cache-Control: max-age, a bug: RFC 6585 forbids storing 511 "
                     "(a teaching case: no portal studied sends it)"),
    ProxyAuthRequired(
        "proxy-auth", "not a portal: an explicit proxy demanding credentials, 407 (RFC 9110 section 15.5.8)"),
)})


def network_auth_required(request: Request, login_url: str, captive_api_url: str) -> Response:
    """The 511 itself (RFC 6585 section 6): an HTML page linking to ``login_url``, or
    problem details for a client that asks for JSON; never stored."""
    if wants_json(request.header("accept")):
        return problem(
            511,
            "This network requires you to sign in before it forwards requests. "
            f"Open {login_url} in a browser, then repeat the request.",
            login_url=login_url,
            captive_api=captive_api_url,
            answered_by=SERVER,
        )
    return Response(
        511,
        [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store")],
        pages.network_auth_page(login_url),
    )


def _login_location(gateway: Venue, request: Request) -> str:
    return f"{gateway.login_url}?next={quote(_original_url(request), safe='')}"


def _original_url(request: Request) -> str:
    if request.method == "CONNECT":
        return f"https://{request.authority or request.host}/"
    host = request.authority or request.header("host") or "origin.test"
    query = f"?{request.query}" if request.query else ""
    return f"{request.scheme}://{host}{request.path}{query}"
