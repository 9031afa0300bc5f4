"""labkit's status-semantics rules: what httplint does not check.

Each rule is a small class in the style of httplint's notes: an id, a level,
a one-line summary, an explanation and the RFC section it rests on, plus a
``check(ctx)`` that returns None (passes) or a dict of details (fires).
``RULES`` is the table :func:`labkit.inspect` runs, in order.

Levels follow the words of the section a rule rests on, which its explanation
quotes: a MUST (NOT) is an error, a SHOULD (NOT) a warning, a MAY, or what
HTTP allows, at most info. The two gateway rules are errors for what they do
to everyone else: a cache serves the portal's page in the site's place.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import cache_directives, media_type, parse_http_date, parse_retry_after
from ._attribution import Attribution, attribute
from ._content import login_forms, sign_in_links
from ._exchange import Exchange
from ._findings import Finding

__all__ = ["RULES", "Context", "Rule", "shared_cache_may_store"]

# RFC 9110 section 15.1: codes a cache may store with heuristic freshness.
HEURISTICALLY_CACHEABLE = frozenset({200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501})
# RFC 6585 sections 3, 4, 5 and 6: "Responses with the ... status code MUST NOT be stored by a cache."
MUST_NOT_BE_STORED = {428: "3", 429: "4", 431: "5", 511: "6"}


def _directives(ex: Exchange) -> dict[str, str | None]:
    return cache_directives(", ".join(v for k, v in ex.response_headers if k.lower() == "cache-control"))


def _seconds(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _freshness(ex: Exchange, cc: dict[str, str | None], *, shared: bool) -> list[str] | None:
    """The explicit freshness ``ex`` claims (RFC 9111 section 4.2.1): reasons if it is
    fresh for a while, ``[]`` if it is stale at once, None if it states none."""
    for name in (("s-maxage", "max-age") if shared else ("max-age",)):
        if name in cc:
            # Invalid freshness information: caches "are encouraged to consider"
            # such responses stale (RFC 9111 section 4.2.1).
            seconds = _seconds(cc[name])
            return [f"Cache-Control: {name}={cc[name]}"] if seconds else []
    expires = ex.header("expires")
    if expires is None:
        return None
    until = parse_http_date(expires)
    if until is None:
        # RFC 9111 section 5.3: "A cache recipient MUST interpret invalid date
        # formats, especially the value "0", as representing a time in the past
        # (i.e., "already expired")."
        return []
    date = parse_http_date(ex.header("date")) or ex.started or None
    if date is None:
        return [f"Expires: {expires} (no Date to compare it with)"]
    return [f"Expires: {expires}"] if until > date else []


def _may_reuse(ex: Exchange, cc: dict[str, str | None], *, shared: bool) -> list[str]:
    """Why a (shared or private) cache may store ``ex`` and reuse it without asking again."""
    if ex.method not in ("GET", "HEAD") or "no-store" in cc:
        return []
    if shared and "private" in cc:
        return []
    if "no-cache" in cc and cc["no-cache"] is None:
        return []  # stored, but validated with the server before every reuse (RFC 9111 section 5.2.2.4)
    # RFC 9111 section 3.5: a shared cache stores answers to Authorization only when told it may.
    if shared and ex.request_header("authorization") is not None and not (
        {"public", "s-maxage", "must-revalidate"} & cc.keys()
    ):
        return []
    explicit = _freshness(ex, cc, shared=shared)
    if explicit is not None:
        return explicit
    reasons = []
    if "public" in cc:
        reasons.append("Cache-Control: public (without explicit freshness it is heuristically "
                       "cacheable, RFC 9111 section 5.2.2.9)")
    if not shared and "private" in cc:
        reasons.append("Cache-Control: private (a private cache \"MAY store the response and reuse it\", "
                       "RFC 9111 section 5.2.2.7)")
    if not reasons and ex.status in HEURISTICALLY_CACHEABLE:
        reasons.append(f"{ex.status} is heuristically cacheable (RFC 9110 section 15.1) "
                       "and nothing forbids storing it")
    return reasons


def shared_cache_may_store(ex: Exchange) -> list[str]:
    """Why a shared cache may store ``ex`` and reuse it while fresh (RFC 9111 sections 3
    and 4.2); empty if it may not, or if the stored copy would be stale at once
    (``max-age=0``, an ``Expires`` in the past or invalid, ``no-cache``)."""
    return _may_reuse(ex, _directives(ex), shared=True)


def any_cache_may_store(ex: Exchange) -> list[str]:
    """:func:`shared_cache_may_store`, plus what only a private cache may keep."""
    cc = _directives(ex)
    return list(dict.fromkeys(_may_reuse(ex, cc, shared=True) + _may_reuse(ex, cc, shared=False)))


class Context:
    """What the rules look at: the exchange and a few parsed views of it."""

    __slots__ = ("ex", "attribution", "cc", "content_type", "body_text")

    def __init__(self, ex: Exchange, attribution: Attribution | None = None) -> None:
        self.ex = ex
        self.attribution = attribution or attribute(ex)
        self.cc = _directives(ex)
        self.content_type = media_type(ex.header("content-type"))
        self.body_text = ex.response_body[:65536].decode("utf-8", "replace") if ex.response_body else ""


@dataclass(frozen=True)
class Rule:
    """One rule. ``summary``, ``explanation`` and ``rfc`` may name the details
    ``check`` returns, e.g. ``"RFC 6585 section {section}"``."""

    id: str
    level: str
    summary: str
    explanation: str
    rfc: str
    subject: str = "status"
    # httplint notes this rule replaces when it fires: (note class name, subject).
    supersedes: tuple[tuple[str, str], ...] = ()

    def check(self, ctx: Context) -> dict | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def finding(self, details: dict) -> Finding:
        return Finding(
            id=self.id,
            level=self.level,
            summary=self.summary.format(**details),
            explanation=self.explanation.format(**details),
            rfc=self.rfc.format(**details),
            source="labkit",
            subject=self.subject,
        )


def _rule(id, level, summary, explanation, rfc, subject="status", supersedes=()):
    """Decorator: a check function becomes a Rule with that metadata."""
    def wrap(fn):
        cls = type(fn.__name__, (Rule,), {"check": staticmethod(fn)})
        return cls(id, level, summary, explanation, rfc, subject, supersedes)
    return wrap


# RFC 6585 section 6, in its own words; the 511 rules quote the sentence they rest on.
_SECTION_6 = {
    "link": "\"The response representation SHOULD contain a link to a resource that allows the user "
            "to submit credentials (e.g., with an HTML form).\"",
    "interface": "\"Note that the 511 response SHOULD NOT contain a challenge or the login interface "
                 "itself, because browsers would show the login interface as being associated with "
                 "the originally requested URL, which may cause confusion.\"",
    "origin": "\"The 511 status SHOULD NOT be generated by origin servers; it is intended for use by "
              "intercepting proxies that are interposed as a means of controlling access to the "
              "network.\"",
    "store": "\"Responses with the 511 status code MUST NOT be stored by a cache.\"",
}


@_rule(
    "511-from-origin", "warning",
    "A 511 generated by the origin server.",
    "RFC 6585 section 6: " + _SECTION_6["origin"] + " Evidence that the origin sent this one: "
    "{evidence}. An origin that needs credentials sends 401 with WWW-Authenticate; an origin "
    "that failed sends 500/503. Clients that see 511 conclude the network answered (RFC 6585 "
    "section 6.1) and stop to sign in instead of retrying.",
    "RFC 6585 section 6",
)
def _511_from_origin(ctx):
    # Only on positive evidence: a 511 itself says the network answered.
    if ctx.ex.status == 511 and ctx.attribution.generated_by == "origin":
        return {"evidence": "; ".join(ctx.attribution.evidence)}
    return None


@_rule(
    "511-storable", "error",
    "A 511 that a cache may store.",
    "RFC 6585 section 6: " + _SECTION_6["store"] + " Yet this one tells caches they may keep "
    "and reuse it: {why}. A stored 511 would keep showing the portal after the user signs in. "
    "Send Cache-Control: no-store.",
    "RFC 6585 section 6", subject="cache-control",
)
def _511_storable(ctx):
    if ctx.ex.status != 511:
        return None
    why = any_cache_may_store(ctx.ex)
    return {"why": "; ".join(why)} if why else None


@_rule(
    "rfc6585-storable", "error",
    "A {status} that a cache may store.",
    "RFC 6585 section {section}: \"Responses with the {status} status code MUST NOT be stored by "
    "a cache.\" Yet this one tells caches they may keep and reuse it: {why}. A stored {status} "
    "would be repeated to clients after the condition is gone. Send Cache-Control: no-store.",
    "RFC 6585 section {section}", subject="cache-control",
)
def _rfc6585_storable(ctx):
    status = ctx.ex.status
    if status == 511 or status not in MUST_NOT_BE_STORED:  # 511 has its own rule
        return None
    why = any_cache_may_store(ctx.ex)
    return {"status": status, "section": MUST_NOT_BE_STORED[status], "why": "; ".join(why)} if why else None


@_rule(
    "511-from-cache", "error",
    "A cache served a stored 511.",
    "This 511 came out of a cache (evidence: {evidence}). RFC 6585 section 6: " + _SECTION_6["store"]
    + " So the cache or the gateway's headers are at fault; the user keeps seeing the portal "
    "after signing in until the entry expires.",
    "RFC 6585 section 6", subject="cache",
)
def _511_from_cache(ctx):
    if ctx.ex.status == 511 and ctx.attribution.answered_by == "cache":
        return {"evidence": ctx.attribution.evidence[0]}
    return None


@_rule(
    "511-with-challenge", "warning",
    "A 511 that carries an authentication challenge ({header}).",
    "RFC 6585 section 6: " + _SECTION_6["interface"] + " A client would answer {header} with "
    "credentials for the site it asked for, not for the network. Link to the portal's login "
    "page instead.",
    "RFC 6585 section 6", subject="www-authenticate",
)
def _511_with_challenge(ctx):
    if ctx.ex.status != 511:
        return None
    for header in ("WWW-Authenticate", "Proxy-Authenticate"):
        if ctx.ex.header(header) is not None:
            return {"header": header}
    return None


@_rule(
    "511-with-login-form", "warning",
    "A 511 that contains the login form itself.",
    "RFC 6585 section 6: " + _SECTION_6["interface"] + " This body has a form with a field for "
    "credentials (sending them to {action}); the user would type network credentials into what "
    "looks like another site. Link to the portal's own page instead.",
    "RFC 6585 section 6", subject="content",
)
def _511_with_form(ctx):
    if ctx.ex.status != 511 or not ctx.body_text:
        return None
    # A login interface asks for a credential: a form with only a button is not one.
    forms = login_forms(ctx.body_text, ctx.ex.url)
    return {"action": forms[0]} if forms else None


@_rule(
    "511-without-link", "warning",
    "A 511 with no link to where the user can sign in.",
    "RFC 6585 section 6: " + _SECTION_6["link"] + " Without one the user is told to authenticate "
    "but not where. An image or a problem document's \"type\" is not such a link.",
    "RFC 6585 section 6", subject="content",
)
def _511_without_link(ctx):
    ex = ctx.ex
    if ex.status != 511:
        return None
    links = sign_in_links(ctx.content_type, ctx.body_text, ex.header("link"))
    # A response to HEAD has no content (RFC 9110 section 9.3.2): only a Link header could link.
    if links or (ex.method == "HEAD" and not ex.response_body):
        return None
    return {}


@_rule(
    "401-without-www-authenticate", "error",
    "A 401 without WWW-Authenticate.",
    "RFC 9110 section 15.5.2: \"The server generating a 401 response MUST send a WWW-Authenticate "
    "header field (Section 11.6.1) containing at least one challenge applicable to the target "
    "resource.\" E.g. Basic realm=\"...\" or Bearer realm=\"...\". Without it the client cannot "
    "know how to authenticate.",
    "RFC 9110 section 15.5.2", subject="www-authenticate",
)
def _401_bare(ctx):
    if ctx.ex.status == 401 and ctx.ex.header("www-authenticate") is None:
        return {}
    return None


@_rule(
    "407-without-proxy-authenticate", "error",
    "A 407 without Proxy-Authenticate.",
    "RFC 9110 section 15.5.8: \"The proxy MUST send a Proxy-Authenticate header field (Section "
    "11.7.1) containing a challenge applicable to that proxy for the request.\" The client "
    "answers it with Proxy-Authorization.",
    "RFC 9110 section 15.5.8", subject="proxy-authenticate",
)
def _407_bare(ctx):
    if ctx.ex.status == 407 and ctx.ex.header("proxy-authenticate") is None:
        return {}
    return None


# Where Retry-After is a MAY, in the words of each status code's section.
_RETRY_AFTER_MAY = {
    503: ("9110", "15.6.4", "\"The server MAY send a Retry-After header field (Section "
          "10.2.3) to suggest an appropriate amount of time for the client to wait before retrying "
          "the request.\""),
    429: ("6585", "4", "the response \"MAY include a Retry-After header indicating how long "
          "to wait before making a new request.\""),
}


@_rule(
    "retry-after-missing", "info",
    "A {status} without Retry-After.",
    "RFC {doc} section {section}: {words} Sending it is optional; without it, clients guess how long to wait: some "
    "hammer the server, others give up too early.",
    "RFC {doc} section {section}", subject="retry-after",
)
def _retry_after_missing(ctx):
    status = ctx.ex.status
    if status in _RETRY_AFTER_MAY and ctx.ex.header("retry-after") is None:
        doc, section, words = _RETRY_AFTER_MAY[status]
        return {"status": status, "doc": doc, "section": section, "words": words}
    return None


def _valid_retry_after(value: str) -> bool:
    # A sender MUST generate HTTP-dates as IMF-fixdate (RFC 9110 section 5.6.7);
    # the obsolete forms are for recipients to accept, not for servers to send.
    value = value.strip()
    if value.isascii() and value.isdigit():
        return parse_retry_after(value) is not None
    return parse_http_date(value, obsolete=False) is not None


@_rule(
    "retry-after-invalid", "error",
    "Retry-After is neither a number of seconds nor an HTTP-date: {value!r}.",
    "RFC 9110 section 10.2.3: \"Retry-After = HTTP-date / delay-seconds\", and section 5.6.7: "
    "\"the sender MUST generate those timestamps in the IMF-fixdate format\", such as 'Wed, 21 Oct "
    "2026 07:28:00 GMT'; delay-seconds is a non-negative integer. Clients cannot parse {value!r} "
    "and will ignore it, or worse.",
    "RFC 9110 section 10.2.3", subject="retry-after",
    supersedes=(("BAD_SYNTAX", "field-retry-after"),),
)
def _retry_after_invalid(ctx):
    value = ctx.ex.header("retry-after")
    if value is not None and not _valid_retry_after(value):
        return {"value": value}
    return None


@_rule(
    "content-type-missing", "warning",
    "A response body without Content-Type.",
    "RFC 9110 section 8.3: \"A sender that generates a message containing content SHOULD generate "
    "a Content-Type header field in that message unless the intended media type of the enclosed "
    "representation is unknown to the sender.\" Without it clients must guess (sniff) the format, "
    "and an API client cannot parse a structured error such as application/problem+json.",
    "RFC 9110 section 8.3", subject="content-type",
)
def _content_type_missing(ctx):
    if ctx.ex.response_body and ctx.ex.header("content-type") is None and ctx.ex.method != "HEAD":
        return {}
    return None


@_rule(
    "error-storable", "info",
    "An error response ({status}) that a shared cache could store.",
    "A shared cache (CDN, proxy) may store this {status} and serve it to other users after the "
    "problem is fixed: {why}. HTTP allows it: RFC 9111 section 3 lets a cache store a response "
    "that has explicit freshness or \"a status code that is defined as heuristically cacheable\" "
    "(RFC 9110 section 15.1). If that is not what you want, send Cache-Control: no-store (or a "
    "short, deliberate max-age).",
    "RFC 9111 section 3", subject="cache-control",
)
def _error_storable(ctx):
    ex = ctx.ex
    if ex.status < 400 or ex.status in MUST_NOT_BE_STORED:  # those have stricter rules
        return None
    why = shared_cache_may_store(ex)
    return {"status": ex.status, "why": "; ".join(why)} if why else None


@_rule(
    "gateway-response-storable", "error",
    "A response generated by the intercepting gateway that a cache may store.",
    "The gateway answered in the origin's place ({status} for {url}; {evidence}) and its headers "
    "let a cache store the answer: {why}. A cache keyed by this URL will keep serving the portal's "
    "page after the user signs in: cache poisoning. A 511 avoids both harms: it \"assures that "
    "non-browser clients will not interpret the response as being from the origin server\" (RFC "
    "6585 section 6.1), and \"Responses with the 511 status code MUST NOT be stored by a cache\" "
    "(section 6).",
    "RFC 6585 section 6.1", subject="cache-control",
)
def _gateway_storable(ctx):
    ex = ctx.ex
    if ctx.attribution.generated_by != "gateway" or ex.status == 511 or ex.status == 407:
        return None
    why = shared_cache_may_store(ex)
    return {"status": ex.status, "url": ex.url, "why": "; ".join(why),
            "evidence": ctx.attribution.evidence[0]} if why else None


@_rule(
    "gateway-response-from-cache", "error",
    "A cache served a response that the intercepting gateway generated.",
    "This {status} came out of a cache ({evidence}) but was generated by the captive gateway, "
    "not the origin. The cache was poisoned while the device was not signed in; signing in "
    "does not help until the entry expires or is evicted. A portal that answers 511 cannot do "
    "this: \"Responses with the 511 status code MUST NOT be stored by a cache\" (RFC 6585 "
    "section 6).",
    "RFC 6585 section 6.1", subject="cache",
)
def _gateway_from_cache(ctx):
    a = ctx.attribution
    if a.answered_by == "cache" and a.generated_by == "gateway" and ctx.ex.status != 511:
        return {"status": ctx.ex.status, "evidence": a.evidence[0]}
    return None


RULES: tuple[Rule, ...] = (
    _511_from_origin,
    _511_storable,
    _511_from_cache,
    _511_with_challenge,
    _511_with_form,
    _511_without_link,
    _401_bare,
    _407_bare,
    _rfc6585_storable,
    _retry_after_missing,
    _retry_after_invalid,
    _content_type_missing,
    _error_storable,
    _gateway_storable,
    _gateway_from_cache,
)
