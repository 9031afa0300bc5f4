"""What a status code means, from the standard library's registry.

Reason phrases and one-line meanings come from :class:`http.HTTPStatus`
(the IANA registry), never from a hand-written table, except where its
description contradicts RFC 9110: those few are corrected below, with the
section they come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus

__all__ = ["StatusInfo", "InvalidStatus", "status_info", "parse_status"]

_CLASSES = {
    1: "Informational",
    2: "Successful",
    3: "Redirection",
    4: "Client Error",
    5: "Server Error",
}


# http.HTTPStatus keeps RFC 2616's "Request forbidden -- authorization will not
# help"; RFC 9110 section 15.5.4 says the client "MAY repeat the request with new
# or different credentials".
_CORRECTED = {
    403: "The server understood the request but refuses to fulfill it; other credentials "
         "may be accepted (RFC 9110 section 15.5.4).",
}


class InvalidStatus(ValueError):
    """A status code the simulator cannot send, with the reason why."""

    def __init__(self, text: str, detail: str, rfc: str) -> None:
        super().__init__(detail)
        self.text = text
        self.detail = detail
        self.rfc = rfc


@dataclass(frozen=True, slots=True)
class StatusInfo:
    code: int
    reason: str  # "" for an unregistered code, as on the wire
    meaning: str
    klass: str
    registered: bool


@lru_cache(maxsize=None)
def status_info(code: int) -> StatusInfo:
    """Reason phrase, meaning and class of ``code`` (100-599)."""
    klass = _CLASSES[code // 100]
    try:
        status = HTTPStatus(code)
    except ValueError:
        # RFC 9110 section 15: an unrecognised code is treated as x00 of its class.
        base = HTTPStatus(code // 100 * 100)
        return StatusInfo(
            code,
            "",
            f"Unregistered code: clients must treat it as {base.value} {base.phrase} "
            "(RFC 9110 section 15).",
            klass,
            False,
        )
    meaning = _CORRECTED.get(code, status.description + ".")
    return StatusInfo(code, status.phrase, meaning, klass, True)


def parse_status(text: str) -> int:
    """Turn ``text`` into a final status code, or raise :class:`InvalidStatus`."""
    if not (text.isascii() and text.isdigit()) or len(text) != 3:
        raise InvalidStatus(
            text,
            f"{text!r} is not a status code: a status code is a three-digit integer "
            "from 100 to 599.",
            "RFC 9110 section 15",
        )
    code = int(text)
    if not 100 <= code <= 599:
        raise InvalidStatus(
            text,
            f"{code} is outside the range of status codes (100-599); "
            "the first digit names the class and only 1-5 are defined.",
            "RFC 9110 section 15",
        )
    if code < 200:
        raise InvalidStatus(
            text,
            f"{code} is an informational (1xx) status: an interim response sent "
            "before the final one, so it can never end an exchange. Ask for a "
            "final status from 200 to 599.",
            "RFC 9110 section 15.2",
        )
    return code
