"""``inspect(exchange)``: httplint's header and caching checks, then labkit's status rules."""

from __future__ import annotations

import html
import re

from ..core import encode_pairs
from ._attribution import attribute
from ._exchange import Exchange
from ._findings import Finding
from ._httpx import exchange_of
from ._redaction import redact_exchange
from ._rules import RULES, Context

__all__ = ["inspect", "inspect_all"]

# httplint levels -> ours.
_LEVEL = {"bad": "error", "warning": "warning", "info": "info", "good": "good"}

# Deliberate departures from httplint's levels, each with its reason.
_LEVEL_OVERRIDES = {
    # RFC 9110 section 6.6.1: a server without a reliable clock MUST NOT send
    # Date, and intercepting gateways often lack one; RFC 6585's own 511
    # example has none. Worth knowing, not a defect.
    "DATE_CLOCKLESS": "info",
}

_RFC_LINK = re.compile(r"rfc(\d{4})(?:\.html)?#section-([\d.]+)", re.I)
_RFC_TEXT = re.compile(r"RFC\s?(\d{4}),?\s+Section\s+([\d.]*\d)", re.I)
_TAGS = re.compile(r"<[^>]+>")


def _coerce(item) -> Exchange:
    try:
        return exchange_of(item)
    except TypeError:
        raise TypeError(f"inspect() takes an Exchange, httpx.Response or labkit Response, "
                        f"not {type(item).__name__}") from None


# Where httplint's note families rest, when the note's text does not say.
_FAMILIES = (
    ("FRESHNESS_", "RFC 9111 section 4.2"),
    ("STORE_", "RFC 9111 section 3"),
    ("STALE_", "RFC 9111 section 4.2.4"),
    ("CC_", "RFC 9111 section 5.2"),
    ("AGE_", "RFC 9111 section 5.1"),
    ("DATE_", "RFC 9110 section 6.6.1"),
    ("CL_", "RFC 9110 section 8.6"),
    ("VIA_", "RFC 9110 section 7.6.3"),
    ("CT_", "RFC 9110 section 8.3"),
    ("CONTENT_TYPE", "RFC 9110 section 8.3"),
    ("STATUS_", "RFC 9110 section 15"),
)
_FIELD_REF = re.compile(r"rfc(\d{4})#field\.([a-z0-9-]+)", re.I)
# httplint's notes on status codes defined outside RFC 9110, with the section that defines each.
_STATUS_NOTES = {
    "STATUS_PRECONDITION_REQUIRED": "RFC 6585 section 3",
    "STATUS_TOO_MANY_REQUESTS": "RFC 6585 section 4",
    "STATUS_REQUEST_HEADER_FIELDS_TOO_LARGE": "RFC 6585 section 5",
    "STATUS_NETWORK_AUTHENTICATION_REQUIRED": "RFC 6585 section 6",
    "STATUS_UNAVAILABLE_FOR_LEGAL_REASONS": "RFC 7725 section 3",
    "STATUS_TOO_EARLY": "RFC 8470 section 5.2",
    "STATUS_EARLY_HINTS": "RFC 8297 section 2",
}


def _rfc_of(note, name: str, text: str, references: dict[str, str]) -> str:
    if name in _STATUS_NOTES:
        return _STATUS_NOTES[name]
    match = _RFC_LINK.search(text) or _RFC_TEXT.search(text)
    if match:
        return f"RFC {match.group(1)} section {match.group(2)}"
    for prefix, ref in _FAMILIES:
        if name.startswith(prefix):
            return ref
    field = _FIELD_REF.search(references.get(note.subject, ""))
    if field:
        return f"RFC {field.group(1)}, {field.group(2).title()} field"
    return "RFC 9111" if note.category.name == "CACHING" else "RFC 9110"


def _plain(detail: str) -> str:
    """A note's rendered explanation (httplint's HTML) as plain text."""
    return re.sub(r"\s+", " ", html.unescape(_TAGS.sub("", detail))).strip()


# httplint's public API gives a note's explanation only rendered from Markdown
# (note.detail), which costs more than the rest of inspect() together. A note
# renders the same for the same class, subject, variables and locale, and the
# exchanges of one capture repeat the same notes, so each rendering is kept.
_DETAILS: dict[tuple, str] = {}
_DETAILS_MAX = 4096


