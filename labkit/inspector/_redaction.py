"""Redaction: credentials never leave a capture in clear text by default.

Headers go through ``labkit.core.redact_headers`` (Authorization,
Proxy-Authorization, Cookie, Set-Cookie); URLs and bodies through the
scrubbers of ``_scrub`` (credential-named fields, userinfo).
"""

from __future__ import annotations

from ..core import redact_headers
from ._exchange import Exchange
from ._scrub import redact_body, redact_url

__all__ = ["redact_exchange"]


def redact_exchange(ex: Exchange) -> Exchange:
    """A copy of ``ex`` with credentials replaced by ``[redacted]``."""
    return ex.replace(
        url=redact_url(ex.url),
        request_headers=redact_headers(ex.request_headers),
        request_body=redact_body(ex.request_body, ex.request_headers),
        response_headers=redact_headers(ex.response_headers),
        response_body=redact_body(ex.response_body, ex.response_headers),
    )
