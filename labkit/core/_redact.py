"""One redaction policy: what counts as a credential, and how every place that
can carry one is scrubbed before it is shown or exported.

Every display and export of a captured exchange (JSON, HAR, curl, DataFrames,
``report``, ``show``, ``repr``, ``labkit inspect``) and the origin's diagnostic
echo (``/status/{code}``) apply :data:`DEFAULT_REDACTION`, or the policy passed
as ``policy=``. Nothing else decides what is secret.

**Names.** Header names, and the field names of query strings, forms,
multipart parts and JSON members (at any depth), are compared in lower case
after splitting them into words at ``-``, ``_``, ``.``, spaces and camelCase
humps. A pattern matches when it matches the whole name *or its last words*:
``token`` covers ``access_token``, ``X-Auth-Token`` and ``accessToken`` but not
``token_type``; ``key`` covers ``X-Api-Key`` and ``?key=`` but not ``keyword``
or ``monkey``. A pattern starting with ``^`` matches the whole name only
(``^code``: an OAuth authorization code, not ``status_code``). A plain name
(letters, digits, ``-``, ``_``, spaces) is normalised like the names it is
compared with, so ``X-My-Secret`` and ``x_my_secret`` are the same pattern;
anything else is a regular expression over the normalised name (words joined
by ``_``). ``keep`` names are never redacted (``Idempotency-Key`` ends in
``key`` but is an identifier the retry lessons need to see).

**Paths.** Regular expressions searched in a URL's path; the text of each
capturing group is replaced. The lab's own ``/basic-auth/{user}/{password}``
carries a password in its path.

**Values.** A credential becomes :data:`REDACTED`; ``Authorization``-style
values keep their scheme (``Bearer [redacted]``) because the scheme is what a
learner needs to see. In URLs, forms and multipart bodies the marker is
percent-encoded (``%5Bredacted%5D``) so that the result still parses as a URL
whose host is the host (a bare ``[`` in the authority reads as an IPv6
literal). URL userinfo keeps its user name and loses its password; userinfo
without a password (a token alone) is replaced whole.

Extend the default for everything (``DEFAULT_REDACTION.extend(fields=["pin"])``),
or build a separate policy for one export
(``to_json(cap, policy=DEFAULT_REDACTION.copy().extend(headers=["x-tenant"]))``).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import quote, unquote_plus

__all__ = [
    "DEFAULT_REDACTION",
    "REDACTED",
    "RedactionPolicy",
    "redact_body",
    "redact_headers",
    "redact_url",
]

REDACTED = "[redacted]"
_URL_REDACTED = quote(REDACTED, safe="")  # "%5Bredacted%5D"

# Words that name a credential wherever they end a name: headers and fields alike,
# since JSON bodies echo headers (``{"headers": {"authorization": ...}}``).
_SECRET_WORDS = (
    r"pass", r"passwd", r"passwords?", r"passphrase", r"pwd",  # passwords, new_password
    r"secrets?",  # client_secret, X-Api-Secret
    r"tokens?",  # access_token, refresh_token, X-Auth-Token, csrf_token
    r"api_?keys?", r"keys?",  # X-Api-Key, apikey, secret_key and the lab's own ?key=
    r"sessions?", r"(php)?sess(ion)?_?id", r"sid",  # session identifiers, PHPSESSID
    r"auth",  # ?auth=, X-Auth (not "author", not "authenticated")
    r"sig", r"signatures?",  # signed URLs (X-Amz-Signature, ?sig=)
    r"jwt", r"credentials?",
    r"authorization",  # Authorization, Proxy-Authorization
    r"cookies?",  # Cookie, Set-Cookie
)
DEFAULT_HEADERS = _SECRET_WORDS
DEFAULT_FIELDS = _SECRET_WORDS + (
    r"^code",  # OAuth 2.0 authorization code (RFC 6749 section 4.1.2)
)
DEFAULT_PATHS = (
    r"/basic-auth/[^/?#]*/([^/?#]+)",  # the origin's /basic-auth/{user}/{password}
)
DEFAULT_KEEP = ("idempotency-key",)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[-_.\s]+")
_PLAIN = re.compile(r"[A-Za-z0-9_\- ]+")
# Headers whose value is a URL that can carry a token in its query.
_URL_HEADERS = frozenset({"location", "content-location", "referer"})


def _words(name: str) -> list[str]:
    return [w for w in _SEPARATORS.split(_CAMEL.sub("_", name).lower()) if w]


def _pattern(text: str) -> tuple[bool, str]:
    """(whole name only?, regular expression over a normalised name)."""
    anchored = text.startswith("^")
    body = text[1:] if anchored else text
    if body.endswith("$"):
        body = body[:-1]
    if _PLAIN.fullmatch(body):
        body = re.escape("_".join(_words(body)))
    return anchored, body


class _Matcher:
    """Patterns compiled once; answers cached per name (names repeat endlessly)."""

    def __init__(self, patterns: Iterable[str], keep: Iterable[str]) -> None:
        parsed = [_pattern(p) for p in patterns]
        whole = [p for anchored, p in parsed if anchored]
        tail = [p for anchored, p in parsed if not anchored]
        self._whole = re.compile("|".join(f"(?:{p})" for p in whole), re.I) if whole else None
        self._tail = re.compile("|".join(f"(?:{p})" for p in tail), re.I) if tail else None
        self._keep = frozenset("_".join(_words(k)) for k in keep)
        self._cache: dict[str, bool] = {}

    def __call__(self, name: str) -> bool:
        try:
            return self._cache[name]
        except KeyError:
            pass
        words = _words(name)
        full = "_".join(words)
        found = bool(words) and full not in self._keep and (
            bool(self._whole and self._whole.fullmatch(full))
            or bool(self._tail and any(self._tail.fullmatch("_".join(words[i:]))
                                       for i in range(len(words))))
        )
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[name] = found
        return found


def _is_authorization(name: str) -> bool:
    words = _words(name)
    return bool(words) and words[-1] == "authorization"


_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*:)?(?://(?P<authority>[^/?#]*))?"
    r"(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?(?:#(?P<fragment>.*))?",
    re.S,
)
_MULTIPART_NAME = re.compile(
    rb'(?im)^content-disposition:[^\r\n]*?;\s*name(\*?)\s*=\s*("(?:[^"\\\r\n]|\\.)*"|[^;\r\n]*)'
)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_JSON_MEMBER = re.compile(r'"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+\-]*)')


def _param(content_type: str, name: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, eq, value = part.strip().partition("=")
        if eq and key.strip().lower() == name:
            value = value.strip()
            return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    return None


@dataclass
class RedactionPolicy:
    """What is a credential (name patterns) and where it hides; see the module docstring.

    ``headers``: header-name patterns. ``fields``: names of query parameters,
    form fields, multipart parts and JSON members. ``paths``: regular
    expressions over URL paths whose groups are secrets. ``keep``: names that
    match a pattern but are not credentials. :meth:`extend` adds patterns in
    place (``DEFAULT_REDACTION.extend(...)`` changes every export);
    :meth:`copy` first for a policy of your own.
    """

    headers: tuple[str, ...] = DEFAULT_HEADERS
    fields: tuple[str, ...] = DEFAULT_FIELDS
    paths: tuple[str, ...] = DEFAULT_PATHS
    keep: tuple[str, ...] = DEFAULT_KEEP
    _compiled: tuple = field(init=False, repr=False, compare=False, default=())
    # Bumped by every change of patterns, so a display that memoises its
    # redacted output (the origin's /status echo) knows when to redo it.
    revision: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        self.headers, self.fields = tuple(self.headers), tuple(self.fields)
        self.paths, self.keep = tuple(self.paths), tuple(self.keep)
        self._compile()

    def _compile(self) -> None:
        # One tuple, swapped at once: a thread redacting meanwhile sees old or new, never half.
        self._compiled = (
            _Matcher(self.headers, self.keep),
            _Matcher(self.fields, self.keep),
            tuple(re.compile(p) for p in self.paths),
        )
        self.revision += 1

    # -- changing the policy ---------------------------------------------------
    def extend(self, *, headers: Iterable[str] = (), fields: Iterable[str] = (),
               paths: Iterable[str] = (), keep: Iterable[str] = ()) -> "RedactionPolicy":
        """Add patterns to this policy (in place) and return it."""
        with _EXTEND_LOCK:
            self.headers += _names(headers)
            self.fields += _names(fields)
            self.paths += _names(paths)
            self.keep += _names(keep)
            self._compile()
        return self

    def copy(self) -> "RedactionPolicy":
        """An independent policy with the same patterns."""
        return RedactionPolicy(self.headers, self.fields, self.paths, self.keep)

    # -- questions -------------------------------------------------------------
    def is_sensitive_header(self, name: str) -> bool:
        return self._compiled[0](name)

    def is_sensitive_field(self, name: str) -> bool:
        return self._compiled[1](name)

    # -- headers ---------------------------------------------------------------
    def redact_headers(self, headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """A copy of ``headers`` with credential-bearing values replaced.

        The scheme of ``Authorization``/``Proxy-Authorization`` (``Basic``,
        ``Bearer``) is kept: it tells the learner what was sent without
        revealing it. URL-valued headers (``Location``) lose their credentials.
        """
        out = []
        for name, value in headers:
            if self.is_sensitive_header(name):
                value = _secret(name, value)
            elif name.lower() in _URL_HEADERS:
                value = self.redact_url(value)
            out.append((name, value))
        return out

    def redact_fields(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Decoded ``(name, value)`` pairs (a query, a form) with credential values replaced."""
        return [(k, _secret(k, v) if v and self.is_sensitive_field(k) else v) for k, v in pairs]

    # -- URLs ------------------------------------------------------------------
    def redact_url(self, url: str) -> str:
        """``url`` without the credentials of its userinfo, query, fragment and path.

        Works on the text (no parsing that could reject it), so a malformed or
        already-redacted URL never raises; the host is always left alone.
        """
        m = _URL.fullmatch(url)
        if m is None:  # the pattern matches every string; kept for type checkers
            return url
        scheme, authority, path, query, fragment = m.group("scheme", "authority", "path", "query", "fragment")
        out = scheme or ""
        if authority is not None:
            userinfo, at, hostport = authority.rpartition("@")
            if at:
                user, colon, _ = userinfo.partition(":")
                userinfo = f"{user}:{_URL_REDACTED}" if colon else _URL_REDACTED
                authority = f"{userinfo}@{hostport}"
            out += "//" + authority
        out += self._redact_path(path)
        if query is not None:
            out += "?" + self._redact_pairs(query)
        if fragment is not None:
            # An OAuth implicit grant returns #access_token=...; a plain anchor has no "=".
            out += "#" + (self._redact_pairs(fragment) if "=" in fragment else fragment)
        return out

    def _redact_path(self, path: str) -> str:
        for pattern in self._compiled[2]:
            spans = [m.span(g) for m in pattern.finditer(path)
                     for g in range(1, (pattern.groups or 0) + 1) if m.span(g)[0] >= 0]
            for start, end in sorted(spans, reverse=True):
                path = path[:start] + _URL_REDACTED + path[end:]
        return path

    def _redact_pairs(self, text: str) -> str:
        """``name=value&...`` with sensitive values replaced, every other byte kept.

        ``text`` may come from bytes decoded as latin-1 (one char per byte), so
        a form in any charset passes through unchanged except where redacted.
        """
        parts = text.split("&")
        changed = False
        for i, part in enumerate(parts):
            name, eq, value = part.partition("=")
            if not eq or not value:
                continue
            if self.is_sensitive_field(unquote_plus(name, errors="replace")):
                parts[i] = f"{name}={_URL_REDACTED}"
                changed = True
                continue
            decoded = unquote_plus(value, errors="replace")
            if decoded.startswith(("http://", "https://")):
                # A URL inside a parameter (?next=...) can carry its own token.
                clean = self.redact_url(decoded)
                if clean != decoded:
                    parts[i] = f"{name}={quote(clean, safe='')}"
                    changed = True
        return "&".join(parts) if changed else text

    # -- bodies ----------------------------------------------------------------
    def redact_body(self, body: bytes, content_type: str | None) -> bytes:
        """``body`` without credentials, by its media type; unknown types are untouched.

        JSON (``*/json``, ``*+json``): members whose name matches, at any depth
        (a body that does not parse is scrubbed member by member as text).
        ``application/x-www-form-urlencoded``: fields whose name matches, in
        any charset. ``multipart/*``: parts whose name matches (and JSON or
        form parts, recursively).
        """
        if not body:
            return body
        ctype = content_type or ""
        media = ctype.split(";", 1)[0].strip().lower()
        try:
            if media == "application/x-www-form-urlencoded":
                text = body.decode("latin-1")
                clean = self._redact_pairs(text)
                return body if clean is text else clean.encode("latin-1")
            if media.endswith(("/json", "+json")):
                return self._redact_json_body(body)
            if media.startswith("multipart/"):
                return self._redact_multipart(body, ctype)
        except RecursionError:
            # Nested deeper than Python can walk: show nothing rather than a secret.
            return REDACTED.encode()
        return body

    def _redact_json_body(self, body: bytes) -> bytes:
        try:
            doc = json.loads(body)
        except ValueError:
            text = body.decode("utf-8", "replace")
            clean = _JSON_MEMBER.sub(self._json_member_text, text)
            return body if clean == text else clean.encode("utf-8")
        clean = self._redact_json(doc)
        if clean == doc:
            return body
        return json.dumps(clean, indent=1, ensure_ascii=False).encode("utf-8") + b"\n"

    def _json_member_text(self, m: re.Match) -> str:
        try:
            name = json.loads(f'"{m.group(1)}"')
        except ValueError:
            name = m.group(1)
        if not self.is_sensitive_field(name):
            return m.group(0)
        return f'"{m.group(1)}"{m.group(2)}{json.dumps(REDACTED)}'

    def _redact_json(self, value):
        if isinstance(value, dict):
            return {k: self._json_member(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._redact_json(v) for v in value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self.redact_url(value)
        return value

    def _json_member(self, name, value):
        # null and booleans say whether, not what: they stay.
        if value is None or isinstance(value, bool) or not self.is_sensitive_field(str(name)):
            return self._redact_json(value)
        return _secret(str(name), value) if isinstance(value, str) else REDACTED

    def _redact_multipart(self, body: bytes, content_type: str) -> bytes:
        boundary = _param(content_type, "boundary")
        if boundary:
            delimiter = b"--" + boundary.encode("latin-1", "replace")
        else:  # no parameter: the first line is the delimiter
            first = re.match(rb"(--[^\r\n]+)\r?\n", body)
            if not first:
                return body
            delimiter = first.group(1)
        pieces = body.split(delimiter)
        changed = False
        for i in range(1, len(pieces)):
            piece = pieces[i]
            blank = _BLANK_LINE.search(piece)
            if piece.startswith(b"--") or blank is None:
                continue
            head, content = piece[:blank.end()], piece[blank.end():]
            trail = b"\r\n" if content.endswith(b"\r\n") else b"\n" if content.endswith(b"\n") else b""
            content = content[:len(content) - len(trail)]
            name_match = _MULTIPART_NAME.search(head)
            if name_match:
                name = name_match.group(2).strip().strip(b'"').decode("utf-8", "replace")
                if name_match.group(1):  # name*=utf-8''password (RFC 8187)
                    name = unquote_plus(name.rpartition("'")[2], errors="replace")
                if self.is_sensitive_field(name):
                    if content:
                        pieces[i] = head + REDACTED.encode() + trail
                        changed = True
                    continue
            part_type = re.search(rb"(?im)^content-type:[ \t]*([^\r\n]*)", head)
            if part_type:
                clean = self.redact_body(content, part_type.group(1).decode("latin-1"))
                if clean != content:
                    pieces[i] = head + clean + trail
                    changed = True
        return delimiter.join(pieces) if changed else body


def _names(items: Iterable[str] | str) -> tuple[str, ...]:
    # extend(fields="pin") means one name, not three letters.
    return (items,) if isinstance(items, str) else tuple(items)


def _secret(name: str, value: str) -> str:
    """The redacted form of ``value``: ``Scheme [redacted]`` for authorization values."""
    if _is_authorization(name):
        scheme, sep, rest = value.strip().partition(" ")
        if sep and rest.strip() and scheme and "=" not in scheme:
            return f"{scheme} {REDACTED}"
    return REDACTED


_EXTEND_LOCK = threading.Lock()

#: The policy every display and export uses unless given another one.
DEFAULT_REDACTION = RedactionPolicy()


def redact_headers(headers: Iterable[tuple[str, str]], policy: RedactionPolicy | None = None
                   ) -> list[tuple[str, str]]:
    """:meth:`RedactionPolicy.redact_headers` of ``policy`` (default: :data:`DEFAULT_REDACTION`)."""
    return (policy or DEFAULT_REDACTION).redact_headers(headers)


def redact_url(url: str, policy: RedactionPolicy | None = None) -> str:
    """:meth:`RedactionPolicy.redact_url` of ``policy`` (default: :data:`DEFAULT_REDACTION`)."""
    return (policy or DEFAULT_REDACTION).redact_url(url)


def redact_body(body: bytes, content_type: str | None, policy: RedactionPolicy | None = None) -> bytes:
    """:meth:`RedactionPolicy.redact_body` of ``policy`` (default: :data:`DEFAULT_REDACTION`)."""
    return (policy or DEFAULT_REDACTION).redact_body(body, content_type)