def _detail(note, locale: str) -> str:
    key = (type(note), note.subject, locale, repr(sorted(note.vars.items(), key=lambda kv: kv[0])))
    detail = _DETAILS.get(key)
    if detail is None:
        if len(_DETAILS) >= _DETAILS_MAX:
            _DETAILS.clear()
        detail = _DETAILS[key] = str(note.detail)
    return detail


def _httplint(ex: Exchange, superseded: set[tuple[str, str]], include_good: bool) -> list[Finding]:
    import httplint  # imported on first use: it pulls in markdown
    from httplint.i18n import get_locale

    req = httplint.HttpRequestLinter()
    req.process_request_topline(ex.method.encode("ascii", "replace"),
                                ex.url.encode("utf-8"), ex.http_version.encode("ascii", "replace"))
    req.process_headers(encode_pairs(ex.request_headers, errors="replace"))
    req.feed_content(ex.request_body)
    req.finish_content(True)
    res = httplint.HttpResponseLinter()
    res.request = req
    res.is_head_response = ex.method == "HEAD"
    res.process_response_topline(ex.http_version.encode("ascii", "replace"),
                                 str(ex.status).encode(), ex.reason.encode("latin-1", "replace"))
    res.process_headers(encode_pairs(ex.response_headers, errors="replace"))
    res.feed_content(ex.response_body)
    res.finish_content(True)
    references = {f"field-{h.canonical_name.lower()}": getattr(h, "reference", "") or ""
                  for h in res.headers.handlers.values()}
    out = []
    locale = get_locale()
    for note in res.notes:
        name = type(note).__name__
        level = _LEVEL_OVERRIDES.get(name, _LEVEL[note.level.value])
        if (name, note.subject) in superseded or (level == "good" and not include_good):
            continue  # not shown: not worth rendering
        detail = _detail(note, locale)
        out.append(Finding(
            id=f"httplint:{name}",
            level=level,
            summary=str(note.summary),
            explanation=_plain(detail),
            rfc=_rfc_of(note, name, detail, references),
            source="httplint",
            subject=note.subject,
        ))
    return out


def inspect(exchange, *, include_good: bool = False, httplint: bool = True) -> list[Finding]:
    """Findings about one exchange, most serious first.

    ``exchange`` is an :class:`Exchange` (from a :class:`Capture`), an
    ``httpx.Response`` or a ``labkit.core.Response``. httplint (the library
    behind REDbot) checks header syntax and caching; labkit's rules
    (:data:`labkit.inspector.RULES`) check status semantics: 511 vs 401 vs 407,
    Retry-After, Content-Type, cacheable errors, cache poisoning. A labkit rule
    that covers an httplint note replaces it. Credentials are redacted before
    anything is looked at, so no finding can quote one.
    """
    ex = redact_exchange(_coerce(exchange))
    if ex.status == 0:
        if (ex.error or "").startswith("ProxyError"):
            # httpx reports a refused CONNECT as an error: the proxy's status is all there is.
            return [Finding("tunnel-refused", "error", "The proxy refused the HTTPS tunnel.",
                            f"The proxy answered CONNECT with an error ({ex.error}), so no request reached "
                            "the site. A captive network cannot show its page inside HTTPS: RFC 6585 "
                            "section 7.4 notes that \"captive portals using this status code on a Secure "
                            "Socket Layer (SSL) or Transport Layer Security (TLS) connection (commonly, "
                            "port 443) will generate a certificate error on the client\", so portals "
                            "refuse the tunnel instead. Repeat the request over "
                            "http:// to read the portal's answer.",
                            "RFC 9110 section 9.3.6", subject="connection")]
        return [Finding("no-response", "error", "The exchange got no response.",
                        f"The request failed before a response arrived: {ex.error}.",
                        "RFC 9112 section 9.6", subject="connection")]
    ctx = Context(ex, attribute(ex))
    ours: list[Finding] = []
    superseded: set[tuple[str, str]] = set()
    for rule in RULES:
        details = rule.check(ctx)
        if details is not None:
            ours.append(rule.finding(details))
            superseded.update(rule.supersedes)
    theirs = _httplint(ex, superseded, include_good) if httplint else []
    findings = ours + theirs
    if not include_good:
        findings = [f for f in findings if f.level != "good"]
    return sorted(findings, key=lambda f: f.rank)  # stable: labkit's first within a level


def inspect_all(items, **kwargs) -> dict[int, list[Finding]]:
    """``inspect`` over a Capture (or any exchanges): exchange id -> findings."""
    exchanges = [_coerce(i) for i in items]
    return {ex.id: inspect(ex, **kwargs) for ex in exchanges}
