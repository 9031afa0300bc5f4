"""A web app behind the captive portal: what its script's ``fetch()`` can read, in Chromium.

The app's page is at ``http://app.test/`` (loaded before the device lost its
session: the browser holds it, so the portal never sees that load), and its
script calls an API at ``http://api.test/``, through the gateway. For each
portal mode, with the gateway's CORS headers off and on (``Gateway(cors=)``),
before and after the device signs in, :func:`run_cors` records what the
script read and what the browser received on the wire, as Chromium's
developer tools show it.

Why two views: a cross-origin answer without ``Access-Control-Allow-Origin``
fails the Fetch Standard's "CORS check", which makes it "a network error"
(type "error", status 0), and ``fetch()`` then "reject[s] p with a TypeError"
(https://fetch.spec.whatwg.org/). The script cannot tell a 511 from a dead
network; only the developer tools saw the 511.

The wire view comes from the Chrome DevTools Protocol's Network domain
(``Network.responseReceivedExtraInfo``: "the raw response headers", with the
status, and ``Network.loadingFailed``'s ``corsErrorStatus``), which is what
the Network panel shows. Playwright's ``page.on("response")`` does not report
a response that failed its CORS check, so it cannot be the witness here.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .._simulator import Simulator
from ..core import VirtualClock

__all__ = ["CHROMIUM", "CORS_MODES", "CorsRow", "cors_table", "run_cors"]

#: Debian's Chromium, the browser the course's browser lessons use.
CHROMIUM = "/usr/bin/chromium"

#: The modes measured by default: each way a portal answers, and the explicit proxy.
CORS_MODES = ("rfc6585", "redirect", "spoof", "cacheable", "proxy-auth")

APP_ORIGIN = "http://app.test"
API = "api.test"
DEVICE = "127.0.0.1"  # where Chromium connects from: the gateway's device for the browser

# The app's page, as the browser holds it. No favicon request: the only traffic
# through the gateway is the script's.
_APP_PAGE = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
             "<title>The app</title></head><body><h1>The app</h1></body></html>")

# Chromium's own launch options for a lab: no background traffic of its own, no
# HTTPS-first detour for the http:// calls (the same as the course's browser tests).
_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
         "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable")

# The app's calls, run together in the page. Every result is plain data; an
# exception becomes its name and message, as the app's catch block would see it.
_FETCH_ALL = """async (calls) => Promise.all(calls.map(async (c) => {
  try {
    const r = await fetch(c.url, {method: c.method, headers: c.headers, body: c.body, redirect: c.redirect,
                                  cache: c.cache, signal: AbortSignal.timeout(c.timeout_ms)});
    const text = await r.text();
    let login = null;
    try { login = JSON.parse(text).login_url ?? null; } catch (e) { /* not JSON: no link */ }
    return {status: r.status, type: r.type, content_type: r.headers.get("content-type"), login_url: login};
  } catch (e) {
    return {error: `${e.name}: ${e.message}`};
  }
}))"""


@dataclass(frozen=True, slots=True)
class CorsRow:
    """One ``fetch()`` by the app's script, as the script and as the network saw it.

    ``status`` is what the script could read: a status code, ``None`` when
    ``fetch()`` threw (``error`` then holds what it threw), or ``"missing"``
    when no Chromium ran (``error`` says why). ``network_status`` is the
    request's first answer on the wire (``None``: no HTTP answer, only
    ``devtools``'s error); ``wire`` lists every status on the wire, redirects
    included; ``preflight_status`` is the ``OPTIONS`` preflight's answer, for
    a preflighted call. ``devtools`` is Chromium's reason for a failure: a
    CORS error name (``MissingAllowOriginHeader``) or a net error.
    ``from_cache``: the browser answered from its HTTP cache (nothing on the
    wire). ``content_type`` and ``login_url`` (the problem+json member) are
    what the script could read of the body; ``response_type`` is the
    ``Response.type`` it got (``"cors"``, ``"basic"``, ``"opaqueredirect"``).
    ``navigator_online`` is what ``navigator.onLine`` said at the time.
    """

    client: str
    mode: str
    https: bool
    portal_cors: bool
    signed_in: bool
    status: int | str | None
    error: str | None = None
    network_status: int | None = None
    preflight_status: int | None = None
    devtools: str | None = None
    wire: tuple[int, ...] = ()
    from_cache: bool = False
    content_type: str | None = None
    login_url: str | None = None
    response_type: str | None = None
    navigator_online: bool | None = None
    url: str = ""

    @property
    def script_reads(self) -> str:
        """What the app's script got, in a few words: a status, or what ``fetch()`` threw."""
        if self.status is None:
            return self.error or "nothing"
        if self.status == "missing":
            return f"missing: {self.error}"
        plain = self.response_type in (None, "basic", "cors")
        return str(self.status) if plain else f"{self.status} ({self.response_type})"

    @property
    def network_saw(self) -> str:
        """What the developer tools showed: the preflight, the statuses on the wire, the failure."""
        parts = [] if self.preflight_status is None else [f"OPTIONS {self.preflight_status}"]
        if self.from_cache:
            parts.append("from the browser's cache")
        elif self.wire:
            parts.append(" -> ".join(map(str, self.wire)))
        if self.status is None and self.devtools:
            parts.append(_cut(self.devtools))
        return ", ".join(parts) or "nothing"

    def as_dict(self) -> dict:
        """The row as plain data (a table row, a DataFrame record, JSON), with both summaries."""
        return {**dataclasses.asdict(self), "script_reads": self.script_reads, "network_saw": self.network_saw}


