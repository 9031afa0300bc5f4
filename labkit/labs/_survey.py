"""What each kind of client experiences behind the gateway, as plain rows.

The notebook's mode explorer displays these; the logic lives here so tests
can check every mode without a widget.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from ..core import cache_directives, media_type
from ..gateway import DETECTORS, MODES, Gateway, run_probes
from ..transport import InProcessTransport

__all__ = ["Sighting", "survey", "survey_modes"]

SURVEY_DEVICE = "127.0.0.250"


@dataclass(frozen=True, slots=True)
class Sighting:
    """One client's experience of one request through the gateway.

    ``status`` is what the client got while the device was captive, except
    when ``signed_in`` is true: then it is what came back *after* the device
    signed in (the shared cache's row, whose lesson is what it serves then).
    """

    client: str
    status: int
    sees: str
    signed_in: bool = False

    @property
    def label(self) -> str:
        """The client, and when its status was seen if that was after signing in."""
        return f"{self.client}, after signing in" if self.signed_in else self.client


def survey(gateway: Gateway, *, url: str = "http://news.test/status/200", device: str = SURVEY_DEVICE) -> list[Sighting]:
    """Ask ``url`` as a browser, an API client, the connectivity probes and a shared cache would.

    ``device`` starts captive and is signed out again afterwards; it should be
    an address no learner's device uses. The cache row relies on hishel, which
    reads real time: with a VirtualClock far from now its stored entries look
    stale (start the clock at ``time.time()`` to see freshness at work).
    """
    portal = gateway.portal
    portal.sign_out(device)
    transport = InProcessTransport(gateway, client=(device, 50001))
    try:
        with httpx.Client(transport=transport) as client:
            rows = [_browser(client, url, gateway.portal_host), _api(client, url)]
            for probe in run_probes(client):
                rows.append(Sighting(f"{DETECTORS[probe.probe]} probe", probe.status,
                                     f"{probe.verdict}: {probe.reason}"))
        rows.append(_cache(gateway, transport, url, device))
    finally:
        portal.sign_out(device)
    return rows


def survey_modes(gateway: Gateway, modes: Iterable[str] | None = None, **kwargs) -> dict[str, list[Sighting]]:
    """:func:`survey` in each of ``modes`` (every mode of :data:`MODES` by default).

    The gateway is back in the mode it was in afterwards, even if a survey fails.
    """
    before = gateway.mode
    try:
        out = {}
        for mode in MODES if modes is None else modes:
            gateway.mode = mode
            out[mode] = survey(gateway, **kwargs)
        return out
    finally:
        gateway.mode = before


def _browser(client: httpx.Client, url: str, portal_host: str) -> Sighting:
    try:
        r = client.get(url, headers={"accept": "text/html,*/*;q=0.8"}, follow_redirects=True)
    except httpx.HTTPError as exc:
        return Sighting("browser", 0, f"no page: {type(exc).__name__}")
    final = str(r.url)
    html = "text/html" in r.headers.get("content-type", "")
    status = r.status_code
    if status == 511:
        sees = "the network's 511 page, which links (and refreshes) to the login page"
    elif status == 407:
        sees = "a browser prompt for proxy credentials (Proxy-Authenticate)"
    elif html and urlsplit(final).hostname == portal_host:
        sees = f"redirected: the address bar shows the portal ({final})"
    elif html and 'name="password"' in r.text:
        sees = f"a password form shown as {url} itself: it looks as if that site asks for it"
    elif status == 200:
        sees = "the page it asked for"
    else:
        sees = f"{status} {r.reason_phrase}"
    return Sighting("browser", status, sees)


def _api(client: httpx.Client, url: str) -> Sighting:
    # Follows redirects, as requests and many SDKs do by default.
    try:
        r = client.get(url, headers={"accept": "application/json"}, follow_redirects=True)
    except httpx.HTTPError as exc:
        return Sighting("API client", 0, f"no answer: {type(exc).__name__}")
    ctype = media_type(r.headers.get("content-type"))
    status = r.status_code
    if status == 511 and ctype == "application/problem+json":
        sees = f"problem+json: the network, not the API; sign in at {r.json().get('login_url')}"
    elif status == 407:
        sees = "407 + Proxy-Authenticate: retry with Proxy-Authorization"
    elif status == 200 and ctype == "text/html":
        sees = "200 but HTML, not JSON: a client that trusts the status takes the portal for the answer"
    elif 200 <= status < 300 and ctype.endswith("json"):
        sees = "the JSON it asked for"
    else:
        sees = f"{status} {ctype or 'no content type'}"
    return Sighting("API client", status, sees)


def _fresh_until(headers: httpx.Headers) -> str:
    """What keeps a stored response fresh, in the terms of RFC 9111 section 4.2."""
    cc = cache_directives(headers.get("cache-control"))
    for name in ("s-maxage", "max-age"):
        if name in cc:
            return f"its {name} ({cc[name]} s) runs out"
    if "expires" in headers:
        return f"its Expires time ({headers['expires']}) passes"
    # No explicit lifetime: the cache estimated one (RFC 9111 section 4.2.2).
    if "last-modified" in headers:
        return ("its heuristic freshness runs out (no Cache-Control: the cache took a fraction of "
                "the time since Last-Modified, RFC 9111 section 4.2.2)")
    return "its heuristic freshness runs out (no Cache-Control, RFC 9111 section 4.2.2)"


def _cache(gateway: Gateway, inner: httpx.BaseTransport, url: str, device: str) -> Sighting:
    import hishel  # hishel is only needed for this row
    from hishel.httpx import CacheTransport

    storage = hishel.SqliteStorage(connection=sqlite3.connect(":memory:", check_same_thread=False))
    with httpx.Client(transport=CacheTransport(inner, storage=storage, rfc=True)) as cached:
        first = cached.get(url)
        stored = bool(first.extensions.get("caching", {}).get("stored"))
        gateway.portal.sign_in(device, *next(iter(gateway.portal.users.items())))
        after = cached.get(url)
        from_cache = bool(after.extensions.get("caching", {}).get("from_cache"))
    if from_cache:
        sees = (f"stored the {first.status_code}; after signing in it still serves it "
                f"from cache: the device looks captive until {_fresh_until(first.headers)}")
    elif stored:
        sees = (f"stored the {first.status_code} as the page's content; it revalidates "
                "before reuse, so after signing in the real page came back")
    else:
        sees = f"did not store the {first.status_code}; after signing in: {after.status_code} from the network"
    return Sighting("shared cache", after.status_code, sees, signed_in=True)
