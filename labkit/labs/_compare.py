"""401 vs 407 vs 511 (and misconfigured servers): scenarios and the comparison table.

``SCENARIOS`` are the exchanges the notebook lets a learner pick; ``verdict``
turns one exchange into the facts the comparison table shows (who answers,
which header challenges, what the client sees, what fixes it, whether a retry
can help, whether a cache may store it), derived from the exchange, its
attribution and its findings rather than looked up by status code.
:func:`whole` shows such a table with every cell's full text, wrapped: what
fixes it is the lesson, so no column is cut short.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Callable

from .._simulator import Simulator
from ..core import cache_directives, media_type
from ..inspector import Capture, Exchange, attribute, inspect, shared_cache_may_store
# Private to the Inspector: its Cache-Control parser and its shared-cache rule,
# so the table's "may a cache store it?" agrees with the findings.
from ._seedpage import inspect_handler, seed_page_app

__all__ = ["SCENARIOS", "Scenario", "Whole", "compare", "run_scenario", "verdict", "whole"]

ROWS = ["status", "who answers", "challenge", "what the client sees", "what fixes it",
        "can a retry help?", "may a cache store it?", "findings"]


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    run: Callable[[Simulator], Exchange]  # the exchange to show


def _origin(path: str, headers: dict | None = None):
    def run(sim) -> Exchange:
        cap = Capture(clock=sim.clock)
        with sim.client(capture=cap) as client:
            client.get(path, headers=headers)
        return cap[-1]
    return run


def _gateway(mode: str, device: str):
    def run(sim) -> Exchange:
        previous = sim.gateway.mode
        sim.gateway.mode = mode
        sim.gateway.portal.sign_out(device)  # captive, whatever happened before
        cap = Capture(clock=sim.clock)
        try:
            with sim.client(gateway=True, device=device, capture=cap) as client:
                client.get("/status/200")
        finally:
            sim.gateway.mode = previous
        return cap[-1]
    return run


def _seed_page(sim) -> Exchange:
    return inspect_handler(seed_page_app)


SCENARIOS: dict[str, Scenario] = {s.key: s for s in (
    Scenario("401-basic", "401 Basic (origin wants credentials)", _origin("/basic-auth/alice/wonderland")),
    Scenario("401-bearer", "401 Bearer, expired token (origin)",
             _origin("/bearer", {"authorization": "Bearer expired"})),
    Scenario("407", "407 proxy wants credentials (gateway)", _gateway("proxy-auth", "127.0.0.47")),
    Scenario("511", "511 captive portal (gateway, RFC 6585)", _gateway("rfc6585", "127.0.0.51")),
    Scenario("511-origin", "511 from the origin (/status/511)", _origin("/status/511")),
    Scenario("511-exception", "511 for every unhandled exception (seed page)", _seed_page),
    Scenario("511-cacheable", "511 with max-age (cacheable portal)", _gateway("cacheable", "127.0.0.52")),
    Scenario("200-spoof", "200 login page in place of the site (spoof portal)", _gateway("spoof", "127.0.0.53")),
    Scenario("401-bare", "401 without a challenge (/status/401)", _origin("/status/401")),
    Scenario("403", "403 Forbidden (origin refuses)", _origin("/status/403")),
)}


def run_scenario(sim, key: str) -> Exchange:
    """Run scenario ``key`` (see ``SCENARIOS``) against ``sim``; returns its exchange."""
    try:
        scenario = SCENARIOS[key]
    except KeyError:
        raise ValueError(f"unknown scenario {key!r}; choose one of: {', '.join(SCENARIOS)}") from None
    return scenario.run(sim)


def _challenge(ex: Exchange) -> str:
    for name in ("WWW-Authenticate", "Proxy-Authenticate"):
        value = ex.header(name)
        if value:
            return f"{name}: {value}"
    if ex.status == 511:
        linked = not any(f.id == "511-without-link" for f in inspect(ex, httplint=False))
        return "none (a link to the portal instead)" if linked else "none, and no link"
    if ex.header("location"):
        return f"Location: {ex.header('location')}"
    return "none"


def _sees(ex: Exchange, who: str, ids: set[str]) -> str:
    """What a browser and a program get to see: a dialog, a page, or only a status."""
    s = ex.status
    challenge = ex.header("www-authenticate") or ""
    if s == 401:
        if challenge.lower().startswith(("basic", "digest")):
            return "a browser: its own sign-in dialog for this site; a program: the 401 and its challenge"
        if challenge:
            return "a browser: the error as a page, no dialog; a program: the 401 and its challenge"
        return "a browser: the error as a page; a program: a 401 that does not say how to authenticate"
    if s == 407:
        return ("a browser: its sign-in dialog for the proxy; a program: the 407, an error unless it "
                "holds credentials for the proxy")
    if s == 511:
        html = media_type(ex.header("content-type")) == "text/html"
        body = ex.response_body.decode("utf-8", "replace").lower()
        if "511-without-link" in ids:
            page = "the body, which says to authenticate but not where"
        elif html and 'http-equiv="refresh"' in body:
            page = "the network's page, whose meta refresh takes it straight to the login page"
        else:
            page = "the network's page, with a link to the login page"
        program = ("a 511, which it reads as the network's and stops to sign in, though the site sent it"
                   if who == "origin" else
                   "a 511, which it reads as the network's answer, not the site's (RFC 6585 section 6.1)")
        stored = "; once stored, the same 511 again after signing in" if "511-storable" in ids else ""
        return f"a browser: {page}; a program: {program}{stored}"
    if who == "gateway" and s < 400:
        return ("a browser: the portal's login page at the site's address, as if the site sent it; "
                "a program: a success whose body is not what it asked for")
    if s == 403:
        return "a browser: the site's refusal as a page, no sign-in dialog; a program: the 403"
    return f"the {s} and its body"


def _fix(ex: Exchange, who: str, ids: set[str]) -> str:
    s = ex.status
    if s == 401:
        if "401-without-www-authenticate" in ids:
            return "the server: add WWW-Authenticate (the client cannot know how to authenticate)"
        if 'error="invalid_token"' in (ex.header("www-authenticate") or ""):
            return "the client: refresh the token, resend with the new Authorization"
        return "the client: send Authorization with credentials for this site"
    if s == 407:
        if "407-without-proxy-authenticate" in ids:
            return "the proxy: add Proxy-Authenticate"
        return "the client: send Proxy-Authorization to the proxy it chose"
    if s == 511:
        if who == "origin" or "511-from-origin" in ids:
            return "the server: report its own error as 500/503 (problem+json), not 511"
        if "511-storable" in ids or "511-from-cache" in ids:
            return "the gateway: send 511 with Cache-Control: no-store; the user: clear the cache"
        if "511-without-link" in ids:
            # Nothing shows who sent it: a 511 reads as the network's (RFC 6585 section 6.1).
            return ("whoever sent it: a network links its 511 to the login page; "
                    "a server that failed answers 500/503, never 511")
        return "the user: sign in to the network at the linked page"
    if who == "gateway" or "gateway-response-storable" in ids:
        return "the gateway: answer 511 instead of pretending to be the site"
    if s == 403:
        return ("the user: ask for access, or sign in as someone who has it; the same credentials "
                "will not do (RFC 9110 section 15.5.4)")
    if s in (429, 503):
        return "time: wait as Retry-After says"
    return "nothing: not an error" if s < 400 else "the server"


def _retry(ex: Exchange, who: str, ids: set[str]) -> str:
    s = ex.status
    if s == 401:
        if 'error="invalid_token"' in (ex.header("www-authenticate") or ""):
            return "once, after refreshing the token"
        return "only with (new) credentials"
    if s == 407:
        return "only with Proxy-Authorization"
    if s == 403:
        return "not with the same credentials; other credentials may help, or nothing may"
    if s == 511:
        if who == "origin":
            return "no: the server is broken, and clients that trust 511 stop to sign in"
        if "511-from-cache" in ids or "511-storable" in ids:
            return "not even after signing in, while the cached copy is fresh"
        if "511-without-link" in ids:
            return "only after signing in to the network, and it does not say where"
        return "only after signing in to the network"
    if s in (429, 503):
        return "yes, after Retry-After" if ex.header("retry-after") else "yes, with backoff (no Retry-After)"
    if who == "gateway":
        return "only after signing in (and only if nothing cached the fake page)"
    if s >= 500:
        return "maybe: idempotent requests, with backoff"
    return "no need" if s < 400 else "no: fix the request"


def _storable(ex: Exchange, ids: set[str]) -> str:
    if ex.from_cache:
        return "it was: served from a cache"
    cc = cache_directives(ex.header("cache-control"))
    if ex.status == 511:
        if "511-storable" in ids:
            return "yes, wrongly (RFC 6585 forbids it)"
        return "no: 511 MUST NOT be stored" + (" (and no-store)" if "no-store" in cc else "")
    reasons = shared_cache_may_store(ex)
    if reasons:
        return "yes: " + "; ".join(reasons)
    if "no-store" in cc:
        return "no: no-store"
    if "private" in cc:
        return "not by a shared cache: private"
    return "no: not cacheable by default"


def verdict(ex: Exchange) -> dict[str, str]:
    """The comparison table's facts about one exchange (see ``ROWS``)."""
    who = attribute(ex)
    findings = inspect(ex)
    ids = {f.id for f in findings}
    counts = [f"{sum(f.level == lvl for f in findings)} {lvl}(s)" for lvl in ("error", "warning")]
    answers = who.answered_by if who.generated_by == who.answered_by else \
        f"{who.answered_by} (made by {who.generated_by})"
    return {
        "status": f"{ex.status} {ex.reason}".strip(),
        "who answers": answers,
        "challenge": _challenge(ex),
        "what the client sees": _sees(ex, who.generated_by, ids),
        "what fixes it": _fix(ex, who.generated_by, ids),
        "can a retry help?": _retry(ex, who.generated_by, ids),
        "may a cache store it?": _storable(ex, ids),
        "findings": ", ".join(counts),
    }


