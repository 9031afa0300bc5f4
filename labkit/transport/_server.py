"""A real HTTP server on loopback, in a background thread of this process.

uvicorn (httptools parser, uvloop where available) serves the ASGI adapter;
see ``benchmarks/`` for why. The HTTP/1.1 protocol is uvicorn's, hardened
(:class:`~labkit.transport.HardenedHttpToolsProtocol`): unfinished requests
time out with 408, an oversized head is refused with 431 before it is read,
framing RFC 9112 forbids gets 400, and refusals are logged as a bounded summary.

One server per name per process. Starting a name that is already serving
takes the running server over: same port, same thread, the new handler
answering from the next request on, so re-running a notebook cell is
instant, never fails with "address in use", never leaks a thread or a port,
and the links an earlier output printed still open. A takeover that asks for
different settings (host, port, protocol, timeout) stops the previous server
and starts afresh instead.
"""

from __future__ import annotations

import asyncio
import atexit
import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import ClassVar

import uvicorn

from ..core import Handler
from ._asgi import ASGIAdapter
from ._connect import DEFAULT_REQUEST_TIMEOUT, HardenedHttpToolsProtocol, RefusalLog

__all__ = ["LoopbackServer", "NotLoopbackError"]


class NotLoopbackError(ValueError):
    """Raised when asked to bind an address other hosts could reach."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class _Serving:
    """What a running server is made of, as one server hands it to the next."""

    server: uvicorn.Server | None
    thread: threading.Thread | None
    socket: socket.socket | None
    adapter: ASGIAdapter | None
    refusals: RefusalLog | None
    port: int


class LoopbackServer:
    """Serve ``handler`` over HTTP/1.1 on ``host:port`` (127.0.0.1, ephemeral port).

    Use as a context manager, or call :meth:`start` and :meth:`stop`.

    ``request_timeout`` bounds how long a request may take to arrive (its
    head and content): past it the server answers 408 and closes. ``http``
    is the protocol: :class:`HardenedHttpToolsProtocol` (the default) or a
    subclass such as :class:`ProxyHttpToolsProtocol`; any other value is
    passed to uvicorn as is, without those protections.
    """

    _running: ClassVar[dict[str, "LoopbackServer"]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        handler: Handler,
        *,
        name: str = "origin",
        host: str = "127.0.0.1",
        port: int = 0,
        allow_non_loopback: bool = False,
        http: str | type[asyncio.Protocol] = HardenedHttpToolsProtocol,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    ) -> None:
        if not _is_loopback(host) and not allow_non_loopback:
            raise NotLoopbackError(
                f"Refusing to bind {host!r}: the simulator serves this machine only. "
                "Pass allow_non_loopback=True if you really mean to expose it."
            )
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0-65535 (0 picks a free one), not {port}")
        if not 0 < request_timeout < float("inf"):
            raise ValueError(f"request_timeout must be a positive, finite number of seconds, not {request_timeout!r}")
        self.handler = handler
        self.name = name
        self.host = host
        self.port = port
        self._http = http
        self.request_timeout = float(request_timeout)
        self._refusals: RefusalLog | None = None
        self._adapter: ASGIAdapter | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def url(self) -> str:
        if self._socket is None:
            raise RuntimeError(f"{self.name} server is not started; call start() first")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> "LoopbackServer":
        """Start serving (a no-op if already running); returns ``self``."""
        if self.running:
            return self
        with self._registry_lock:
            previous = self._running.get(self.name)
            if previous is not None and previous is not self:
                if previous.running and self._can_take_over(previous):
                    self._take_over(previous)
                    return self
                previous.stop()
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self.port))
            except OSError as exc:
                sock.close()
                raise OSError(
                    f"cannot bind {self.host}:{self.port} for the {self.name} server: "
                    f"{exc.strerror}. Use port 0 to pick a free port."
                ) from exc
            sock.listen(1024)
            self._socket = sock
            self.port = sock.getsockname()[1]
            http = self._http
            if isinstance(http, type) and issubclass(http, HardenedHttpToolsProtocol):
                http = http.configured(name=self.name, request_timeout=self.request_timeout)
                self._refusals = http.refusals
            self._adapter = ASGIAdapter(self.handler)
            config = uvicorn.Config(
                self._adapter,
                lifespan="off",
                http=http,
                ws="none",  # the adapter serves HTTP only; an Upgrade is answered as HTTP
                # An idle client is never waited for longer than a slow one.
                timeout_keep_alive=min(5.0, self.request_timeout),
                log_level="warning",
                access_log=False,
                server_header=False,
                date_header=False,  # the handler's Date comes from its injected clock
                # Never let X-Forwarded-For rewrite the peer address: the portal
                # tells devices apart by it (RFC 8952 section 3.4.2), and any
                # local program could otherwise claim another device's sessions.
                proxy_headers=False,
                timeout_graceful_shutdown=1,
            )
            self._server = uvicorn.Server(config)
            self._thread = threading.Thread(
                target=self._server.run,
                kwargs={"sockets": [sock]},
                name=f"labkit-{self.name}",
                daemon=True,
            )
            self._thread.start()
            self._running[self.name] = self
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the {self.name} server did not start")
            time.sleep(0.002)
        return self

    def _can_take_over(self, previous: "LoopbackServer") -> bool:
        return (
            previous.host == self.host
            and self.port in (0, previous.port)
            and previous.protocol is self._http
            and previous.request_timeout == self.request_timeout
        )

    @property
    def protocol(self) -> str | type[asyncio.Protocol]:
        """The HTTP protocol this server was asked to serve with (``http=``)."""
        return self._http

    def hand_over(self) -> "_Serving":
        """Give up the running server (socket, thread, adapter) to a successor; this one stops owning it."""
        serving = _Serving(self._server, self._thread, self._socket, self._adapter, self._refusals, self.port)
        self._server = self._thread = self._socket = self._adapter = self._refusals = None
        return serving

    def _take_over(self, previous: "LoopbackServer") -> None:
        serving = previous.hand_over()
        self._server, self._thread, self._socket = serving.server, serving.thread, serving.socket
        self._adapter, self._refusals, self.port = serving.adapter, serving.refusals, serving.port
        # The adapter reads its handler per request, so the swap is one
        # assignment; requests already running finish with the old handler.
        self._adapter.handler = self.handler
        self._running[self.name] = self

    def request_stop(self) -> None:
        """Ask the server to stop without waiting for it (:meth:`stop` waits).

        Stopping several servers is as quick as stopping one when each is
        asked first: uvicorn notices within a tenth of a second and then
        gives open connections another tenth.
        """
        if self._server is not None:
            self._server.should_exit = True

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        server, thread, sock = self._server, self._thread, self._socket
        if server is not None:
            server.should_exit = True
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        if sock is not None:
            sock.close()
        if self._refusals is not None:
            self._refusals.flush()
        self._server = self._thread = self._adapter = None
        if self._running.get(self.name) is self:
            del self._running[self.name]

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.url if self.running else "stopped"
        return f"<LoopbackServer {self.name} {state}>"

    @classmethod
    def stop_all(cls) -> None:
        servers = list(cls._running.values())
        for server in servers:
            server.request_stop()
        for server in servers:
            server.stop()


# A handler's Disconnect is deliberate; do not print a traceback for it.
class _QuietDisconnects(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return type(exc).__name__ != "Disconnect"


logging.getLogger("uvicorn.error").addFilter(_QuietDisconnects())
atexit.register(LoopbackServer.stop_all)
