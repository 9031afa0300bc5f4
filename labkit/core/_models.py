"""The simulator's currency: small plain request and response objects.

Handlers trade in these instead of httpx objects because building an httpx
object per request and response on the server path costs throughput on the
hot path that ``benchmarks/run.py`` measures.
Conversion happens only at the edges (``labkit.transport``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable
from urllib.parse import parse_qsl

from ._fields import header

__all__ = ["Disconnect", "Handler", "Request", "Response", "Stall"]

@dataclass(slots=True)
class Request:
    """One HTTP request as the core sees it, whatever carried it."""

    method: str
    path: str
    query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    # The peer's address: real portals tell devices apart by it (RFC 8952 section 3.4.2).
    client: tuple[str, int] | None = None
    scheme: str = "http"
    # Request-target authority for absolute-form and CONNECT (RFC 9112 section 3.2.2).
    authority: str | None = None
    # Correlation id, set by the origin (a client-sent X-Request-Id is kept).
    id: str = ""

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``default``."""
        # The edges lower-case request field names once (decode_pairs), so this
        # hot path compares them as they are.
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return default

    @property
    def host(self) -> str:
        """Which host the client asked for: the authority, else ``Host``, without port."""
        host = self.authority or self.header("host") or ""
        if host.startswith("["):  # IPv6 literal
            return host[: host.find("]") + 1]
        return host.rsplit(":", 1)[0] if ":" in host else host

    @property
    def query_params(self) -> dict[str, str]:
        if not self.query:
            return {}
        return dict(parse_qsl(self.query, keep_blank_values=True))

    @property
    def client_host(self) -> str:
        return self.client[0] if self.client else "127.0.0.1"


@dataclass(slots=True)
class Response:
    """One HTTP response: a status, header pairs and a complete body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``default``."""
        return header(self.headers, name, default)

    def set_header(self, name: str, value: str) -> None:
        """Replace every ``name`` header with one ``value``."""
        lower = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lower]
        self.headers.append((name, value))

    def without_headers(self, names: Iterable[str]) -> None:
        drop = {n.lower() for n in names}
        self.headers = [(k, v) for k, v in self.headers if k.lower() not in drop]


class Disconnect(Exception):
    """Raised by a handler to drop the connection without any response.

    The edges turn it into what a real client sees: ``httpx.RemoteProtocolError``
    in-process, a connection closed mid-response over a socket.
    """


class Stall(Exception):
    """Raised by a handler to answer nothing at all, so the client's read timeout fires.

    In-process the client sees ``httpx.ReadTimeout`` at once (nothing really waits).
    Over a socket the server holds the connection silently until the client gives
    up, but never longer than ``seconds`` (bounded, so a stall cannot hang a server).
    """

    def __init__(self, seconds: float = 1.0) -> None:
        super().__init__(f"stalled for up to {seconds} s")
        self.seconds = max(0.0, min(float(seconds), 5.0))


Handler = Callable[[Request], Response]
"""Anything that maps a :class:`Request` to a :class:`Response`: the origin,
the gateway wrapped around it, or a test double."""
