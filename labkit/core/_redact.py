"""Credentials never leave the simulator in clear text when shown or exported."""

from __future__ import annotations

from typing import Iterable

__all__ = ["REDACTED", "SENSITIVE_HEADERS", "redact_headers"]

REDACTED = "[redacted]"
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie"}
)


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A copy of ``headers`` with credential-bearing values replaced.

    The scheme (``Basic``, ``Bearer``) is kept: it tells the learner what was
    sent without revealing it.
    """
    out = []
    for name, value in headers:
        if name.lower() in SENSITIVE_HEADERS:
            scheme, _, rest = value.partition(" ")
            if name.lower().endswith("authorization") and rest:
                value = f"{scheme} {REDACTED}"
            else:
                value = REDACTED
        out.append((name, value))
    return out
