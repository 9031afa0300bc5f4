"""Capture: record every exchange an httpx client makes, as plain data.

The recorder wraps the client's transport(s), so it sees each hop the client
really sends (redirects, auth retries) and what came back, whether the bytes
crossed a socket, stayed in-process, or came out of a hishel cache wrapped
inside the client. It also wraps ``client.send`` so the hops of one call share
a ``flow`` number. Bodies are read in full (a lab, not a download manager).
"""

from __future__ import annotations

import contextvars
import itertools
import threading
import time
from typing import Iterable, Iterator

import httpx

from ..core import Clock
from ._exchange import Exchange

__all__ = ["Capture"]

_FLOW: contextvars.ContextVar[int | None] = contextvars.ContextVar("labkit_flow", default=None)
_flows = itertools.count(1)


def _decoded(status: int, headers: httpx.Headers, raw: bytes) -> bytes:
    if "content-encoding" not in headers:
        return raw
    try:
        return httpx.Response(status, headers=headers, content=raw).content
    except httpx.DecodingError:
        return raw


def _transport_kind(transport) -> str:
    # Unwrap hishel's CacheTransport (next_transport) to the edge that moves bytes.
    seen = 0
    while hasattr(transport, "next_transport") and seen < 8:
        transport, seen = transport.next_transport, seen + 1
    name = type(transport).__name__
    if name == "InProcessTransport":
        return "in-process"
    if isinstance(transport, (httpx.HTTPTransport, httpx.AsyncHTTPTransport)):
        return "socket"
    return name


def _proxy_of(transport) -> tuple[str | None, list[tuple[str, str]]]:
    """The proxy URL a transport sends through, and the headers it adds for it
    (httpcore adds ``Proxy-Authorization`` itself, out of the request's sight)."""
    while hasattr(transport, "next_transport"):
        transport = transport.next_transport
    pool = getattr(transport, "_pool", None)
    url = getattr(pool, "_proxy_url", None)
    if url is None:
        return None, []
    port = f":{url.port}" if url.port else ""
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1"))
               for k, v in getattr(pool, "_proxy_headers", None) or []]
    return f"{url.scheme.decode()}://{url.host.decode()}{port}", headers


