"""Redaction of a whole exchange, by the engine's one policy (``labkit.core.RedactionPolicy``).

Every display and export of the Inspector goes through :func:`redact_exchange`;
what counts as a credential is decided in ``labkit.core`` alone, so the
origin's diagnostic echo and the exports can never disagree.
"""

from __future__ import annotations

from ..core import DEFAULT_REDACTION, RedactionPolicy, header
from ._exchange import Exchange

__all__ = ["redact_exchange"]


def redact_exchange(ex: Exchange, policy: RedactionPolicy | None = None) -> Exchange:
    """A copy of ``ex`` with credentials replaced by ``[redacted]``.

    URL (userinfo, query, credential path segments), the proxy URL, request
    and response headers, and both bodies by their own ``Content-Type``. ``policy``
    defaults to :data:`labkit.core.DEFAULT_REDACTION`.
    """
    policy = policy or DEFAULT_REDACTION
    return ex.replace(
        url=policy.redact_url(ex.url),
        proxy=policy.redact_url(ex.proxy) if ex.proxy else ex.proxy,
        request_headers=policy.redact_headers(ex.request_headers),
        request_body=policy.redact_body(ex.request_body, header(ex.request_headers, "content-type")),
        response_headers=policy.redact_headers(ex.response_headers),
        response_body=policy.redact_body(ex.response_body, header(ex.response_headers, "content-type")),
    )
