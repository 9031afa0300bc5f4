"""In-process edge: httpx clients talk to a handler with no socket at all."""

from __future__ import annotations

from http import HTTPStatus

import httpx

from ..core import Disconnect, Handler, Request, Stall, decode_pairs, encode_pairs, frame

__all__ = ["InProcessTransport"]


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


_REASONS = {code: _reason(code) for code in range(100, 600)}


class InProcessTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport (sync and async) that calls ``handler`` directly.

    ``client`` is the peer address the handler sees; a different loopback
    address is a different device to a captive portal.
    """

    def __init__(self, handler: Handler, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.handler = handler
        self.client = client

    def _to_core(self, request: httpx.Request, body: bytes) -> Request:
        url = request.url
        return Request(
            request.method,
            url.path,
            url.query.decode("ascii"),
            decode_pairs(request.headers.raw),
            body,
            self.client,
            url.scheme,
        )

    def _exchange(self, request: httpx.Request, body: bytes) -> httpx.Response:
        core = self._to_core(request, body)
        try:
            response = frame(self.handler(core), core.method)
        except Disconnect:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        except Stall:
            # No socket to hold open: report what the client's timeout would.
            raise httpx.ReadTimeout("The server sent nothing (stalled).", request=request) from None
        # Bytes headers skip httpx's own re-encoding, and content= marks the body
        # as already read (a stream= would be read again through the decoders):
        # this edge is the in-process hot path (benchmarks/run.py).
        return httpx.Response(
            response.status,
            headers=encode_pairs(response.headers),
            content=response.body,
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": _REASONS.get(response.status, b"")},
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._exchange(request, request.read())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._exchange(request, await request.aread())
