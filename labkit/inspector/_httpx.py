"""The Inspector's one boundary to httpx: every conversion between an ``httpx``
message, a ``labkit.core`` message and a captured :class:`Exchange`.

The capture uses it to turn what a client sent and received into plain data;
``inspect()`` and ``labkit.show`` use it to accept responses. Only httpx's
public API is used here.
"""

from __future__ import annotations

import base64
from http import HTTPStatus

import httpx

from ..core import Request, Response, decode_pairs
from ..transport import InProcessTransport
from ._exchange import Exchange

__all__ = [
    "decoded_body",
    "exchange_from_response",
    "exchange_of",
    "pairs",
    "proxy_record",
    "record_request",
    "record_response",
    "replayable",
    "transport_kind",
]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _text(value, default: str, encoding: str = "latin-1") -> str:
    # httpx keeps http_version and reason_phrase as bytes; hand-made responses may use str.
    if value is None:
        return default
    return value.decode(encoding) if isinstance(value, bytes) else str(value)


def pairs(headers: httpx.Headers) -> list[tuple[str, str]]:
    """httpx headers as ``(lower-case name, value)`` pairs, in wire order, duplicates kept."""
    return decode_pairs(headers.raw)


def transport_kind(transport) -> str:
    """How ``transport`` moves bytes: ``in-process``, ``socket`` or its class name.

    Cache transports are looked through (hishel's public ``next_transport``).
    """
    for _ in range(8):
        inner = getattr(transport, "next_transport", None)
        if inner is None:
            break
        transport = inner
    if isinstance(transport, InProcessTransport):
        return "in-process"
    if isinstance(transport, (httpx.HTTPTransport, httpx.AsyncHTTPTransport)):
        return "socket"
    return type(transport).__name__


def proxy_record(proxy: str | httpx.URL | httpx.Proxy | None) -> tuple[str | None, list[tuple[str, str]]]:
    """The proxy URL to record, and the headers sent to it with each plain-http request.

    httpx hands the proxy's credentials and headers to httpcore, which adds
    them below the request (``Proxy-Authorization`` is built the way httpcore
    builds it), so the request itself never shows them.
    """
    if proxy is None:
        return None, []
    if not isinstance(proxy, httpx.Proxy):
        proxy = httpx.Proxy(proxy)
    url = proxy.url
    port = f":{url.port}" if url.port else ""
    headers: list[tuple[str, str]] = []
    if url.scheme in ("http", "https"):
        if proxy.raw_auth is not None:
            user, password = proxy.raw_auth
            headers.append(("proxy-authorization", "Basic " + base64.b64encode(user + b":" + password).decode()))
        headers += pairs(proxy.headers)
    return f"{url.scheme}://{url.host}{port}", headers


def record_request(request: httpx.Request, **fields) -> Exchange:
    """An exchange holding ``request`` (its body already read) and no response yet."""
    return Exchange(method=request.method, url=str(request.url), status=0,
                    request_headers=pairs(request.headers), request_body=request.content, **fields)


def record_response(ex: Exchange, response: httpx.Response, body: bytes) -> None:
    """Fill ``ex`` with ``response``'s head and its decoded ``body``."""
    ex.status = response.status_code
    ex.reason = _text(response.extensions.get("reason_phrase"), "")
    ex.http_version = _text(response.extensions.get("http_version"), "HTTP/1.1", "ascii")
    ex.response_headers = pairs(response.headers)
    ex.response_body = body
    caching = response.extensions.get("caching")  # hishel's CacheStatus
    if caching is not None:
        ex.cache = {k: bool(v) for k, v in dict(caching).items()}


def decoded_body(status: int, headers: httpx.Headers, raw: bytes) -> bytes:
    """``raw`` with its Content-Encoding undone, as the client will see it."""
    if "content-encoding" not in headers:
        return raw
    try:
        return httpx.Response(status, headers=headers, content=raw).content
    except httpx.DecodingError:
        return raw


def replayable(response: httpx.Response, raw: bytes, request: httpx.Request) -> httpx.Response:
    """``response`` again, its stream replaced by the ``raw`` bytes already read from it."""
    # Undecoded, so the client decodes them exactly as it would have.
    return httpx.Response(response.status_code, headers=response.headers.raw,
                          stream=httpx.ByteStream(raw), extensions=response.extensions, request=request)


def exchange_from_response(response: httpx.Response | Response, request: Request | None = None,
                           **fields) -> Exchange:
    """An exchange from an ``httpx.Response`` or a ``labkit.core.Response``.

    A core Response has no request: pass ``request`` (a ``labkit.core.Request``)
    or ``method``/``url`` keywords, else ``GET http://origin.test/`` is assumed.
    """
    if isinstance(response, httpx.Response):
        req = response.request
        try:
            body = req.content
        except httpx.RequestNotRead:  # a streaming request body nobody read
            body = b""
        ex = Exchange(method=req.method, url=str(req.url), status=0,
                      request_headers=pairs(req.headers), request_body=body, **fields)
        record_response(ex, response, response.content)
        ex.reason = ex.reason or _phrase(response.status_code)
        return ex
    if request is not None:
        query = f"?{request.query}" if request.query else ""
        fields.setdefault("method", request.method)
        fields.setdefault("url", f"{request.scheme}://{request.host or 'origin.test'}{request.path}{query}")
        fields.setdefault("request_headers", list(request.headers))
        fields.setdefault("request_body", request.body)
    return Exchange.build(response.status, list(response.headers), response.body, **fields)


def exchange_of(item) -> Exchange:
    """``item`` as an exchange: an Exchange itself, or a response (httpx or core)."""
    if isinstance(item, Exchange):
        return item
    if isinstance(item, (httpx.Response, Response)):
        return exchange_from_response(item)
    raise TypeError(f"expected an Exchange, httpx.Response or labkit Response, not {type(item).__name__}")
