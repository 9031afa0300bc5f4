"""Socket edge: an ASGI app around a handler, for uvicorn (or any ASGI server)."""

from __future__ import annotations

import asyncio

from ..core import Disconnect, Handler, Request, Stall, decode_pairs, encode_pairs, frame
from ..origin import MAX_BODY_BYTES
from ._connect import PROXY_TARGET

__all__ = ["ASGIAdapter"]


class ASGIAdapter:
    """Converts an ASGI HTTP scope to a core :class:`Request` and back.

    Kept to plain dicts and bytes: this is the hot path of the loopback server.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":  # lifespan is off; websockets are not served
            return
        body = b""
        # A request with neither Content-Length nor Transfer-Encoding has no
        # content (RFC 9112 section 6.3): nothing to wait for.
        more = _may_have_content(scope["headers"])
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if len(body) <= MAX_BODY_BYTES:  # keep one byte over: the core answers 413
                body += message.get("body", b"")
            more = message.get("more_body", False)
        path, scheme, authority = scope["path"], scope.get("scheme", "http"), None
        extensions = scope.get("extensions")
        target = extensions.get(PROXY_TARGET) if extensions else None
        if target is not None:
            # An absolute-form target the loopback protocol has split already.
            scheme, authority = target["scheme"], target["authority"]
        elif path[:1] != "/":
            scheme, authority, path = _proxy_target(scope["method"], path, scheme)
        request = Request(
            scope["method"],
            path,
            scope["query_string"].decode("latin-1"),
            decode_pairs(scope["headers"], lower=False),  # ASGI names arrive lower-cased
            body,
            scope.get("client"),
            scheme,
            authority,
        )
        try:
            response = frame(self.handler(request), request.method)
        except Stall as stall:
            # Say nothing until the client's read timeout makes it hang up, but
            # never longer than stall.seconds; then drop the connection.
            try:
                await asyncio.wait_for(_hang_up(receive), stall.seconds)
                return  # the client gave up
            except asyncio.TimeoutError:
                pass
            if request.method == "CONNECT":
                # A held tunnel request that outlived the hold: a proxy that gives up
                # on the upstream answers 504 (RFC 9110 section 15.6.5), where a
                # promised body would read as a tunnel whose TLS handshake failed.
                await send({"type": "http.response.start", "status": 504,
                            "headers": [(b"content-length", b"0"), (b"connection", b"close")]})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"1")]})
            raise Disconnect() from None
        except Disconnect:
            # Promise a body, send none, and end: the client sees the
            # connection drop mid-response, as with a crashed upstream.
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"1")]})
            raise
        await send({
            "type": "http.response.start",
            "status": response.status,
            "headers": encode_pairs(response.headers),
        })
        await send({"type": "http.response.body", "body": response.body})


async def _hang_up(receive) -> None:
    # Whatever the request still had to say (its empty message, when its content
    # was never awaited) comes before the client's http.disconnect.
    while (await receive())["type"] != "http.disconnect":
        pass


def _may_have_content(headers) -> bool:
    for name, _ in headers:
        if name == b"content-length" or name == b"transfer-encoding":
            return True
    return False


def _proxy_target(method: str, target: str, scheme: str) -> tuple[str, str | None, str]:
    """Split a request-target only a proxy receives (h11 passes it through as
    the path, and so does the gateway's httptools protocol for CONNECT; that
    protocol splits an absolute-form target itself, see ``PROXY_TARGET``).

    CONNECT uses authority-form ``host:port`` (RFC 9112 section 3.2.3); requests
    to a proxy use absolute-form ``http://host/path`` (section 3.2.2), whose
    authority then wins over ``Host``. Returns ``(scheme, authority, path)``.
    """
    if method == "CONNECT":
        return "https", target, target
    given, sep, rest = target.partition("://")
    if not sep:
        return scheme, None, target
    authority, slash, path = rest.partition("/")
    return given.lower(), authority, "/" + path