def compare(exchanges: dict[str, Exchange]):
    """A pandas DataFrame: one column per labelled exchange, one row per question."""
    import pandas as pd

    return pd.DataFrame({label: verdict(ex) for label, ex in exchanges.items()}, index=ROWS)


class Whole:
    """A table shown whole: every cell's full text, wrapped, never cut short.

    pandas cuts long cells at ``display.max_colwidth`` (50 characters by default);
    in this table the long cells are the answers. The HTML wraps each cell (inline
    styles, so JupyterLab's own table style cannot undo them); the text form
    prints every cell in full.
    """

    _CELL = ("text-align:left;vertical-align:top;white-space:normal;overflow-wrap:anywhere;"
             "min-width:7em;max-width:26em;padding:4px 8px;border-bottom:1px solid #ddd")

    def __init__(self, frame) -> None:
        self.frame = frame

    def _repr_html_(self) -> str:
        def cell(tag, text, bold=False):
            style = self._CELL + (";font-weight:bold" if bold else "")
            return f'<{tag} style="{style}">{escape(str(text))}</{tag}>'

        head = [cell("th", c, True) for c in [self.frame.index.name or "", *self.frame.columns]]
        rows = ["<tr>" + "".join(head) + "</tr>"]
        for label, values in zip(self.frame.index, self.frame.values):
            rows.append("<tr>" + cell("th", label, True) + "".join(cell("td", v) for v in values) + "</tr>")
        return '<table style="border-collapse:collapse">' + "".join(rows) + "</table>"

    def __repr__(self) -> str:
        return self.frame.to_string(max_colwidth=None)


def whole(frame) -> Whole:
    """Show ``frame`` (e.g. :func:`compare`'s table) with every cell in full, wrapped."""
    return Whole(frame)
