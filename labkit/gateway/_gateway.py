"""The gateway: the network's enforcement device in front of the origin.

One handler, two ways in. In-process it wraps the origin like a transparent
intercepting proxy (the way a café's access point sits in the path); on
loopback it is served as an explicit HTTP proxy (absolute-form targets and
CONNECT, RFC 9112 sections 3.2.2-3.2.3), because nothing on one machine can
intercept another program's traffic. Any host name is served by the
simulated origin: there is no internet behind the gateway.

A request meets three parts, in order: enforcement (the current
:class:`~labkit.gateway.PortalMode` admits it or answers instead), the
portal's own site (:class:`~labkit.gateway.PortalSite`), and forwarding to
the upstream (``_forward.py``).

Every response leaving it carries ``Via: 1.1 labkit-gateway`` (RFC 9110
section 7.6.3); the ones it writes itself also say ``Server: labkit-gateway``,
so a learner can tell the network's answer from the origin's.
"""

from __future__ import annotations

from ..core import GATEWAY_NAME, Clock, Handler, RealClock, Request, Response, http_date
from ._forward import VIA, forward, no_tunnel
from ._modes import MODES, PortalMode
from ._portal import Portal
from ._replies import SERVER
from ._site import PortalSite

__all__ = ["HTTPS_BEHAVIOURS", "PORTAL_HOST", "Gateway"]

PORTAL_HOST = "portal.labkit.test"


#: What the gateway does with HTTPS from a captive device (see :attr:`Gateway.https`).
HTTPS_BEHAVIOURS = ("refuse", "drop")


class Gateway:
    """An intercepting proxy with a captive portal, as a ``(Request) -> Response`` handler.

    ``upstream`` answers every host but the portal's. Devices are told apart by
    ``request.client[0]`` (an IP address identifier, RFC 8952 section 3.4.2; real
    gateways use the MAC address too, see :class:`Portal`). ``mode`` may be
    switched at any time (see :data:`MODES`), and so may ``https``:

    * ``"refuse"`` (default): HTTPS from a captive device fails at once. On
      loopback the CONNECT gets the mode's status (511 in ``rfc6585`` mode);
      in-process the connection is cut (``httpx.RemoteProtocolError``). Like
      openNDS and nodogsplash (an ICMP port-unreachable reject) or
      coova-chilli (a TCP reset).
    * ``"drop"``: nothing comes back, as behind pfSense and OPNsense (a pf
      block, which drops). In-process the client's read timeout fires at once
      (``httpx.ReadTimeout``, no real waiting); on loopback the gateway holds
      the CONNECT unanswered until the client gives up, for at most
      ``drop_seconds`` (bounded: at most 5 s, as every :class:`~labkit.core.Stall`).
      If the client is more patient than that, the socket edge ends the hold
      as it ends every stall (a status line, then the connection cut), which
      a CONNECT reads as a tunnel whose TLS handshake fails.

    A few portals hijack port 443 instead and present their own certificate,
    a certificate error for every site: coova-chilli with ``redirssl``
    (``dhcp_doDNAT``), pfSense with HTTPS login
    (``captiveportal_zone_portalports``). The ``spoof`` mode plays that.

    Browsers start their own portal check on such failures: Chromium's
    ``CaptivePortalTabReloader`` (``components/captive_portal/content/
    captive_portal_tab_reloader.cc``, ``SslNetErrorMayImplyCaptivePortal``) on
    ``ERR_CONNECTION_TIMED_OUT``, ``ERR_SSL_PROTOCOL_ERROR``, a certificate
    error, or an HTTPS load still pending after 30 s; not on a refused or
    reset connection.

    Credentials of the simulated venue: user ``guest``, password ``letmein``
    (:data:`labkit.gateway.DEFAULT_USERS`).
    """

    def __init__(
        self,
        upstream: Handler,
        *,
        clock: Clock | None = None,
        portal: Portal | None = None,
        mode: str | PortalMode = "rfc6585",
        portal_host: str = PORTAL_HOST,
        session_seconds: float = 3600.0,
        users: dict[str, str] | None = None,
        cacheable_max_age: int = 300,
        realm: str = GATEWAY_NAME,
        https: str = "refuse",
        drop_seconds: float = 5.0,
    ) -> None:
        self.upstream = upstream
        self.clock: Clock = clock or RealClock()
        self.portal = portal or Portal(clock=self.clock, users=users, session_seconds=session_seconds)
        self.site = PortalSite(self.portal, portal_host)
        self.cacheable_max_age = int(cacheable_max_age)
        self.realm = realm
        self.mode = mode
        self.https = https
        self.drop_seconds = float(drop_seconds)

    # -- configuration ---------------------------------------------------
    @property
    def mode(self) -> str:
        """The name of the current mode; set a name from :data:`MODES` (or a :class:`PortalMode`)."""
        return self._mode.name

    @mode.setter
    def mode(self, value: str | PortalMode) -> None:
        if isinstance(value, PortalMode):
            self._mode = value
            return
        try:
            self._mode = MODES[value]
        except (KeyError, TypeError):
            raise ValueError(
                f"unknown gateway mode {value!r}; choose one of: {', '.join(MODES)}"
            ) from None

    @property
    def https(self) -> str:
        """What a captive device's HTTPS meets: ``"refuse"`` or ``"drop"`` (see the class docstring)."""
        return self._https

    @https.setter
    def https(self, value: str) -> None:
        if value not in HTTPS_BEHAVIOURS:
            raise ValueError(f"unknown https behaviour {value!r}; choose one of: {', '.join(HTTPS_BEHAVIOURS)}")
        self._https = value

    @property
    def portal_mode(self) -> PortalMode:
        """The current mode itself: its name, description and behaviour."""
        return self._mode

    @property
    def portal_host(self) -> str:
        return self.site.host

    @property
    def login_url(self) -> str:
        return self.site.login_url

    @property
    def captive_api_url(self) -> str:
        """The URI a network would hand out by DHCP/RA (RFC 8910)."""
        return self.site.captive_api_url

    @property
    def venue_url(self) -> str:
        return self.site.venue_url

    # -- the handler: client -> gateway -> origin --------------------------
    def __call__(self, request: Request) -> Response:
        mode = self._mode
        if not self._admits(mode, request):
            return self._stamp(mode.refuse(self, request))
        if request.method == "CONNECT":
            return self._stamp(no_tunnel(request))
        if request.host.lower() == self.site.host:
            return self._stamp(self.site(request))
        return forward(self.upstream, request)

    def _admits(self, mode: PortalMode, request: Request) -> bool:
        """Enforcement: may this request pass the gateway?"""
        if mode.admits(self, request):
            return True
        # The walled garden: the portal's pages are reachable before signing in
        # (RFC 8952 section 2.4), but not through a tunnel the gateway cannot see into.
        return (
            mode.walled_garden
            and request.method != "CONNECT"
            and request.host.lower() == self.site.host
        )

    def _stamp(self, response: Response) -> Response:
        response.headers.append(("server", SERVER))
        response.headers.append(("via", VIA))
        response.headers.append(("date", http_date(self.clock.time())))
        return response

    def __repr__(self) -> str:
        return f"<Gateway mode={self.mode!r} https={self.https!r} portal={self.portal_host}>"