def _cut(devtools: str) -> str:
    # A tunnel the spoofing portal accepts and then breaks is reported as
    # ERR_CONNECTION_CLOSED or ERR_CONNECTION_RESET, as the timing falls:
    # one failure, named once (labkit.labs' client tables do the same).
    if devtools in ("net::ERR_CONNECTION_CLOSED", "net::ERR_CONNECTION_RESET"):
        return "net::ERR_CONNECTION_CLOSED or _RESET (connection cut)"
    return devtools


@dataclass(frozen=True, slots=True)
class _Call:
    client: str
    https: bool
    method: str
    url: str
    headers: dict
    body: str | None
    redirect: str = "follow"
    cache: str = "default"


def _calls(mode: str, portal_cors: bool, https: bool) -> list[_Call]:
    # One URL per call and network state, so each wire record is this call's own.
    # The app asks for JSON, a CORS-safelisted Accept: the GET stays a simple request.
    key = f"{mode}-{'cors' if portal_cors else 'plain'}"
    calls = [
        _Call("chromium fetch", False, "GET", f"http://{API}/status/200?call=get-{key}",
              {"accept": "application/json"}, None),
        # A JSON body and a custom header: both make Chromium ask first (OPTIONS).
        _Call("chromium fetch (preflight)", False, "POST", f"http://{API}/status/200?call=post-{key}",
              {"accept": "application/json", "content-type": "application/json", "x-request-id": f"app-{key}"},
              '{"order": 1}'),
        # What a page can do without anyone's CORS headers: ask its own origin for a
        # 204 that never redirects. Same origin, so the script reads whatever comes.
        _Call("chromium fetch (same-origin probe)", False, "GET", f"{APP_ORIGIN}/status/204?call=probe-{key}",
              {}, None, redirect="manual", cache="no-store"),
    ]
    if https:
        calls.append(_Call("chromium fetch", True, "GET", f"https://{API}/status/200?call=tls-{key}",
                           {"accept": "application/json"}, None))
    return calls


def run_cors(
    *,
    modes: Iterable[str] = CORS_MODES,
    portal_cors: Iterable[bool] = (False, True),
    chromium: str = CHROMIUM,
    https: bool = True,
    fetch_timeout: float = 1.5,
) -> list[CorsRow]:
    """What the app's ``fetch()`` reads in each of ``modes``, with the portal's CORS headers off and on.

    A new simulated network of its own (the learner's devices are not
    touched), one Chromium for the whole run. For each mode and setting, in a
    fresh browser context: the app's calls while the device is captive, then
    the same calls after it signs in (the portal's session; ``proxy-auth``
    asks for proxy credentials on every request instead). Each ``fetch()``
    gives up after ``fetch_timeout`` seconds (``AbortSignal.timeout``): a
    proxy's 407 is answered by Chromium itself, which waits for someone to
    type credentials. ``https`` adds an ``https://`` call, which goes through
    a CONNECT.

    Without Chromium at ``chromium`` (or without Playwright), every row says
    ``status="missing"``, with the reason in ``error``.
    """
    # One mode or one setting may be given alone: "rfc6585", True.
    modes = [modes] if isinstance(modes, str) else list(modes)
    settings = [portal_cors] if isinstance(portal_cors, bool) else list(portal_cors)
    if not 0 < fetch_timeout <= 10:
        raise ValueError(f"fetch_timeout must be more than 0 and at most 10 seconds, not {fetch_timeout!r}")
    # Real time at the start, so the Date the gateway sends is now: Chromium's cache
    # judges the freshness of what it stores against it.
    sim = Simulator(clock=VirtualClock(time.time()), name="labkit-cors")
    for mode in modes:
        sim.gateway.mode = mode  # an unknown name fails here, with the list of modes
    for setting in settings:
        sim.gateway.cors = setting  # so does a setting that is not a bool
    if not modes or not settings:
        return []
    reason = _unavailable(chromium)
    if reason is not None:
        return _missing(modes, settings, https, reason)
    # Playwright's sync API refuses a thread that runs an event loop (a
    # notebook's kernel does): the browser is driven from a worker thread.
    with ThreadPoolExecutor(1, thread_name_prefix="labkit-cors") as pool:
        return pool.submit(_run, sim, modes, settings, chromium, https, fetch_timeout).result()


