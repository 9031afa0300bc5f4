"""One lab: the handlers, their shared clock, and both ways to reach them."""

from __future__ import annotations

import os
from html import escape
from urllib.parse import urlsplit

import httpx

from .core import Clock, RealClock
from .gateway import Gateway
from .inspector import Capture, with_cache
from .origin import Origin
from .transport import (
    DEFAULT_REQUEST_TIMEOUT,
    InProcessTransport,
    LoopbackServer,
    ProxyHttpToolsProtocol,
    proxy_transport,
)

__all__ = ["Simulator"]

ORIGIN_URL = "http://origin.test"


class Simulator:
    """The simulated network of one learner's kernel.

    ``client()`` reaches it in-process (no sockets); ``serve()`` puts it on
    real loopback sockets for curl, a browser or any HTTP client.
    Both paths call the same handlers, so they answer alike.
    """

    def __init__(
        self, *, clock: Clock | None = None, name: str = "labkit",
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        self.clock: Clock = clock or RealClock()
        self.name = name
        # Loopback only: how long a request may take to arrive before a 408.
        self.request_timeout = request_timeout
        self.origin = Origin(clock=self.clock)
        # The network in front of the origin: data flows client -> gateway -> origin.
        self.gateway = Gateway(upstream=self.origin, clock=self.clock)
        self._servers: dict[str, LoopbackServer] = {}

    # -- in-process ------------------------------------------------------
    def client(
        self, *, device: str = "127.0.0.1", gateway: bool = False, capture: Capture | None = None,
        cache: bool | dict = False, **kwargs,
    ) -> httpx.Client:
        """A sync httpx client wired to the origin with no socket.

        ``device`` is the client's address as the network sees it.
        ``gateway=True`` puts the captive-portal gateway in the path, as an
        intercepting proxy would be: every host name then reaches the origin
        only once ``device`` has signed in. ``capture`` records every exchange
        the client makes (:meth:`Capture.transport`); ``cache=True`` puts an
        in-memory RFC 9111 cache in front of the network (a dict: the keyword
        arguments of :func:`labkit.with_cache`, e.g. ``{"rfc": False}``); the
        capture sees what the cache answers.
        """
        kwargs.setdefault("base_url", ORIGIN_URL)
        return httpx.Client(transport=self._transport(device, gateway, capture=capture, cache=cache), **kwargs)

    def async_client(
        self, *, device: str = "127.0.0.1", gateway: bool = False, capture: Capture | None = None,
        cache: bool | dict = False, **kwargs,
    ) -> httpx.AsyncClient:
        """The async form of :meth:`client`, except that ``cache`` is refused:
        hishel's async storage needs ``anysqlite``, which labkit does not install."""
        if cache:
            raise TypeError("async_client() has no cache: hishel's async storage needs 'anysqlite', "
                            "which is not a labkit dependency. Use sim.client(cache=True) for cache experiments.")
        kwargs.setdefault("base_url", ORIGIN_URL)
        return httpx.AsyncClient(transport=self._transport(device, gateway, capture=capture), **kwargs)

    def proxy_client(self, *, device: str = "127.0.0.1", **kwargs) -> httpx.Client:
        """A real-socket httpx client using the loopback gateway as its HTTP proxy.

        It connects from ``device`` (127.0.0.2, 127.0.0.3, ...: each loopback
        address is a separate device to the portal). Starts the servers if needed.
        Where ``device`` is not configured (macOS has only 127.0.0.1 until
        ``sudo ifconfig lo0 alias 127.0.0.2 up``), requests raise
        :class:`labkit.LoopbackAddressUnavailable`, whose message gives the fix.
        """
        self.serve()
        return httpx.Client(transport=proxy_transport(self.gateway_url, device=device), **kwargs)

    def _transport(
        self, device: str, gateway: bool = False, *, capture: Capture | None = None, cache: bool | dict = False,
    ) -> httpx.BaseTransport:
        handler = self.gateway if gateway else self.origin
        transport = InProcessTransport(handler, client=(device, 50000))
        if cache:
            transport = with_cache(transport, **({} if cache is True else cache))
        if capture is not None:
            transport = capture.transport(transport)
        return transport

    # -- loopback --------------------------------------------------------
    def serve(self, *, port: int = 0, host: str = "127.0.0.1", gateway_port: int = 0,
              allow_non_loopback: bool = False) -> "Simulator":
        """Start the origin and the gateway on loopback; idempotent. Returns ``self``.

        The gateway is an HTTP proxy (``httpx proxy=``, ``curl -x``, Chromium
        ``--proxy-server``), served by httptools with CONNECT support
        (:class:`labkit.transport.ProxyHttpToolsProtocol`). A browser with no
        proxy set can visit it too: the portal is published at the gateway's
        own address (:attr:`portal_url`, :meth:`browser_url`). A ``host``
        other machines can reach needs ``allow_non_loopback=True``.
        """
        server = self._servers.get("origin")
        if server is None or not server.running:
            server = LoopbackServer(self.origin, name=f"{self.name}:origin", host=host, port=port,
                                    allow_non_loopback=allow_non_loopback,
                                    request_timeout=self.request_timeout)
            self._servers["origin"] = server
        server.start()
        proxy = self._servers.get("gateway")
        if proxy is None or not proxy.running:
            proxy = LoopbackServer(
                self.gateway, name=f"{self.name}:gateway", host=host, port=gateway_port,
                http=ProxyHttpToolsProtocol, allow_non_loopback=allow_non_loopback,
                request_timeout=self.request_timeout,
            )
            self._servers["gateway"] = proxy
        proxy.start()
        # Lets the gateway tell a visit to its own address from a request to forward.
        self.gateway.address = urlsplit(proxy.url).netloc
        return self

    @property
    def origin_url(self) -> str:
        """The origin's loopback URL (after :meth:`serve`)."""
        server = self._servers.get("origin")
        if server is None or not server.running:
            raise RuntimeError("the simulator is not serving; call serve() first")
        return server.url

    @property
    def gateway_url(self) -> str:
        """The gateway's loopback URL, for use as an HTTP proxy (after :meth:`serve`)."""
        server = self._servers.get("gateway")
        if server is None or not server.running:
            raise RuntimeError("the simulator is not serving; call serve() first")
        return server.url

    @property
    def portal_url(self) -> str:
        """The portal's login page at the gateway's own loopback address (after :meth:`serve`).

        A browser on this machine opens it with no proxy set, as a real
        portal's page at the gateway's address (openNDS:
        ``http://GATEWAYADDRESS:2050/``). The browser is then device
        ``127.0.0.1``, the notebooks' default device: see
        :class:`labkit.gateway.Gateway`, "Which device is a browser?". Under
        JupyterHub print :meth:`browser_url` instead.
        """
        return f"{self.gateway_url}/login"

    def browser_url(self, path: str = "/", *, server: str = "gateway") -> str:
        """Where the learner's browser opens ``path`` on ``server`` ("gateway" or "origin").

        On a laptop the browser shares the kernel's machine: the loopback URL
        (``http://127.0.0.1:PORT/login``). Under JupyterHub
        (``JUPYTERHUB_SERVICE_PREFIX`` set, e.g. ``/user/alice/``) the browser
        is elsewhere and reaches the kernel's ports only through
        jupyter-server-proxy: ``/user/alice/proxy/PORT/login``, a path the
        browser resolves on the hub's own host. jupyter-server-proxy forwards
        it as ``/login`` with ``X-Forwarded-Prefix: /user/alice/proxy/PORT``,
        and the gateway's pages link back under that prefix. Either way the
        gateway serves the portal there, and the browser is device
        ``127.0.0.1`` (see :class:`labkit.gateway.Gateway`).

        The result is a ``str``; as a cell's value it shows as a link that
        opens in a new tab, since JupyterLab turns only full URLs in printed
        text into links.
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', not {path!r}")
        if server == "gateway":
            url = self.gateway_url
        elif server == "origin":
            url = self.origin_url
        else:
            raise ValueError(f"server must be 'gateway' or 'origin', not {server!r}")
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
        if prefix:
            # jupyter-server-proxy's route: {base_url}proxy/{port}/... (its setup_handlers).
            root = prefix.strip("/")
            return _BrowserURL(f"{'/' + root if root else ''}/proxy/{urlsplit(url).port}{path}")
        return _BrowserURL(url + path)

    def stop(self) -> None:
        """Stop every loopback server of this simulator; safe to call twice."""
        for server in self._servers.values():
            server.request_stop()  # all at once: each takes a few tenths of a second to wind down
        for server in self._servers.values():
            server.stop()
        self.gateway.address = None

    def __enter__(self) -> "Simulator":
        return self.serve()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        urls = ", ".join(f"{k}={s.url}" for k, s in self._servers.items() if s.running)
        return f"<Simulator {self.name!r} clock={self.clock!r} {urls or 'in-process only'}>"


class _BrowserURL(str):
    """A URL for the learner's browser: prints as itself, shows as a link in a notebook."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        href = escape(self, quote=True)
        return f'<a href="{href}" target="_blank" rel="noopener">{escape(self)}</a>'

