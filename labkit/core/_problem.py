"""JSON answers: plain documents, and errors as data (``application/problem+json``, RFC 9457)."""

from __future__ import annotations

import json
from http import HTTPStatus

from ._models import Response

__all__ = ["PROBLEM_JSON", "json_response", "problem"]

PROBLEM_JSON = "application/problem+json"


def json_response(status: int, doc: object, *, headers: list[tuple[str, str]] | None = None,
                  indent: int | None = None, no_store: bool = True) -> Response:
    """A JSON document as a response; ``Cache-Control: no-store`` unless ``no_store=False``.

    The lab's JSON answers describe one client's state (a counter, a token, a
    record version), which no cache should hand to anyone else (RFC 9111 section 5.2.2.5).
    """
    out = [("content-type", "application/json")]
    if no_store:
        out.append(("cache-control", "no-store"))
    body = json.dumps(doc, indent=indent).encode() + b"\n"
    return Response(status, out + list(headers or ()), body)


def problem(
    status: int,
    detail: str,
    *,
    type: str = "about:blank",
    title: str | None = None,
    instance: str | None = None,
    headers: list[tuple[str, str]] | None = None,
    **extensions: object,
) -> Response:
    """A problem details response (RFC 9457 section 3).

    With ``type`` left as ``about:blank`` the title must be the status's
    reason phrase (RFC 9457 section 4.2.1), so it is filled in for you.
    """
    doc: dict[str, object] = {
        "type": type,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        doc["instance"] = instance
    doc.update(extensions)
    body = json.dumps(doc, indent=2).encode() + b"\n"
    out = [("content-type", PROBLEM_JSON), ("cache-control", "no-store")]
    return Response(status, out + list(headers or ()), body)
