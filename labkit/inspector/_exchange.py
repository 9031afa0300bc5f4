"""One captured exchange: plain data, comparable, and loadable from JSON."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from http import HTTPStatus
from urllib.parse import urlsplit

from ..core import header, redact_url

__all__ = ["Exchange"]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


@dataclass(slots=True)
class Exchange:
    """One request and the response the client received for it (one hop of a flow).

    ``flow`` groups the requests one ``client.send()`` made (a redirect chain,
    an auth retry); ``step`` numbers them from 0. ``status`` is 0 when the
    exchange failed without a response (``error`` says why). ``timings`` are
    milliseconds (``wait``: until the response head; ``receive``: the body;
    ``total``). ``cache`` is hishel's ``CacheStatus`` when a cache sat in the
    path. ``transport`` says how the bytes travelled (``in-process`` or
    ``socket``); which *party* answered is :func:`labkit.attribute`'s job.
    Plain data: attribution, redaction, linting and export are functions over it.
    """

    method: str
    url: str
    status: int
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: bytes = b""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    reason: str = ""
    http_version: str = "HTTP/1.1"
    started: float = 0.0  # seconds since the epoch, on the capture's clock
    timings: dict[str, float] = field(default_factory=dict)
    flow: int = 0
    step: int = 0
    transport: str = ""
    proxy: str | None = None
    cache: dict[str, bool] | None = None
    error: str | None = None
    id: int = 0

    # -- construction from hand-made messages ------------------------------
    @classmethod
    def build(
        cls,
        status: int,
        headers: list[tuple[str, str]] | dict[str, str] | None = None,
        body: bytes | str = b"",
        *,
        method: str = "GET",
        url: str = "http://origin.test/",
        request_headers: list[tuple[str, str]] | dict[str, str] | None = None,
        **kwargs,
    ) -> "Exchange":
        """An exchange from literal parts, e.g. an example response printed in an RFC."""
        if isinstance(body, str):
            body = body.encode()
        return cls(
            method=method,
            url=url,
            status=status,
            request_headers=_pairs(request_headers),
            response_headers=_pairs(headers),
            response_body=body,
            reason=kwargs.pop("reason", _reason(status)),
            **kwargs,
        )

    # -- convenience -------------------------------------------------------
    def header(self, name: str, default: str | None = None) -> str | None:
        """The first response header ``name`` (case-insensitive)."""
        return header(self.response_headers, name, default)

    def request_header(self, name: str, default: str | None = None) -> str | None:
        """The first request header ``name`` (case-insensitive)."""
        return header(self.request_headers, name, default)

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def from_cache(self) -> bool:
        return bool(self.cache and self.cache.get("from_cache"))

    def replace(self, **changes) -> "Exchange":
        return replace(self, **changes)

    # -- plain data --------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready: header pairs as lists, bodies as text or base64."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_headers"):
                value = [[k, v] for k, v in value]
            elif f.name.endswith("_body"):
                value = _encode_body(value)
            elif isinstance(value, dict):
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, doc: dict) -> "Exchange":
        names = {f.name for f in fields(cls)}
        unknown = set(doc) - names
        if unknown:
            raise ValueError(f"not an exchange: unknown keys {sorted(unknown)}")
        kwargs = dict(doc)
        for key in ("request_headers", "response_headers"):
            if key in kwargs:
                kwargs[key] = [(str(k), str(v)) for k, v in kwargs[key]]
        for key in ("request_body", "response_body"):
            if key in kwargs:
                kwargs[key] = _decode_body(kwargs[key])
        return cls(**kwargs)

    def __repr__(self) -> str:
        # A URL's userinfo and token parameters are credentials too.
        where = f" [{self.error}]" if self.error else ""
        return f"<Exchange #{self.id} {self.method} {redact_url(self.url)} -> {self.status} {self.reason}{where}>"


def _pairs(headers) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, dict) else headers
    return [(str(k).lower(), str(v)) for k, v in items]


def _encode_body(body: bytes) -> dict:
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        import base64

        return {"base64": base64.b64encode(body).decode("ascii")}


def _decode_body(value) -> bytes:
    if isinstance(value, dict):
        if "text" in value:
            return value["text"].encode("utf-8")
        if "base64" in value:
            import base64

            return base64.b64decode(value["base64"])
    raise ValueError(f"not an encoded body: {value!r}")
