"""Export: HAR 1.2 (browser developer tools), curl commands, and lossless JSON.

Every export redacts credentials by :data:`labkit.core.DEFAULT_REDACTION`
(or ``policy=``) unless ``redact=False`` is passed.
"""

from __future__ import annotations

import json
import shlex
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

from .._version import __version__
from ..core import DEFAULT_REDACTION, RedactionPolicy
from ._attribution import attribute
from ._exchange import Exchange
from ._redaction import redact_exchange

__all__ = ["from_har", "from_json", "to_curl", "to_har", "to_json"]

JSON_FORMAT = "labkit-capture/1"


def _exchanges(items) -> list[Exchange]:
    # One exchange, or any iterable of them (a Capture iterates its exchanges).
    return [items] if isinstance(items, Exchange) else list(items)


def _prepare(items, redact: bool, policy: RedactionPolicy | None = None) -> list[Exchange]:
    exchanges = _exchanges(items)
    return [redact_exchange(ex, policy) for ex in exchanges] if redact else exchanges


# -- JSON ------------------------------------------------------------------
def to_json(items, *, redact: bool = True, indent: int | None = 1,
            policy: RedactionPolicy | None = None) -> str:
    """A JSON document that :func:`from_json` loads back into equal exchanges."""
    doc = {"format": JSON_FORMAT, "redacted": redact,
           "exchanges": [ex.to_dict() for ex in _prepare(items, redact, policy)]}
    return json.dumps(doc, indent=indent, ensure_ascii=False)


def from_json(text: str | bytes) -> list[Exchange]:
    """Exchanges from :func:`to_json`'s output (a clear ValueError for anything else)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not a labkit capture: invalid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != JSON_FORMAT:
        raise ValueError(f"not a labkit capture: expected a document with format {JSON_FORMAT!r}")
    return [Exchange.from_dict(item) for item in doc["exchanges"]]


# -- HAR 1.2 ---------------------------------------------------------------
def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _nv(pairs) -> list[dict]:
    return [{"name": k, "value": v} for k, v in pairs]


def _cookies(headers, name: str) -> list[dict]:
    out = []
    for k, v in headers:
        if k.lower() != name:
            continue
        parts = v.split(";") if name == "set-cookie" else v.split(";")
        for part in parts[:1] if name == "set-cookie" else parts:
            key, _, value = part.strip().partition("=")
            if key:
                out.append({"name": key, "value": value})
    return out


def _header_size(first_line: str, headers) -> int:
    return len(first_line) + 2 + sum(len(k) + 2 + len(v) + 2 for k, v in headers) + 2


def _content(ex: Exchange) -> dict:
    mime = ex.header("content-type") or "x-unknown"
    content = {"size": len(ex.response_body), "mimeType": mime}
    try:
        content["text"] = ex.response_body.decode("utf-8")
    except UnicodeDecodeError:
        import base64

        content["text"] = base64.b64encode(ex.response_body).decode("ascii")
        content["encoding"] = "base64"
    return content


def _entry(ex: Exchange) -> dict:
    parts = urlsplit(ex.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = {
        "method": ex.method,
        "url": ex.url,
        "httpVersion": ex.http_version,
        "cookies": _cookies(ex.request_headers, "cookie"),
        "headers": _nv(ex.request_headers),
        "queryString": _nv(parse_qsl(parts.query, keep_blank_values=True)),
        "headersSize": _header_size(f"{ex.method} {target} {ex.http_version}", ex.request_headers),
        "bodySize": len(ex.request_body),
    }
    if ex.request_body:
        request["postData"] = {
            "mimeType": ex.request_header("content-type") or "application/octet-stream",
            "text": ex.request_body.decode("utf-8", "replace"),
        }
    response = {
        "status": ex.status,
        "statusText": ex.reason,
        "httpVersion": ex.http_version,
        "cookies": _cookies(ex.response_headers, "set-cookie"),
        "headers": _nv(ex.response_headers),
        "content": _content(ex),
        "redirectURL": ex.header("location") or "",
        "headersSize": _header_size(f"{ex.http_version} {ex.status} {ex.reason}", ex.response_headers)
        if ex.status else -1,
        "bodySize": len(ex.response_body) if ex.status else -1,
    }
    t = ex.timings
    wait, receive = t.get("wait", 0.0), t.get("receive", 0.0)
    entry = {
        "startedDateTime": _iso(ex.started),
        "time": round(wait + receive, 3),
        "request": request,
        "response": response,
        "cache": {},
        # HAR 1.2: send/wait/receive are required; -1 marks phases we cannot see.
        "timings": {"blocked": -1, "dns": -1, "connect": -1, "send": 0, "wait": wait,
                    "receive": receive, "ssl": -1},
        "comment": "",
    }
    attribution = attribute(ex)
    entry["_labkit"] = {  # custom fields start with "_" (HAR 1.2, "Custom fields")
        "id": ex.id, "flow": ex.flow, "step": ex.step, "transport": ex.transport,
        "proxy": ex.proxy, "cache": ex.cache, "error": ex.error,
        "answered_by": attribution.answered_by, "generated_by": attribution.generated_by,
    }
    if ex.from_cache:
        entry["cache"] = {"beforeRequest": {"lastAccess": _iso(ex.started), "eTag": ex.header("etag") or "",
                                            "hitCount": 1}}
    return entry


def to_har(items, *, redact: bool = True, policy: RedactionPolicy | None = None) -> dict:
    """A HAR 1.2 document (``json.dump`` it to a ``.har`` file; browsers' developer tools open it)."""
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "labkit", "version": __version__},
            "entries": [_entry(ex) for ex in _prepare(items, redact, policy)],
        }
    }


