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
the upstream (``_forward.py``). A request addressed to the gateway itself
rather than to a host behind it (a direct visit, see :class:`Gateway`) meets
only the portal.

Every response leaving it carries ``Via: 1.1 labkit-gateway`` (RFC 9110
section 7.6.3); the ones it writes itself also say ``Server: labkit-gateway``,
so a learner can tell the network's answer from the origin's.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import quote

from ..core import GATEWAY_NAME, Clock, Handler, RealClock, Request, Response, http_date
from ._cors import is_preflight, preflight_grant, share
from ._forward import VIA, forward, no_tunnel
from ._modes import MODES, PortalMode, network_auth_required
from ._portal import Portal
from ._replies import SERVER
from ._site import PAGES, PortalSite

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

    **Direct visits.** Real portals also publish their pages at the gateway's
    own address (openNDS at ``http://GATEWAYADDRESS:2050/``), which a browser
    reaches with no proxy set. So does this one, once ``address`` says where
    it listens (``"127.0.0.1:PORT"``; :meth:`labkit.Simulator.serve` sets it).
    A request is a direct visit when its target (the absolute-form authority,
    else ``Host``) names that address, with any loopback name for a loopback
    address, as openNDS's ``is_foreign_hosts`` compares ``Host`` with its
    ``gw_address`` (``src/http_microhttpd.c``). So is one that a
    path-prefixing reverse proxy forwarded (``X-Forwarded-Prefix``, as
    jupyter-server-proxy sends under JupyterHub): that proxy connects to this
    address, and its ``Host`` is the hub's (never with this gateway's port,
    which only a browser connecting straight here would send).

    A direct visit meets no mode, in any mode. The portal's pages
    (``/login``, ``/logout``, ``/extend``, ``/api/captive``, ``/venue``) are
    served with every link and form pointing back to the address it came in
    on (``http://127.0.0.1:PORT/login``, or ``/user/NAME/proxy/PORT/login``).
    Any other path gets a captive device the 511, whose link and refresh lead
    to that login page (``next`` naming the page asked for, unless it was
    ``/``), as openNDS answers a captive device's visit to the gateway's
    ``/`` with 511 (``preauthenticated``); a signed-in device gets the
    portal's online page there (openNDS: its status page, ``authenticated``).

    Which device is a browser? The one at its source address, as for every
    request: ``127.0.0.1`` for a browser on the same machine with no proxy
    set, and ``127.0.0.1`` again under JupyterHub, where jupyter-server-proxy
    connects from the notebook server's own loopback. That is the device the
    notebooks' clients are by default (``device="127.0.0.1"``), so signing in
    in the browser brings them online; ``127.0.0.2``, ``127.0.0.3`` (curl
    ``--interface``) stay captive.

    **CORS** (``cors``, off by default). A web app's script calling an API
    on another origin reads a refusal only if it carries
    ``Access-Control-Allow-Origin`` (the Fetch Standard's "CORS check");
    without it, ``fetch()`` rejects with a ``TypeError`` and the 511 is seen
    only in the browser's developer tools. With ``cors=True`` the mode's
    answer to a request for a host behind the gateway carries
    ``Access-Control-Allow-Origin: *``, and a CORS preflight (``OPTIONS``
    with ``Access-Control-Request-Method``) gets a 204 granting what it asked
    for, so the request itself meets the mode's answer (the 511) and the app
    can read it. Never the portal's own pages, a 407 or a CONNECT: see
    ``_cors.py``, which quotes the rules.

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
        address: str | None = None,
        cors: bool = False,
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
        self.address = address
        self.cors = cors

    # -- configuration ---------------------------------------------------
    @property
    def address(self) -> str | None:
        """``"host:port"`` where this gateway listens, for direct visits; None in-process only."""
        return self._address

    @address.setter
    def address(self, value: str | None) -> None:
        # Split once here, not on every request that passes the gateway.
        self._address = value
        self._own_host, self._own_port = _split_host_port(value) if value else ("", None)
        # What a target authority means depends on this address: start a new
        # memo (replaced, not cleared, so a request still reading the old
        # address can only write to the old one).
        self._targets: dict[str, tuple[str | None, str]] = {}

    @property
    def mode(self) -> str:
        """The name of the current mode; set a name from :data:`MODES` (or a :class:`PortalMode`)."""
        return self._mode.name

    @mode.setter
    def mode(self, value: str | PortalMode) -> None:
        if not isinstance(value, PortalMode):
            try:
                value = MODES[value]
            except (KeyError, TypeError):
                raise ValueError(
                    f"unknown gateway mode {value!r}; choose one of: {', '.join(MODES)}"
                ) from None
        self._mode = value
        # Most modes admit a device by its session alone (PortalMode.admits):
        # for them the hot path asks the portal itself, one call fewer per
        # request. One tuple, so a request never pairs a mode with another's flag.
        self._enforcement = (value, type(value).admits is PortalMode.admits)

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
    def cors(self) -> bool:
        """Whether the portal's refusals carry CORS headers (see the class docstring)."""
        return self._cors

    @cors.setter
    def cors(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"cors must be True or False, not {value!r}")
        self._cors = value

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
        # The hot path: a signed-in device's proxy request, forwarded. Kept to
        # few calls; every frame shows in the loopback gateway's requests/s.
        method, authority, host = request.method, request.authority, None
        if authority and method != "CONNECT":
            # An absolute-form proxy request (RFC 9112 section 3.2.2), what every
            # proxy client sends: what its target means is memoised.
            base, host = self._targets.get(authority) or self._target(authority)
        else:
            base = self._direct_base(request)
        if base is not None:
            return self._stamp(self._direct(request, base))
        # Enforcement: may this request pass the gateway?
        mode, by_session = self._enforcement
        admitted = self.portal.is_online(request.client_host) if by_session else mode.admits(self, request)
        if not (admitted or self._in_walled_garden(mode, request)):
            self.portal.saw(request.client_host)
            return self._stamp(self._refuse(mode, request))
        if method == "CONNECT":
            return self._stamp(no_tunnel(request))
        if (request.host.lower() if host is None else host) == self.site.host:
            return self._stamp(self.site(request))
        return forward(self.upstream, request)

    def _target(self, authority: str) -> tuple[str | None, str]:
        """``(direct base or None, lower-cased host)`` for an absolute-form target's authority.

        Both depend on the authority and this gateway's address only (never on
        sign-in state, the clock or the request's other parts), so
        :meth:`__call__` memoises them per address: a client names the same
        few hosts over and over.
        """
        targets = self._targets  # read first: see the address setter
        if len(targets) >= _MAX_TARGETS:
            targets.clear()  # bounded: any client may name any host
        own = self._own_address(*_split_host_port(authority)) if self.address else None
        # The host as Request.host reads it from a request with this authority.
        host = Request("GET", "/", authority=authority).host.lower()
        known = targets[authority] = (None if own is None else f"http://{own}", host)
        return known

    def _in_walled_garden(self, mode: PortalMode, request: Request) -> bool:
        # The walled garden: the portal's pages are reachable before signing in
        # (RFC 8952 section 2.4), but not through a tunnel the gateway cannot see into.
        return (
            mode.walled_garden
            and request.method != "CONNECT"
            and request.host.lower() == self.site.host
        )

    def _refuse(self, mode: PortalMode, request: Request) -> Response:
        """The mode's answer to a request it did not admit, shared with scripts if ``cors`` is on."""
        response = mode.refuse(self, request)  # first: HTTPS keeps failing as the mode says
        if (not self._cors or request.method == "CONNECT" or response.status == 407
                or request.host.lower() == self.site.host):
            return response
        return preflight_grant(request) if is_preflight(request) else share(response)

    def _direct_base(self, request: Request) -> str | None:
        """Where a direct visit reached the gateway, or None for a request to a host behind it.

        ``http://HOST:PORT`` as the request named the gateway's own address, or
        a reverse proxy's path prefix (``/user/NAME/proxy/PORT``). The class
        docstring says which requests are direct visits, and why.
        """
        if request.method == "CONNECT" or not self.address:
            return None
        if request.authority is not None:  # absolute-form: the target names the host (RFC 9112 section 3.2.2)
            own = self._own_address(*_split_host_port(request.authority))
            return None if own is None else f"http://{own}"
        # One pass over the fields for the two this needs: it runs for every
        # request the gateway forwards (the edges lower-case field names).
        host_field = prefix = None
        for name, value in request.headers:
            if name == "host":
                if host_field is None:
                    host_field = value
            elif name == "x-forwarded-prefix":
                prefix = value
        target = request.authority or host_field or ""
        host, port = _split_host_port(target)
        own = self._own_address(host, port)
        if own is not None:
            return f"http://{own}"
        # A reverse proxy listens on another port than ours, so the Host it
        # passes on never names our port. A request naming our port under
        # another name came straight from a browser (a page whose host name
        # was rebound to 127.0.0.1, say): it may set any header on its own
        # origin, so its X-Forwarded-Prefix would let that page use the
        # portal's forms.
        if request.authority is None and port != self._own_port and prefix is not None:
            return _forwarded_prefix(prefix)
        return None

    def _own_address(self, host: str, port: int | None) -> str | None:
        # "host:port" if the target names this gateway's address, else None.
        own_host = self._own_host
        if port is None or port != self._own_port or not host:
            return None
        # Not any name with our port: a page whose host name was rebound to our
        # address would then be served the portal as its own origin.
        if host == own_host or (_loopback(host) and _loopback(own_host)):
            return f"{host}:{port}"
        return None

    def _direct(self, request: Request, base: str) -> Response:
        """A direct visit: the portal's pages, or the 511 that leads to them."""
        device = request.client_host
        if request.path in PAGES or self.portal.is_online(device):
            return self.site(request, base=base)
        login = f"{base}/login"
        if request.path != "/" or request.query:  # the way back, unless it is to this page
            query = f"?{request.query}" if request.query else ""
            login += f"?next={quote(f'{base}{request.path}{query}', safe='')}"
        return network_auth_required(request, login, f"{base}/api/captive")

    def _stamp(self, response: Response) -> Response:
        response.headers.append(("server", SERVER))
        response.headers.append(("via", VIA))
        response.headers.append(("date", http_date(self.clock.time())))
        return response

    def __repr__(self) -> str:
        cors = " cors=True" if self._cors else ""
        return f"<Gateway mode={self.mode!r} https={self.https!r}{cors} portal={self.portal_host}>"


# How many target authorities a gateway remembers (see Gateway._target).
_MAX_TARGETS = 256

# A reverse proxy's mount point: a path, never "//host" (which names another
# host), with RFC 3986 path characters only, since it goes into links.
_PREFIX = re.compile(r"/(?!/)[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")


def _forwarded_prefix(value: str | None) -> str | None:
    # The X-Forwarded-Prefix a path-prefixing reverse proxy sends (Werkzeug's
    # ProxyFix and Traefik's StripPrefix use it; jupyter-server-proxy sends
    # "{base_url}proxy/{port}" in _build_proxy_request), without its trailing
    # "/"; "" for a proxy mounted at "/".
    if value is None or not _PREFIX.fullmatch(value.strip()):
        return None
    return value.strip().rstrip("/")


@lru_cache(maxsize=1024)  # every request names a host; the same few, over and over
def _split_host_port(target: str) -> tuple[str, int | None]:
    # "Host" syntax: uri-host [ ":" port ] (RFC 9112 section 3.2); an IPv6
    # literal keeps its brackets. No port means http's, 80; a bad one, None.
    target = target.strip().lower()
    split = target.find("]") + 1 if target.startswith("[") else target.find(":")
    if split <= 0 or split == len(target):
        return target, 80
    host, port = target[:split], target[split:]
    if not port.startswith(":") or not port[1:].isdigit():
        return host, None
    return host, int(port[1:])


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

