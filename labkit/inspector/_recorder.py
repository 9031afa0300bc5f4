"""A transport wrapper that records every exchange passing through it.

It sits where a client's transport goes, so it sees each hop the client
really sends (redirects, auth retries) and what came back, whether the bytes
crossed a socket, stayed in-process, or came out of a cache it wraps. Bodies
are read in full (a lab, not a download manager).
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import Callable

import httpx

from ..core import Clock
from ._exchange import Exchange
from ._httpx import decoded_body, proxy_record, record_request, record_response, replayable, transport_kind

__all__ = ["FLOW", "RecordingTransport"]

# The request extension that carries a flow number. httpx copies a request's
# extensions into the requests it builds to follow a redirect, so every hop of
# one client.send() carries the number its first hop was given (and an
# httpx.Request passed to client.send() twice keeps its number).
FLOW = "labkit.flow"
_flows = itertools.count(1)


class RecordingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Sends through ``inner`` and hands each finished :class:`Exchange` to ``record``.

    ``inner`` is any httpx transport (sync, async or both); without one, a
    real-socket ``httpx.HTTPTransport`` / ``AsyncHTTPTransport`` through
    ``proxy`` is made on first use. ``proxy`` (a URL or ``httpx.Proxy``)
    names the proxy the bytes go through: it is recorded on each exchange,
    with the ``Proxy-Authorization`` httpcore adds out of the request's sight.
    ``clock`` stamps ``Exchange.started`` (default: the wall clock).
    """

    def __init__(
        self,
        inner: httpx.BaseTransport | httpx.AsyncBaseTransport | None,
        record: Callable[[Exchange], None],
        *,
        proxy: str | httpx.URL | httpx.Proxy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.record = record
        self.clock = clock
        self.proxy, self.proxy_headers = proxy_record(proxy)
        self._proxy = proxy
        self._sync = self._async = inner
        self._lock = threading.Lock()
        self.kind = transport_kind(inner) if inner is not None else "socket"

    # -- the transport each direction sends through --------------------------
    # Without an inner transport, which kind to make is known only once a sync
    # or an async client sends through this one.
    def _sync_inner(self) -> httpx.BaseTransport:
        if self._sync is None:
            with self._lock:
                if self._sync is None:
                    self._sync = httpx.HTTPTransport(proxy=self._proxy)
        return self._sync

    def _async_inner(self) -> httpx.AsyncBaseTransport:
        if self._async is None:
            with self._lock:
                if self._async is None:
                    self._async = httpx.AsyncHTTPTransport(proxy=self._proxy)
        return self._async

    # -- recording ------------------------------------------------------------
    def _start(self, request: httpx.Request) -> Exchange:
        flow = request.extensions.get(FLOW)
        if flow is None:
            flow = request.extensions[FLOW] = next(_flows)
        ex = record_request(request, started=self.clock.time() if self.clock else time.time(),
                            transport=self.kind, proxy=self.proxy, flow=flow)
        if request.url.scheme == "http":  # over https they go with the CONNECT instead
            ex.request_headers += self.proxy_headers
        return ex

    def _finish(self, ex: Exchange, response: httpx.Response, body: bytes, t0: float, t1: float) -> None:
        record_response(ex, response, body)
        ex.timings = _timings(t0, t1, time.perf_counter())
        self.record(ex)

    def _fail(self, ex: Exchange, exc: Exception, t0: float) -> None:
        t = time.perf_counter()
        ex.error = f"{type(exc).__name__}: {exc}"
        ex.timings = _timings(t0, t, t)
        self.record(ex)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        ex = self._start(request)
        t0 = time.perf_counter()
        try:
            response = self._sync_inner().handle_request(request)
            t1 = time.perf_counter()
            try:
                body = response.content  # built from bytes (in-process)
            except httpx.ResponseNotRead:
                if isinstance(response.stream, httpx.ByteStream):
                    # In memory: peek without consuming it.
                    body = decoded_body(response.status_code, response.headers, b"".join(response.stream))
                else:
                    raw = b"".join(response.iter_raw())
                    response.close()
                    body = decoded_body(response.status_code, response.headers, raw)
                    response = replayable(response, raw, request)
        except Exception as exc:
            self._fail(ex, exc, t0)
            raise
        self._finish(ex, response, body, t0, t1)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        ex = self._start(request)
        t0 = time.perf_counter()
        try:
            response = await self._async_inner().handle_async_request(request)
            t1 = time.perf_counter()
            try:
                body = response.content
            except httpx.ResponseNotRead:
                if isinstance(response.stream, httpx.ByteStream):
                    body = decoded_body(response.status_code, response.headers, b"".join(response.stream))
                else:
                    raw = b"".join([chunk async for chunk in response.aiter_raw()])
                    await response.aclose()
                    body = decoded_body(response.status_code, response.headers, raw)
                    response = replayable(response, raw, request)
        except Exception as exc:
            self._fail(ex, exc, t0)
            raise
        self._finish(ex, response, body, t0, t1)
        return response

    def close(self) -> None:
        if isinstance(self._sync, httpx.BaseTransport):
            self._sync.close()

    async def aclose(self) -> None:
        if isinstance(self._async, httpx.AsyncBaseTransport):
            await self._async.aclose()

    def __repr__(self) -> str:
        via = f" via {self.proxy}" if self.proxy else ""
        return f"<RecordingTransport {self.kind}{via}>"


def _timings(t0: float, t1: float, t2: float) -> dict[str, float]:
    return {
        "wait": round((t1 - t0) * 1000, 3),
        "receive": round((t2 - t1) * 1000, 3),
        "total": round((t2 - t0) * 1000, 3),
    }
