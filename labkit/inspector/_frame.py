"""Captures as pandas DataFrames (pandas is imported here, on first use)."""

from __future__ import annotations

from ..core import RedactionPolicy
from ._attribution import attribute
from ._exchange import Exchange
from ._redaction import redact_exchange

__all__ = ["exchanges_to_dataframe", "findings_frame"]

COLUMNS = [
    "id", "flow", "step", "method", "url", "status", "reason", "answered_by", "generated_by",
    "location", "content_type", "cache_control", "from_cache", "transport", "proxy",
    "wait_ms", "total_ms", "request_headers", "response_headers", "response_body", "error",
]


def exchanges_to_dataframe(exchanges: list[Exchange], *, redact: bool = True,
                           policy: RedactionPolicy | None = None):
    import pandas as pd

    rows = []
    for ex in exchanges:
        if redact:
            ex = redact_exchange(ex, policy)
        who = attribute(ex)
        rows.append({
            "id": ex.id, "flow": ex.flow, "step": ex.step, "method": ex.method, "url": ex.url,
            "status": ex.status, "reason": ex.reason,
            "answered_by": who.answered_by, "generated_by": who.generated_by,
            "location": ex.header("location"), "content_type": ex.header("content-type"),
            "cache_control": ex.header("cache-control"), "from_cache": ex.from_cache,
            "transport": ex.transport, "proxy": ex.proxy,
            "wait_ms": ex.timings.get("wait"), "total_ms": ex.timings.get("total"),
            "request_headers": dict(ex.request_headers), "response_headers": dict(ex.response_headers),
            "response_body": ex.response_body.decode("utf-8", "replace"), "error": ex.error,
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def findings_frame(findings):
    """Findings as a pandas DataFrame, one row each, most serious first.

    Findings carry no credentials: :func:`labkit.inspector.inspect` lints the
    redacted exchange.
    """
    import pandas as pd

    return pd.DataFrame([f.to_dict() for f in findings],
                        columns=["level", "id", "summary", "rfc", "source", "subject", "explanation"])