def _parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _pairs(items) -> list[tuple[str, str]]:
    # Browsers' HTTP/2 entries carry pseudo-headers (":status"); they are not fields.
    return [(h["name"].lower(), h["value"]) for h in items or [] if not h["name"].startswith(":")]


def from_har(doc: dict | str) -> list[Exchange]:
    """Exchanges from a HAR 1.2 document: ours, or one saved by a browser's developer tools.

    What HAR carries comes back exactly (method, URL, status, headers, bodies,
    labkit's own ``_labkit`` fields); ``started`` keeps HAR's millisecond
    precision and ``timings`` its send/wait/receive.
    """
    import base64

    if isinstance(doc, (str, bytes)):
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise ValueError(f"not a HAR document: invalid JSON ({exc})") from None
    try:
        entries = doc["log"]["entries"]
    except (TypeError, KeyError):
        raise ValueError("not a HAR document: expected {'log': {'entries': [...]}}") from None
    out = []
    for n, entry in enumerate(entries, 1):
        req, res = entry["request"], entry["response"]
        content = res.get("content") or {}
        text = content.get("text") or ""
        body = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode("utf-8")
        post = req.get("postData") or {}
        extra = entry.get("_labkit") or {}
        t = entry.get("timings") or {}
        wait, receive = max(0.0, float(t.get("wait", 0))), max(0.0, float(t.get("receive", 0)))
        out.append(Exchange(
            method=req["method"],
            url=req["url"],
            status=int(res["status"]),
            request_headers=_pairs(req.get("headers")),
            request_body=(post.get("text") or "").encode("utf-8"),
            response_headers=_pairs(res.get("headers")),
            response_body=body if res["status"] else b"",
            reason=res.get("statusText", ""),
            http_version=res.get("httpVersion") or req.get("httpVersion") or "HTTP/1.1",
            started=_parse_iso(entry["startedDateTime"]),
            timings={"wait": wait, "receive": receive, "total": round(wait + receive, 3)},
            flow=extra.get("flow", n),
            step=extra.get("step", 0),
            transport=extra.get("transport", "har"),
            proxy=extra.get("proxy"),
            cache=extra.get("cache"),
            error=extra.get("error"),
            id=extra.get("id", n),
        ))
    return out


# -- curl ------------------------------------------------------------------
# Headers curl computes itself; repeating them would only mislead.
_CURL_SKIP = {"host", "content-length", "accept-encoding", "connection", "user-agent", "accept"}


def to_curl(exchange: Exchange, *, redact: bool = True, proxy: str | None = None,
            policy: RedactionPolicy | None = None) -> str:
    """The request as a ``curl`` command line (POSIX shell quoting)."""
    ex = redact_exchange(exchange, policy) if redact else exchange
    args = ["curl", "-i"]
    if ex.method == "HEAD":
        args.append("--head")
    elif ex.method != "GET" and not (ex.method == "POST" and ex.request_body):
        args += ["-X", ex.method]  # --data-binary alone already means POST
    for name, value in ex.request_headers:
        if name.lower() not in _CURL_SKIP:
            args += ["-H", f"{name}: {value}"]
    if ex.request_body:
        args += ["--data-binary", ex.request_body.decode("utf-8", "replace")]
    proxy = proxy or ex.proxy
    if proxy:
        args += ["--proxy", (policy or DEFAULT_REDACTION).redact_url(proxy) if redact else proxy]
    args.append(ex.url)
    return " ".join(shlex.quote(a) for a in args)
