"""The sans-IO core: plain request/response objects, clocks, errors as data."""

from ._clock import Clock, RealClock, VirtualClock
from ._framing import frame
from ._httpdate import http_date
from ._models import Disconnect, Handler, Request, Response, Stall
from ._fields import (
    GATEWAY_NAME,
    ORIGIN_NAME,
    VIA_GATEWAY,
    basic_credentials,
    basic_header,
    cache_directives,
    decode_pairs,
    encode_pairs,
    header,
    header_values,
    media_type,
    parse_http_date,
    parse_retry_after,
    parse_sf_string,
    sf_string,
)
from ._problem import PROBLEM_JSON, json_response, problem
from ._redact import DEFAULT_REDACTION, REDACTED, RedactionPolicy, redact_body, redact_headers, redact_url
from ._status import InvalidStatus, StatusInfo, parse_status, status_info

__all__ = [
    "Clock",
    "DEFAULT_REDACTION",
    "Disconnect",
    "GATEWAY_NAME",
    "Handler",
    "InvalidStatus",
    "ORIGIN_NAME",
    "PROBLEM_JSON",
    "REDACTED",
    "RealClock",
    "RedactionPolicy",
    "Request",
    "Response",
    "Stall",
    "StatusInfo",
    "VIA_GATEWAY",
    "VirtualClock",
    "basic_credentials",
    "basic_header",
    "cache_directives",
    "decode_pairs",
    "encode_pairs",
    "frame",
    "header",
    "header_values",
    "http_date",
    "json_response",
    "media_type",
    "parse_http_date",
    "parse_retry_after",
    "parse_sf_string",
    "parse_status",
    "problem",
    "redact_body",
    "redact_headers",
    "redact_url",
    "sf_string",
    "status_info",
]
