"""``/status/{code}``: any final status, with a diagnostic body describing the exchange."""

from __future__ import annotations

import json
from functools import lru_cache
from urllib.parse import parse_qsl

from ..core import (
    DEFAULT_REDACTION,
    InvalidStatus,
    Request,
    Response,
    parse_status,
    problem,
    status_info,
)

__all__ = ["StatusRoute"]

# Teaching notes the registry cannot give: where the code's own RFC says how
# it must (not) be used. Keyed by code; shown in the diagnostic body.
NOTES = {
    401: "Bare on purpose: a real 401 MUST carry WWW-Authenticate (RFC 9110 section 11.6.1).",
    407: "Bare on purpose: a real 407 MUST carry Proxy-Authenticate (RFC 9110 section 11.7.1).",
    511: (
        "Sent by an origin server, which RFC 6585 section 6 says SHOULD NOT happen: "
        "511 belongs to intercepting proxies (captive portals) that control network access."
    ),
}


class StatusRoute:
    """Answers ``/status/{code}`` for every method."""

    def __call__(self, request: Request) -> Response:
        # Everything but the request id is memoised per request shape (a load
        # test or a retry loop repeats one request): only the id is new per call.
        key = (request.method, request.path, request.query, tuple(request.headers))
        revision = DEFAULT_REDACTION.revision
        try:
            memo = _SHAPES.get(key)
        except TypeError:  # header pairs given as lists: the same pairs, as tuples
            key = key[:3] + (tuple(map(tuple, request.headers)),)
            memo = _SHAPES.get(key)
        if memo is None or memo[0] != revision:
            try:
                memo = (revision, *_shape(*key))
            except InvalidStatus as exc:
                return problem(
                    400,
                    exc.detail,
                    title="Invalid status code",
                    instance=request.path,
                    type="https://www.rfc-editor.org/rfc/rfc9110#section-15",
                    rfc=exc.rfc,
                )
            if len(_SHAPES) >= _MAX_SHAPES:
                _SHAPES.clear()  # bounded: any client may send any request
            _SHAPES[key] = memo
        _, code, headers, head = memo
        rid = request.id
        if rid.isalnum():  # a generated id, or a plain one: nothing to escape
            return Response(code, list(headers), b'%s"%s"}\n' % (head, rid.encode()))
        return Response(code, list(headers), head + json.dumps(rid).encode() + b"}\n")


# _shape's answers by (method, path, query, header fields), each with the
# redaction policy's revision it was made under
# (:attr:`~labkit.core.RedactionPolicy.revision`), so a new secret pattern is
# never served from the memo.
_SHAPES: dict[tuple, tuple[int, int, tuple[tuple[str, str], ...], bytes]] = {}
_MAX_SHAPES = 256


def _shape(method: str, path: str, query: str, fields: tuple[tuple[str, str], ...],
           ) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    """The status, headers and body up to the request id's value, for one request shape."""
    code = parse_status(path[len("/status/"):])
    fixed, headers = _fixed_part(code)
    echo = _echo(method, path, query, fields)
    return code, headers, f'{{{fixed}, "request": {echo}, "request_id": '.encode()


def _echo(method: str, path: str, query: str, fields: tuple[tuple[str, str], ...]) -> str:
    """The request as JSON, as the engine's one policy lets it be shown.

    The echo is a display like any other: :data:`~labkit.core.DEFAULT_REDACTION`
    decides what it must not repeat (headers, query fields, credential path
    segments).
    """
    policy = DEFAULT_REDACTION
    headers: dict[str, str] = {}
    for name, value in policy.redact_headers(fields):
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    query_params = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    return json.dumps({
        "method": method,
        "path": policy.redact_url(path),
        "query": dict(policy.redact_fields(query_params.items())),
        "headers": headers,
    })


@lru_cache(maxsize=None)
def _fixed_part(code: int) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The JSON members and headers that depend on the code alone."""
    info = status_info(code)
    doc = {"status": code, "reason": info.reason, "meaning": info.meaning, "class": info.klass}
    if code in NOTES:
        doc["note"] = NOTES[code]
    headers = [("content-type", "application/json")]
    if code >= 400:
        # Errors must not outlive the exchange in a cache (RFC 9111 section 5.2.2.5).
        headers.append(("cache-control", "no-store"))
    return json.dumps(doc)[1:-1], tuple(headers)

