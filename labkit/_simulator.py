"""One lab: the handlers, their shared clock, and both ways to reach them."""

from __future__ import annotations

import httpx

from .core import Clock, RealClock
from .gateway import Gateway
from .inspector import Capture, with_cache
from .origin import Origin
from .transport import InProcessTransport, LoopbackServer, ProxyHttpToolsProtocol, proxy_transport

__all__ = ["Simulator"]

ORIGIN_URL = "http://origin.test"


class Simulator:
    """The simulated network of one learner's kernel.

    ``client()`` reaches it in-process (no sockets); ``serve()`` puts it on
    real loopback sockets for curl, a browser or any HTTP client.
    Both paths call the same handlers, so they answer alike.
    """

    def __init__(self, *, clock: Clock | None = None, name: str = "labkit") -> None:
        self.clock: Clock = clock or RealClock()
        self.name = name
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
        (:class:`labkit.transport.ProxyHttpToolsProtocol`). A ``host`` other
        machines can reach needs ``allow_non_loopback=True``.
        """
        server = self._servers.get("origin")
        if server is None or not server.running:
            server = LoopbackServer(self.origin, name=f"{self.name}:origin", host=host, port=port,
                                    allow_non_loopback=allow_non_loopback)
            self._servers["origin"] = server
        server.start()
        proxy = self._servers.get("gateway")
        if proxy is None or not proxy.running:
            proxy = LoopbackServer(
                self.gateway, name=f"{self.name}:gateway", host=host, port=gateway_port,
                http=ProxyHttpToolsProtocol, allow_non_loopback=allow_non_loopback,
            )
            self._servers["gateway"] = proxy
        proxy.start()
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

    def stop(self) -> None:
        """Stop every loopback server of this simulator; safe to call twice."""
        for server in self._servers.values():
            server.stop()

    def __enter__(self) -> "Simulator":
        return self.serve()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        urls = ", ".join(f"{k}={s.url}" for k, s in self._servers.items() if s.running)
        return f"<Simulator {self.name!r} clock={self.clock!r} {urls or 'in-process only'}>"