def _run(sim: Simulator, modes: list[str], settings: list[bool], chromium: str, https: bool,
         fetch_timeout: float) -> list[CorsRow]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    rows: list[CorsRow] = []
    sim.serve()
    try:
        with sync_playwright() as p:
            try:
                browser = p.chromium.launch(executable_path=chromium, headless=True, timeout=20_000,
                                            args=[*_ARGS, f"--proxy-server={sim.gateway_url}"])
            except PlaywrightError as exc:
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                return _missing(modes, settings, https, f"Chromium at {chromium} did not start: {first_line}")
            try:
                for setting in settings:
                    sim.gateway.cors = setting
                    for mode in modes:
                        sim.gateway.mode = mode
                        rows += _measure(browser, sim, mode, setting, _calls(mode, setting, https), fetch_timeout)
            finally:
                browser.close()
    finally:
        sim.stop()
    return rows


def cors_table(rows: Iterable[CorsRow], *, signed_in: bool = False, https: bool = False):
    """A pandas DataFrame of ``rows``: one line per mode and call, in the order measured.

    Columns: what the script read and what the developer tools saw, with the
    portal's CORS headers off and on. Only the rows with this ``signed_in``
    and ``https``.
    """
    import pandas as pd

    lines: dict[tuple[str, str], dict] = {}
    for r in rows:
        if r.signed_in is signed_in and r.https is https:
            setting = "portal CORS on" if r.portal_cors else "portal CORS off"
            line = lines.setdefault((r.mode, r.client), {})
            line[(setting, "script reads")] = r.script_reads
            line[(setting, "DevTools saw")] = r.network_saw
    frame = pd.DataFrame.from_dict(lines, orient="index")
    if not lines:
        return frame
    frame.index.names = ["mode", "call"]
    return frame.sort_index(axis=1, level=0, sort_remaining=False)


def _missing(modes: list[str], settings: list[bool], https: bool, reason: str) -> list[CorsRow]:
    return [CorsRow(call.client, mode, call.https, setting, signed_in, "missing", error=reason, url=call.url)
            for setting in settings for mode in modes for signed_in in (False, True)
            for call in _calls(mode, setting, https)]


def _unavailable(chromium: str) -> str | None:
    if not os.path.exists(chromium):
        return f"no Chromium at {chromium} (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright; it drives the system's Chromium)"
    return None


def _measure(browser, sim: Simulator, mode: str, portal_cors: bool, calls: list[_Call],
             fetch_timeout: float) -> list[CorsRow]:
    portal = sim.gateway.portal
    portal.reset()
    context = browser.new_context()
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        wire = _Wire(context.new_cdp_session(page))
        # The page the browser already holds: served here, never through the gateway.
        page.route(f"{APP_ORIGIN}/", lambda route: route.fulfill(status=200, body=_APP_PAGE,
                                                                content_type="text/html; charset=utf-8"))
        page.goto(f"{APP_ORIGIN}/")
        # No more interception from here: while a route is set, Playwright answers an
        # intercepted CORS preflight itself with a 204 that allows everything (its
        # Chromium network manager, "isInterceptedOptionsPreflight"), and the page's
        # later calls to its own origin must go through the gateway like the API's.
        page.unroute_all()
        rows = []
        for signed_in in (False, True):
            if signed_in:
                portal.sign_in(DEVICE, "guest", "letmein")
            wire.clear()
            online = page.evaluate("navigator.onLine")
            results = page.evaluate(_FETCH_ALL, [
                {"url": c.url, "method": c.method, "headers": c.headers, "body": c.body, "redirect": c.redirect,
                 "cache": c.cache,
                 "timeout_ms": int(fetch_timeout * 1000)} for c in calls])
            wire.settle(page, [c.url for c in calls])
            rows += [_row(call, result, wire, mode, portal_cors, signed_in, online)
                     for call, result in zip(calls, results)]
        return rows
    finally:
        context.close()
        portal.reset()


