"""What a response offers a person: links to follow, and forms that ask for credentials.

RFC 6585 section 6 asks a 511 for "a link to a resource that allows the user
to submit credentials" and not "the login interface itself". So not every URL
is such a link (an image's ``src`` or a problem document's ``type`` is not),
and not every ``<form>`` is a login interface (a form with only a button signs
out or extends a session; a login form has a field for credentials). The rules
and the attribution read bodies through these two functions.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

__all__ = ["login_forms", "sign_in_links"]

_URL = re.compile(r"https?://[^\s<>\"'`)\]}]+", re.I)
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"\s>]+)", re.I)
# Fields a person types a credential into: user names, e-mail, vouchers, codes.
_CREDENTIAL_NAME = re.compile(
    r"user|login|e-?mail|account|voucher|access|code|pin|token|pass|card|room|ticket|member|phone", re.I)
_TEXT_TYPES = {"", "text", "email", "tel", "number", "password"}
# Link relations that fetch a resource for the page rather than send the user somewhere.
_ASSET_RELS = {"stylesheet", "icon", "preload", "prefetch", "preconnect", "dns-prefetch",
               "modulepreload", "manifest"}
_LINK_HEADER = re.compile(r"<([^>]*)>([^,]*)")
_REL = re.compile(r"""\brel\s*=\s*(?:"([^"]*)"|([^\s;,]+))""", re.I)


class _Page(HTMLParser):
    """One pass over an HTML body: followable links, visible text, and input fields by form."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.text: list[str] = []
        self.forms: list[tuple[str | None, list[dict[str, str]]]] = []
        self.stray: list[dict[str, str]] = []  # fields outside any form
        self._form: list[dict[str, str]] | None = None
        self._skip = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag in ("a", "area") and a.get("href"):
            href = a["href"].strip()
            if not href.startswith("#") and not href.lower().startswith(("javascript:", "mailto:", "tel:")):
                self.links.append(href)
        elif tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            m = _REFRESH_URL.search(a.get("content", ""))
            if m:
                self.links.append(m.group(1))
        elif tag == "form":
            self._form = []
            self.forms.append((a.get("action"), self._form))
        elif tag in ("input", "textarea"):
            field = {"type": a.get("type", "text" if tag == "input" else "").lower(),
                     "names": " ".join(a.get(k, "") for k in ("name", "id", "autocomplete"))}
            (self._form if self._form is not None else self.stray).append(field)
        elif tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    try:
        page.feed(html)
        page.close()
    except Exception:  # a broken page still yields what was parsed
        pass
    return page


def _asks_for_credentials(fields: list[dict[str, str]]) -> bool:
    for f in fields:
        if f["type"] == "password":
            return True
        if f["type"] in _TEXT_TYPES and _CREDENTIAL_NAME.search(f["names"]):
            return True
    return False


def login_forms(body: str, base_url: str) -> list[str]:
    """Where each login interface in ``body`` sends its credentials (absolute URLs).

    A login interface is a form with a password field or a field named for a
    credential (user, e-mail, voucher...); a password field outside any form
    counts too. Forms with only buttons or hidden fields do not.
    """
    if "<input" not in body.lower() and "<textarea" not in body.lower():
        return []
    page = _parse(body)
    found = [urljoin(base_url, action or "") for action, fields in page.forms if _asks_for_credentials(fields)]
    if any(f["type"] == "password" for f in page.stray):
        found.append(base_url)
    return found


def _json_links(doc, *, top: bool) -> list[str]:
    out: list[str] = []
    if isinstance(doc, dict):
        problem = top and "type" in doc and ("title" in doc or "status" in doc)
        for key, value in doc.items():
            # RFC 9457 sections 3.1.1 and 3.1.5: "type" names the problem type and
            # "instance" the occurrence; neither is a page to sign in at.
            if problem and key in ("type", "instance"):
                continue
            if isinstance(value, str) and re.search(r"(url|uri|href|link|location)$", key, re.I) and value:
                out.append(value)
            else:
                out += _json_links(value, top=False)
    elif isinstance(doc, list):
        for item in doc:
            out += _json_links(item, top=False)
    elif isinstance(doc, str):
        out += _URL.findall(doc)
    return list(dict.fromkeys(out))


def sign_in_links(content_type: str, body: str, link_header: str | None = None) -> list[str]:
    """The URLs in a response a user (or a program) could follow to sign in.

    HTML: ``<a>``/``<area>`` hrefs, a meta refresh, and URLs in the visible
    text, but not ``src`` attributes (images, scripts) or ``<link>`` assets.
    JSON: members named like a URL, and URLs inside strings, except a problem
    document's ``type`` and ``instance``. Other text: every URL in it. A
    ``Link`` header counts unless it only names an asset (stylesheet, icon...).
    """
    links: list[str] = []
    for target, params in _LINK_HEADER.findall(link_header or ""):
        rel = _REL.search(params)
        rels = set((rel.group(1) or rel.group(2)).lower().split()) if rel else set()
        if target.strip() and not (rels and rels <= _ASSET_RELS):
            links.append(target.strip())
    if not body:
        return links
    if content_type == "text/html" or content_type == "application/xhtml+xml" or (
            not content_type and body.lstrip()[:1] == "<"):
        page = _parse(body)
        links += page.links + _URL.findall(" ".join(page.text))
    elif content_type.endswith("json") or content_type.endswith("+json"):
        try:
            links += _json_links(json.loads(body), top=True)
        except ValueError:
            links += _URL.findall(body)
    else:
        links += _URL.findall(body)
    return list(dict.fromkeys(links))
