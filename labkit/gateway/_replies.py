"""What every answer the gateway writes itself has in common.

Its own pages are never stored (``Cache-Control: no-store``), and a client
that asks for JSON gets problem details (RFC 9457) instead of HTML.
"""

from __future__ import annotations

from ..core import GATEWAY_NAME, Response, problem

__all__ = ["SERVER", "html", "not_allowed", "wants_json"]

SERVER = GATEWAY_NAME


def html(status: int, body: bytes) -> Response:
    return Response(
        status, [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store")], body
    )


def not_allowed(allow: str) -> Response:
    # A 405 MUST list the methods the resource does allow (RFC 9110 section 15.5.6).
    return problem(405, f"This portal page accepts {allow}.", headers=[("allow", allow)])


def wants_json(accept: str | None) -> bool:
    """A client that asks for JSON (and not HTML) gets problem+json."""
    if not accept:
        return False
    accept = accept.lower()
    return "json" in accept and "text/html" not in accept