class _Recorder(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps one transport; hands each finished exchange to the capture."""

    def __init__(self, inner, capture: "Capture") -> None:
        self.inner = inner
        self.capture = capture
        self.kind = _transport_kind(inner)
        self.proxy, self.proxy_headers = _proxy_of(inner)

    def _start(self, request: httpx.Request) -> Exchange:
        body = request.content  # read by the caller (read()/aread())
        return Exchange(
            method=request.method,
            url=str(request.url),
            status=0,
            request_headers=[(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in request.headers.raw]
            + (self.proxy_headers if request.url.scheme == "http" else []),  # https: sent on CONNECT
            request_body=body,
            started=self.capture.clock.time() if self.capture.clock else time.time(),
            transport=self.kind,
            proxy=self.proxy,
        )

    def _finish(self, ex: Exchange, response: httpx.Response, body: bytes, t0, t1, t2) -> None:
        ex.status = response.status_code
        reason = response.extensions.get("reason_phrase", b"")
        ex.reason = reason.decode("latin-1") if isinstance(reason, bytes) else str(reason)
        version = response.extensions.get("http_version", b"HTTP/1.1")
        ex.http_version = version.decode("ascii") if isinstance(version, bytes) else str(version)
        ex.response_headers = [
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers.raw
        ]
        ex.response_body = body
        caching = response.extensions.get("caching")
        if caching is not None:
            ex.cache = {k: bool(v) for k, v in dict(caching).items()}
        ex.timings = _timings(t0, t1, t2)
        self.capture._add(ex)

    def _fail(self, ex: Exchange, exc: Exception, t0) -> None:
        t = time.perf_counter()
        ex.error = f"{type(exc).__name__}: {exc}"
        ex.timings = _timings(t0, t, t)
        self.capture._add(ex)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        ex = self._start(request)
        t0 = time.perf_counter()
        try:
            response = self.inner.handle_request(request)
            t1 = time.perf_counter()
            if hasattr(response, "_content"):  # already read (and decoded)
                body = response.content
            elif isinstance(response.stream, httpx.ByteStream):
                # In memory (in-process, or a cache hit): peek without consuming it.
                body = _decoded(response.status_code, response.headers, b"".join(response.stream))
            else:
                raw = b"".join(response.iter_raw())
                response.close()
                body = _decoded(response.status_code, response.headers, raw)
                response = _rebuilt(response, raw, request)
        except Exception as exc:
            self._fail(ex, exc, t0)
            raise
        self._finish(ex, response, body, t0, t1, time.perf_counter())
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        ex = self._start(request)
        t0 = time.perf_counter()
        try:
            response = await self.inner.handle_async_request(request)
            t1 = time.perf_counter()
            if hasattr(response, "_content"):
                body = response.content
            elif isinstance(response.stream, httpx.ByteStream):
                body = _decoded(response.status_code, response.headers, b"".join(response.stream))
            else:
                raw = b"".join([chunk async for chunk in response.aiter_raw()])
                await response.aclose()
                body = _decoded(response.status_code, response.headers, raw)
                response = _rebuilt(response, raw, request)
        except Exception as exc:
            self._fail(ex, exc, t0)
            raise
        self._finish(ex, response, body, t0, t1, time.perf_counter())
        return response

    def close(self) -> None:
        self.inner.close()

    async def aclose(self) -> None:
        await self.inner.aclose()


def _rebuilt(response: httpx.Response, raw: bytes, request: httpx.Request) -> httpx.Response:
    # The original stream is spent; hand the client the same bytes, undecoded,
    # so it decodes them exactly as it would have.
    return httpx.Response(
        response.status_code,
        headers=response.headers.raw,
        stream=httpx.ByteStream(raw),
        extensions=response.extensions,
        request=request,
    )


def _timings(t0: float, t1: float, t2: float) -> dict[str, float]:
    return {
        "wait": round((t1 - t0) * 1000, 3),
        "receive": round((t2 - t1) * 1000, 3),
        "total": round((t2 - t0) * 1000, 3),
    }


class Capture:
    """A recording of exchanges: attach it to httpx clients, then read it as data.

    >>> cap = Capture()
    >>> client = cap.attach(sim.client())      # sync or async, in-process or socket
    >>> client.get("/status/511")
    >>> cap[-1].status, cap.to_dataframe()

    ``clock`` stamps ``Exchange.started`` (pass the simulator's VirtualClock for
    reproducible output). Thread-safe: exchanges from several threads are
    appended under a lock and numbered in arrival order.
    """

    def __init__(self, *clients, clock: Clock | None = None) -> None:
        self.clock = clock
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._steps: dict[int, int] = {}
        self._attached: list = []
        for client in clients:
            self.attach(client)

    # -- attaching ----------------------------------------------------------
    def attach(self, client):
        """Record everything ``client`` (httpx.Client or AsyncClient) sends; returns it."""
        if not isinstance(client, (httpx.Client, httpx.AsyncClient)):
            raise TypeError(f"attach() takes an httpx.Client or AsyncClient, not {type(client).__name__}")
        if getattr(client, "_labkit_capture", None) is not None:
            raise ValueError("this client is already being captured; detach() it first")
        client._transport = _Recorder(client._transport, self)
        client._mounts = {
            pattern: (_Recorder(t, self) if t is not None else None)
            for pattern, t in client._mounts.items()
        }
        original = client.send
        if isinstance(client, httpx.AsyncClient):
            async def send(request, **kwargs):
                token = _FLOW.set(next(_flows))
                try:
                    return await original(request, **kwargs)
                finally:
                    _FLOW.reset(token)
        else:
            def send(request, **kwargs):
                token = _FLOW.set(next(_flows))
                try:
                    return original(request, **kwargs)
                finally:
                    _FLOW.reset(token)
        client.send = send
        client._labkit_capture = self
        self._attached.append(client)
        return client

    def detach(self, client=None) -> None:
        """Stop recording ``client`` (default: every attached client)."""
        for c in [client] if client is not None else list(self._attached):
            if getattr(c, "_labkit_capture", None) is not self:
                continue
            c._transport = c._transport.inner
            c._mounts = {p: (t.inner if t is not None else None) for p, t in c._mounts.items()}
            del c.send
            c._labkit_capture = None
            self._attached.remove(c)

    def __enter__(self) -> "Capture":
        return self

    def __exit__(self, *exc) -> None:
        self.detach()

    # -- recording ----------------------------------------------------------
    def _add(self, ex: Exchange) -> None:
        flow = _FLOW.get()
        with self._lock:
            ex.id = next(self._ids)
            if flow is None:  # sent without client.send (a bare transport call)
                flow = next(_flows)
            ex.flow = flow
            ex.step = self._steps.get(flow, 0)
            self._steps[flow] = ex.step + 1
            self.exchanges.append(ex)

    def add(self, exchange: Exchange) -> Exchange:
        """Record a hand-made exchange (e.g. one loaded from JSON) as a new flow."""
        with self._lock:
            exchange.id = next(self._ids)
            self.exchanges.append(exchange)
        return exchange

    def clear(self) -> None:
        with self._lock:
            self.exchanges.clear()
            self._steps.clear()

    # -- reading ------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.exchanges)

    def __iter__(self) -> Iterator[Exchange]:
        return iter(list(self.exchanges))

    def __getitem__(self, index):
        return self.exchanges[index]

    def __eq__(self, other) -> bool:
        if isinstance(other, Capture):
            return self.exchanges == other.exchanges
        return NotImplemented

    def flows(self) -> dict[int, list[Exchange]]:
        """Exchanges grouped by the ``client.send()`` call that made them (redirect chains)."""
        out: dict[int, list[Exchange]] = {}
        for ex in self.exchanges:
            out.setdefault(ex.flow, []).append(ex)
        return out

    def to_dataframe(self, *, redact: bool = True):
        """One row per exchange (pandas is imported on first use)."""
        from ._frame import exchanges_to_dataframe

        return exchanges_to_dataframe(self.exchanges, redact=redact)

    def to_json(self, *, redact: bool = True, indent: int | None = 1) -> str:
        from ._export import to_json

        return to_json(self.exchanges, redact=redact, indent=indent)

    @classmethod
    def from_json(cls, text: str) -> "Capture":
        from ._export import from_json

        cap = cls()
        cap.exchanges = from_json(text)
        ids = [ex.id for ex in cap.exchanges]
        cap._ids = itertools.count(max(ids, default=0) + 1)
        return cap

    def to_har(self, *, redact: bool = True) -> dict:
        from ._export import to_har

        return to_har(self.exchanges, redact=redact)

    def __repr__(self) -> str:
        return f"<Capture: {len(self.exchanges)} exchange(s)>"


def exchanges_of(items: "Capture | Iterable[Exchange] | Exchange") -> list[Exchange]:
    if isinstance(items, Exchange):
        return [items]
    if isinstance(items, Capture):
        return list(items.exchanges)
    return list(items)
