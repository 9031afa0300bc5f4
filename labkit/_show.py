"""Print an exchange the way ``curl -v`` would, credentials redacted."""

from __future__ import annotations

import httpx

from .core import RedactionPolicy
from .inspector._httpx import exchange_from_response
from .inspector._report import format_record

__all__ = ["format_exchange", "show"]


def format_exchange(response: httpx.Response, *, request_body: bool = True,
                    policy: RedactionPolicy | None = None) -> str:
    """The request (``>`` lines) and response (``<`` lines) of ``response`` as text.

    The Inspector's own view of one exchange (``labkit.inspector._report.format_record``),
    redacted like every export (:data:`labkit.core.DEFAULT_REDACTION`, or
    ``policy``). ``request_body=False`` leaves the request's content out.
    """
    exchange = exchange_from_response(response)
    if not request_body:
        exchange = exchange.replace(request_body=b"")
    return format_record(exchange, policy=policy)


def show(response: httpx.Response) -> None:
    """Print :func:`format_exchange` of ``response``."""
    print(format_exchange(response))
