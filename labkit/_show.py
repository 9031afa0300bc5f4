"""Print an exchange the way ``curl -v`` would, credentials redacted."""

from __future__ import annotations

import json

import httpx

from .core import redact_headers

__all__ = ["format_exchange", "show"]

_BODY_LIMIT = 2000


def _body(content: bytes, content_type: str) -> str:
    if not content:
        return ""
    if "json" in content_type:
        try:
            return json.dumps(json.loads(content), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    text = content.decode("utf-8", "replace")
    if len(text) > _BODY_LIMIT:
        text = text[:_BODY_LIMIT] + f"\n... ({len(content) - _BODY_LIMIT} more bytes)"
    return text


def format_exchange(response: httpx.Response, *, request_body: bool = True) -> str:
    """The request (``>`` lines) and response (``<`` lines) as text.

    ``Authorization``, ``Proxy-Authorization``, ``Cookie`` and ``Set-Cookie``
    values are redacted (see :func:`labkit.core.redact_headers`).
    """
    request = response.request
    target = request.url.raw_path.decode("ascii")
    lines = [f"> {request.method} {target} HTTP/1.1"]
    lines += [f"> {k}: {v}" for k, v in redact_headers(
        (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw)]
    if request_body and request.content:
        lines += [">", *(f"> {line}" for line in _body(request.content, request.headers.get("content-type", "")).splitlines())]
    lines.append(">")
    lines.append(f"< {response.http_version} {response.status_code} {response.reason_phrase}".rstrip())
    lines += [f"< {k}: {v}" for k, v in redact_headers(response.headers.multi_items())]
    lines.append("<")
    body = _body(response.content, response.headers.get("content-type", ""))
    if body:
        lines.append(body)
    return "\n".join(lines)


def show(response: httpx.Response) -> None:
    """Print :func:`format_exchange` of ``response``."""
    print(format_exchange(response))
