"""IMF-fixdate (RFC 9110 section 5.6.7) from any clock, cached per second."""

from __future__ import annotations

from email.utils import formatdate

__all__ = ["http_date"]

_last: tuple[int, str] = (-1, "")


def http_date(timestamp: float) -> str:
    global _last
    second = int(timestamp)
    if _last[0] != second:
        _last = (second, formatdate(second, usegmt=True))
    return _last[1]