def _row(call: _Call, result: dict, wire: "_Wire", mode: str, portal_cors: bool, signed_in: bool,
         online: bool) -> CorsRow:
    seen = wire.statuses(call.url, call.method)
    preflight = wire.statuses(call.url, "OPTIONS")
    return CorsRow(
        client=call.client, mode=mode, https=call.https, portal_cors=portal_cors, signed_in=signed_in,
        status=result.get("status"), error=result.get("error"),
        network_status=seen[0] if seen else None,
        preflight_status=preflight[0] if preflight else None,
        devtools=wire.request(call.url, call.method)["failure"] or wire.request(call.url, "OPTIONS")["failure"],
        wire=seen, from_cache=wire.request(call.url, call.method)["from_cache"],
        content_type=result.get("content_type"), login_url=result.get("login_url"),
        response_type=result.get("type"), navigator_online=online, url=call.url,
    )


class _Wire:
    """What Chromium's Network domain reported, per request (the developer tools' view)."""

    def __init__(self, cdp) -> None:
        self._by_id: dict[str, dict] = {}
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceivedExtraInfo", self._raw)
        cdp.on("Network.requestServedFromCache", self._cached)
        cdp.on("Network.responseReceived", self._received)
        cdp.on("Network.loadingFailed", self._failed)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")

    def clear(self) -> None:
        self._by_id.clear()

    def _entry(self, request_id: str) -> dict:
        return self._by_id.setdefault(request_id, {
            "url": None, "method": None, "statuses": [], "received": None, "failure": None, "from_cache": False,
            "done": False})

    def _sent(self, event: dict) -> None:
        entry = self._entry(event["requestId"])
        if entry["url"] is None:  # a redirect is sent again under the same id: keep the URL asked for
            entry["url"], entry["method"] = event["request"]["url"], event["request"]["method"]

    def _raw(self, event: dict) -> None:
        self._entry(event["requestId"])["statuses"].append(event["statusCode"])

    def _cached(self, event: dict) -> None:
        self._entry(event["requestId"])["from_cache"] = True

    def _received(self, event: dict) -> None:
        # A stored answer reaches the page with no raw headers from the network.
        if event["response"].get("fromDiskCache"):
            self._cached(event)
        else:
            # The raw-headers event may trail the response it belongs to; this one
            # always comes before the load finishes.
            self._entry(event["requestId"])["received"] = event["response"]["status"]

    def _failed(self, event: dict) -> None:
        entry = self._entry(event["requestId"])
        cors = (event.get("corsErrorStatus") or {}).get("corsError")
        entry["failure"] = f"{event.get('errorText')} ({cors})" if cors else event.get("errorText")
        entry["done"] = True

    def _finished(self, event: dict) -> None:
        self._entry(event["requestId"])["done"] = True

    def request(self, url: str, method: str) -> dict:
        for entry in self._by_id.values():
            if entry["url"] == url and entry["method"] == method:
                return entry
        return {"statuses": [], "received": None, "failure": None, "from_cache": False, "done": False}

    def statuses(self, url: str, method: str) -> tuple[int, ...]:
        """Every status of this request on the wire, redirects first; none for a stored answer."""
        entry = self.request(url, method)
        if entry["statuses"]:
            return tuple(entry["statuses"])
        return (entry["received"],) if entry["received"] is not None else ()

    def settle(self, page, urls: list[str], *, seconds: float = 2.0) -> None:
        """Let the protocol's last events for these requests arrive (they trail the script's result)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            mine = [e for e in self._by_id.values() if e["url"] in urls and e["method"] != "OPTIONS"]
            if len(mine) >= len(urls) and all(e["done"] for e in mine):
                return
            page.wait_for_timeout(20)
