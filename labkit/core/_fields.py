"""The header fields the engine reads, parsed once for the origin, the gateway,
the Inspector and the retry policy alike.

Headers are kept as ``(name, value)`` pairs of ``str`` everywhere in labkit:
field values are bytes on the wire, and RFC 9110 section 5.5 says that
historically they were ISO-8859-1, so every edge decodes them as latin-1,
which maps each byte to one character and back without loss.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import re
import time
from typing import Iterable

__all__ = [
    "GATEWAY_NAME",
    "ORIGIN_NAME",
    "VIA_GATEWAY",
    "basic_credentials",
    "basic_header",
    "cache_directives",
    "decode_pairs",
    "encode_pairs",
    "header",
    "header_values",
    "media_type",
    "parse_http_date",
    "parse_retry_after",
    "parse_sf_string",
    "sf_string",
]

# The names the lab's hops give themselves, in Server and Via (RFC 9110
# sections 10.2.4 and 7.6.3), so an exchange can be attributed to one of them.
ORIGIN_NAME = "labkit-origin"
GATEWAY_NAME = "labkit-gateway"
VIA_GATEWAY = f"1.1 {GATEWAY_NAME}"

Pairs = Iterable[tuple[str, str]]


def decode_pairs(raw: Iterable[tuple[bytes, bytes]], *, lower: bool = True) -> list[tuple[str, str]]:
    """Wire header pairs as ``str`` pairs (latin-1, lossless); names lower-cased by default."""
    if lower:
        return [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw]
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]


def encode_pairs(pairs: Pairs, *, errors: str = "strict") -> list[tuple[bytes, bytes]]:
    """``str`` header pairs as wire bytes (latin-1), the inverse of :func:`decode_pairs`."""
    if errors == "strict":  # the servers' hot path: a constant argument is cheaper
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]
    return [(k.encode("latin-1", errors), v.encode("latin-1", errors)) for k, v in pairs]


def header(pairs: Pairs, name: str, default: str | None = None) -> str | None:
    """The first value of field ``name`` (case-insensitive, RFC 9110 section 5.1), or ``default``."""
    name = name.lower()
    for key, value in pairs:
        if key.lower() == name:
            return value
    return default


def header_values(pairs: Pairs, name: str) -> list[str]:
    """Every value of field ``name``, in order."""
    name = name.lower()
    return [value for key, value in pairs if key.lower() == name]


def media_type(value: str | None) -> str:
    """The media type of a Content-Type value, lower-cased, without parameters (RFC 9110 section 8.3.1)."""
    return (value or "").split(";", 1)[0].strip().lower()


def cache_directives(value: str | None) -> dict[str, str | None]:
    """Cache-Control as a dict (RFC 9111 section 5.2): directive -> argument or None."""
    out: dict[str, str | None] = {}
    for part in (value or "").split(","):
        name, eq, arg = part.strip().partition("=")
        if name:
            out[name.strip().lower()] = arg.strip().strip('"') if eq else None
    return out


def basic_credentials(value: str | None) -> tuple[str, str] | None:
    """``(user, password)`` from an ``Authorization``/``Proxy-Authorization`` Basic value, or None.

    RFC 7617 section 2: the token is base64 of ``user-id ":" password``; the
    user-id cannot contain a colon, so the first colon splits them. UTF-8 is
    the charset RFC 7617 section 2.1 lets a server announce; a value that is
    not valid base64 or UTF-8 is no credential at all.
    """
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password


def basic_header(user: str, password: str) -> str:
    """An ``Authorization``/``Proxy-Authorization`` Basic value, the inverse of
    :func:`basic_credentials` (RFC 7617 section 2, UTF-8 as section 2.1 allows)."""
    if ":" in user:
        raise ValueError("RFC 7617 section 2: a Basic user-id cannot contain a colon")
    return "Basic " + base64.b64encode(f"{user}:{password}".encode("utf-8")).decode("ascii")


# -- Structured Field Strings (RFC 8941 sections 3.3.3 and 4.2.5, now RFC 9651) --
# sf-string = DQUOTE *chr DQUOTE; chr = unescaped / escaped: printable ASCII
# only, with '"' and '\' escaped by a backslash. The Idempotency-Key draft
# makes its field an Item whose value MUST be such a String.
_SF_PRINTABLE = re.compile(r"[\x20-\x7e]*")


def sf_string(value: str) -> str:
    """``value`` serialized as a Structured Field String: in double quotes, with
    ``"`` and ``\\`` escaped (RFC 8941 section 4.1.6). Only printable ASCII fits."""
    if not _SF_PRINTABLE.fullmatch(value):
        raise ValueError("a Structured Field String holds printable ASCII only (RFC 8941 section 3.3.3)")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_sf_string(text: str | None) -> str | None:
    """The value of a field that is one Structured Field String Item, or None if it is not.

    Follows RFC 8941 section 4.2.5: surrounding spaces are dropped, a backslash
    may escape only ``"`` or ``\\``, and every character must be printable ASCII.
    Parameters after the String (``;name=value``, section 3.1.2) are allowed
    and ignored.
    """
    if text is None:
        return None
    text = text.strip(" ")
    if not text.startswith('"'):
        return None
    out: list[str] = []
    i = 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text) or text[i + 1] not in '"\\':
                return None
            out.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            rest = text[i + 1:]
            return "".join(out) if rest == "" or rest.startswith(";") else None
        if not " " <= ch <= "~":
            return None
        out.append(ch)
        i += 1
    return None  # no closing quote


