"""One lab: the handlers, their shared clock, and both ways to reach them."""

from __future__ import annotations

import httpx

from .core import Clock, RealClock
from .origin import Origin
from .transport import InProcessTransport, LoopbackServer

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
        self._servers: dict[str, LoopbackServer] = {}

    # -- in-process ------------------------------------------------------
    def client(self, *, device: str = "127.0.0.1", **kwargs) -> httpx.Client:
        """A sync httpx client wired to the origin with no socket.

        ``device`` is the client's address as the network sees it.
        """
        kwargs.setdefault("base_url", ORIGIN_URL)
        return httpx.Client(transport=self._transport(device), **kwargs)

    def async_client(self, *, device: str = "127.0.0.1", **kwargs) -> httpx.AsyncClient:
        """The async form of :meth:`client`."""
        kwargs.setdefault("base_url", ORIGIN_URL)
        return httpx.AsyncClient(transport=self._transport(device), **kwargs)

    def _transport(self, device: str) -> InProcessTransport:
        return InProcessTransport(self.origin, client=(device, 50000))

    # -- loopback --------------------------------------------------------
    def serve(self, *, port: int = 0, host: str = "127.0.0.1") -> "Simulator":
        """Start the loopback server(s); idempotent. Returns ``self``."""
        server = self._servers.get("origin")
        if server is None or not server.running:
            server = LoopbackServer(self.origin, name=f"{self.name}:origin", host=host, port=port)
            self._servers["origin"] = server
        server.start()
        return self

    @property
    def origin_url(self) -> str:
        """The origin's loopback URL (after :meth:`serve`)."""
        server = self._servers.get("origin")
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
