"""The sans-IO core: plain request/response objects, clocks, errors as data."""

from ._clock import Clock, RealClock, VirtualClock
from ._framing import frame
from ._httpdate import http_date
from ._models import Disconnect, Handler, Request, Response, Stall
from ._problem import PROBLEM_JSON, problem
from ._redact import REDACTED, SENSITIVE_HEADERS, redact_headers
from ._status import InvalidStatus, StatusInfo, parse_status, status_info

__all__ = [
    "Clock",
    "Disconnect",
    "Handler",
    "InvalidStatus",
    "PROBLEM_JSON",
    "REDACTED",
    "RealClock",
    "Request",
    "Response",
    "SENSITIVE_HEADERS",
    "Stall",
    "StatusInfo",
    "VirtualClock",
    "frame",
    "http_date",
    "parse_status",
    "problem",
    "redact_headers",
    "status_info",
]