# -- HTTP-date (RFC 9110 section 5.6.7) ----------------------------------------
# "A recipient that parses a timestamp value in an HTTP field MUST accept all
# three HTTP-date formats." Every form is in GMT, whatever the machine's zone,
# so the arithmetic below never consults the local time zone.
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_TIME = r"(\d{2}):(\d{2}):(\d{2})"
_IMF_FIXDATE = re.compile(
    r"(?:mon|tue|wed|thu|fri|sat|sun), (\d{2}) ([a-z]{3}) (\d{4}) " + _TIME + r" gmt")
_RFC850 = re.compile(
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday), (\d{2})-([a-z]{3})-(\d{2}) "
    + _TIME + r" gmt")
_ASCTIME = re.compile(
    r"(?:mon|tue|wed|thu|fri|sat|sun) ([a-z]{3}) ([ \d]\d) " + _TIME + r" (\d{4})")
# Far enough for any real Retry-After or Expires; beyond it a value is noise.
_MAX_YEAR = 9999


def _timestamp(year: int, month: int, day: int, hh: int, mm: int, ss: int) -> float | None:
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
            and hh <= 23 and mm <= 59 and ss <= 60 and 1 <= year <= _MAX_YEAR):
        return None
    return float(calendar.timegm((year, month, day, hh, mm, ss, 0, 0, 0)))


def parse_http_date(value: str | None, *, now: float | None = None,
                    obsolete: bool = True) -> float | None:
    """Seconds since the epoch (UTC) of an HTTP-date, or None if ``value`` is not one.

    Accepts IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``) and, unless
    ``obsolete=False``, the two obsolete forms RFC 9110 section 5.6.7 says a
    recipient MUST accept: rfc850-date (``Sunday, 06-Nov-94 08:49:37 GMT``) and
    asctime-date (``Sun Nov  6 08:49:37 1994``). For rfc850's two-digit year the
    section says a recipient "MUST interpret a timestamp that appears to be more
    than 50 years in the future as representing the most recent year in the past
    that had the same last two digits"; ``now`` is the clock that decides it.
    """
    if not value or len(value) > 64:
        return None
    text = value.strip().lower()
    if m := _IMF_FIXDATE.fullmatch(text):
        day, mon, year, hh, mi, ss = m.groups()
    elif obsolete and (m := _ASCTIME.fullmatch(text)):
        mon, day, hh, mi, ss, year = m.groups()
    elif obsolete and (m := _RFC850.fullmatch(text)):
        day, mon, yy, hh, mi, ss = m.groups()
        current = _year_of(now)
        year = current - current % 100 + int(yy)
        if year > current + 50:
            year -= 100
    else:
        return None
    month = _MONTHS.get(mon)
    if month is None:
        return None
    return _timestamp(int(year), month, int(day), int(hh), int(mi), int(ss))


def _year_of(now: float | None) -> int:
    return time.gmtime(time.time() if now is None else now).tm_year


# -- Retry-After (RFC 9110 section 10.2.3) --------------------------------------
# Retry-After = HTTP-date / delay-seconds; delay-seconds = 1*DIGIT.
# More digits than this is a value no client could wait for.
_MAX_DELAY_DIGITS = 12


def parse_retry_after(value: str | None, *, now: float | None = None,
                      date: str | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, or None when it cannot be used.

    delay-seconds (a non-negative decimal integer) is returned as is. An
    HTTP-date (any of the three forms) is measured from ``now`` (the client's
    clock, seconds since the epoch) or, failing that, from the response's own
    ``Date`` field (``date``), which also avoids skew between the two clocks;
    with neither, a date cannot be turned into a wait and the result is None.
    A date in the past means 0. Anything else, including absurdly long
    numbers, is ignored (None), never an exception.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        if len(value) > _MAX_DELAY_DIGITS:
            return None
        return float(int(value))
    when = parse_http_date(value, now=now)
    if when is None:
        return None
    if now is None:
        now = parse_http_date(date)
        if now is None:
            return None
    return max(0.0, when - now)
