"""Message framing applied at every edge, so both transports send the same bytes.

Handlers produce content; this decides what may go on the wire.
"""

from __future__ import annotations

from ._models import Response

__all__ = ["frame"]


def frame(response: Response, method: str) -> Response:
    """Apply RFC 9110's body rules to ``response`` for a request of ``method``.

    - 204 and 304 never carry content, nor (204) Content-Length
      (RFC 9110 sections 15.3.5, 15.4.5, 8.6).
    - 205 carries no content either: "a server MUST NOT generate content in a
      205 response" (RFC 9110 section 15.3.6); it says so with Content-Length: 0.
    - A HEAD response carries the GET's headers, Content-Length included,
      but no content (RFC 9110 section 9.3.2).
    - Everything else gets an exact Content-Length, so no chunking is needed.
    """
    status = response.status
    if status == 204 or status == 304:
        response.body = b""
        response.without_headers(("content-length", "content-type"))
        return response
    if status == 205:
        response.body = b""
        response.without_headers(("content-length", "content-type"))
        response.headers.append(("content-length", "0"))
        return response
    headers = response.headers
    for name, _ in headers:
        if name == "content-length":
            break
    else:
        headers.append(("content-length", str(len(response.body))))
    if method == "HEAD":
        response.body = b""
    return response
