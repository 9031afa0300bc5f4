"""Scrubbers for the credentials a URL or a body can carry.

Credential-named form fields, JSON members and query parameters (the portal's
password, OAuth tokens) and userinfo in URLs. They work on strings and bytes,
so an exchange's own ``repr`` can use them without importing its redaction.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..core import REDACTED

__all__ = ["SENSITIVE_FIELDS", "redact_body", "redact_url"]

# Field names that carry secrets in forms, JSON and query strings.
SENSITIVE_FIELDS = frozenset(
    {"password", "passwd", "pass", "pwd", "secret", "token", "access_token",
     "refresh_token", "id_token", "client_secret", "code"}
)
_FORM = "application/x-www-form-urlencoded"


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{REDACTED}@{hostport}" if ":" in userinfo else f"{REDACTED}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SENSITIVE_FIELDS for k, _ in pairs):
            query = urlencode([(k, REDACTED if k.lower() in SENSITIVE_FIELDS else v) for k, v in pairs])
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _content_type(headers: list[tuple[str, str]]) -> str:
    for k, v in headers:
        if k.lower() == "content-type":
            return v.split(";")[0].strip().lower()
    return ""


def _redact_json(value):
    if isinstance(value, dict):
        return {k: (REDACTED if k.lower() in SENSITIVE_FIELDS and isinstance(v, (str, int, float))
                    else _redact_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    return value


_JSON_MEMBER = re.compile(rb'"(%s)"\s*:\s*"[^"]*"' % b"|".join(f.encode() for f in SENSITIVE_FIELDS), re.I)


def redact_body(body: bytes, headers: list[tuple[str, str]]) -> bytes:
    if not body:
        return body
    ctype = _content_type(headers)
    if ctype == _FORM:
        try:
            pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            return body
        if any(k.lower() in SENSITIVE_FIELDS for k, _ in pairs):
            return urlencode([(k, REDACTED if k.lower() in SENSITIVE_FIELDS else v) for k, v in pairs]).encode()
        return body
    if ctype.endswith("json"):
        try:
            doc = json.loads(body)
        except ValueError:
            # Not valid JSON: still scrub "token": "..." members textually.
            return _JSON_MEMBER.sub(lambda m: b'"%s": "%s"' % (m.group(1), REDACTED.encode()), body)
        clean = _redact_json(doc)
        if clean == doc:
            return body
        return json.dumps(clean, indent=1).encode() + b"\n"
    return body
