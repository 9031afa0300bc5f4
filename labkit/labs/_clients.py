"""What real HTTP clients do behind the portal, measured: one row per client, mode and scheme.

Each client is the real thing, run for real against the gateway on loopback,
used as an HTTP proxy: curl and wget as subprocesses, Debian's Chromium
through Playwright, and httpx, requests, urllib3, aiohttp and
``urllib.request`` with their defaults (a proxy set, a timeout, nothing
else). For ``https://`` each sends CONNECT (RFC 9110 section 9.3.6) and the
captive gateway refuses the tunnel.

A row is one client in one mode: it asks for a news page while its device
is captive, then the device signs in and it asks again with the same client
(same session, same browser profile). The gateway counts what reaches it,
so a second answer that never got there came from the client's own cache.

A client that is not installed is a row with status ``"missing"``, never a
silent gap. Everything is bounded: subprocess and request timeouts, and
Chromium is launched once per matrix.
"""

from __future__ import annotations

import asyncio
import functools
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from html import unescape
from http import HTTPStatus
from importlib import metadata
from urllib.parse import urlsplit

from ..core import Request, Response, media_type, redact_url
from ..gateway import DEFAULT_USERS, MODES, Gateway
from ..origin import Origin
from ..transport import LoopbackServer, ProxyHttpToolsProtocol

__all__ = [
    "CLIENTS",
    "CLIENT_URL",
    "ClientRow",
    "after_sign_in_table",
    "classify_body",
    "client_detail",
    "client_matrix",
    "client_table",
    "collect_rows",
    "ended_with",
    "error_kind",
    "missing_clients",
    "outcome",
]

#: Every client measured, in the order of the tables.
CLIENTS = ("curl", "wget", "chromium", "httpx", "requests", "urllib3", "aiohttp", "urllib.request")

#: What every client asks for (and its https:// form through CONNECT).
CLIENT_URL = "http://news.test/status/200"

# Executables, overridable per matrix (a path that does not exist makes a "missing" row).
# Chromium is Debian's, driven by Playwright (never a browser Playwright downloads).
DEFAULT_PATHS = {name: shutil.which(name) or f"/usr/bin/{name}" for name in ("curl", "wget", "chromium")}

# The Python modules each client needs.
_MODULES = {"chromium": "playwright.sync_api", "httpx": "httpx", "requests": "requests",
            "urllib3": "urllib3", "aiohttp": "aiohttp", "urllib.request": "urllib.request"}

# Each client but Chromium (which cannot choose its source address) is its own
# device: the gateway tells devices apart by address (RFC 8952 section 3.4.2).
# Every row starts with its device signed out, so rows do not depend on each other.
_DEVICES = {name: f"127.0.0.{41 + i}" for i, name in enumerate(CLIENTS)}
_DEVICES["chromium"] = "127.0.0.1"
_DEVICES["urllib.request"] = "127.0.0.1"  # binds no source address without replacing its connection class

TIMEOUT = 5.0  # seconds, per request; every wait below is bounded by it
_USER, _PASSWORD = next(iter(DEFAULT_USERS.items()))

CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    # Ask for http:// as given, without an HTTPS-first detour.
    "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
)


@dataclass(frozen=True, slots=True)
class ClientRow:
    """What one client did in one mode, before and after its device signed in.

    ``status`` is the final status the program got (after any redirects it
    followed), ``None`` when it raised instead (``error`` says what), or
    ``"missing"`` when the client is not installed. ``body`` is what the
    program ended up holding, as labkit reads it ("login page", "news page",
    "511 page", "empty", ...). ``concluded`` is what a program that trusts
    the outcome would believe. ``after`` and ``after_body`` are the same
    request once the device has signed in; ``cached`` is true when that
    second answer never reached the gateway.
    """

    client: str
    mode: str
    https: bool
    status: int | str | None
    error: str | None = None
    redirects: int = 0
    final_url: str | None = None
    body: str = "empty"
    concluded: str = ""
    after: int | str | None = None
    after_body: str = ""
    cached: bool | None = None
    device: str = ""
    command: str = ""
    version: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Fetch:
    """One request as a client reported it."""

    status: int | None
    body: bytes = b""
    redirects: int = 0
    final_url: str | None = None
    error: str | None = None
    content_type: str = ""


class _Missing(Exception):
    """The client is not installed here."""


class _Unusable(Exception):
    """The client is installed but could not be started (its message says why)."""


class _Tally:
    """The gateway, counting what reaches it per device and target (for the cache question)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.seen: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        key = (request.client_host, _target(request))
        with self._lock:
            self.seen[key] += 1
        return self.gateway(request)


def _target(request: Request) -> str:
    if request.method == "CONNECT":
        return f"https://{request.authority or request.host}"
    host = request.authority or request.header("host") or ""
    return f"http://{host}{request.path}"


# -- the clients ------------------------------------------------------------
# Each is a context manager: set up once per row, it yields fetch(url) -> _Fetch,
# so the row's two requests share whatever state the client keeps.

@contextmanager
def _curl(proxy: str, device: str, paths: dict, _browser) -> Iterator[Callable[[str], _Fetch]]:
    exe = _executable(paths, "curl")

    def fetch(url: str) -> _Fetch:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "body")
            # No -L: curl follows no redirect unless asked (curl(1), --location).
            cmd = [exe, "-sS", "-o", out, "-w", "%{http_code} %{num_redirects} %{url_effective}",
                   "--max-time", str(int(TIMEOUT)), "--interface", device, "--proxy", proxy, url]
            done = _run(cmd)
            body = _read(out)
        code, redirects, final = (done.stdout.split(" ", 2) + ["", "", ""])[:3]
        status = int(code) if code.isdigit() and code != "000" else None
        error = None
        if done.returncode != 0:
            said = re.sub(r"^curl: \(\d+\) ", "", done.stderr.strip())
            error = f"exit {done.returncode}: {said}"
        return _Fetch(status, body, int(redirects or 0), (final or url) if status else None, error)

    yield fetch


@contextmanager
def _wget(proxy: str, device: str, paths: dict, _browser) -> Iterator[Callable[[str], _Fetch]]:
    exe = _executable(paths, "wget")

    def fetch(url: str) -> _Fetch:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "body")
            # --tries=1 keeps the matrix bounded (wget retries network failures
            # 20 times by default, wget(1) --tries); redirects stay at its default.
            cmd = [exe, "-nv", "-S", "-O", out, "--tries=1", f"--timeout={int(TIMEOUT)}",
                   f"--bind-address={device}", "-e", "use_proxy=yes", "-e", f"http_proxy={proxy}",
                   "-e", f"https_proxy={proxy}", url]
            done = _run(cmd)
            body = _read(out)
        # -S prints each response's head, indented; -nv its one-line verdict.
        statuses = [int(m) for m in re.findall(r"^\s+HTTP/\d(?:\.\d)?\s+(\d{3})", done.stderr, re.M)]
        locations = re.findall(r"^\s+location:\s*(\S+)", done.stderr, re.M | re.I)
        redirects = sum(1 for code in statuses[:-1] if 300 <= code < 400)
        final = (locations[redirects - 1] if redirects else url) if statuses else None
        error = None
        if done.returncode != 0:
            said = [re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", "", line.strip())
                    for line in done.stderr.splitlines() if line.strip() and not line.startswith(" ")
                    and not line.rstrip().endswith(":")]
            error = f"exit {done.returncode}" + (f": {said[-1]}" if said else "")
        return _Fetch(statuses[-1] if statuses else None, body, redirects, final, error)

    yield fetch


@contextmanager
def _httpx(proxy: str, device: str, paths: dict, _browser) -> Iterator[Callable[[str], _Fetch]]:
    try:
        import httpx
    except ImportError as exc:
        raise _Missing(f"httpx is not importable: {exc}") from None
    from ..transport import proxy_transport

    # httpx's own HTTPTransport drops local_address once a proxy is set, so the
    # device's address comes from labkit's transport (labkit.transport.ProxyTransport).
    with httpx.Client(transport=proxy_transport(proxy, device=device), timeout=TIMEOUT) as client:
        def fetch(url: str) -> _Fetch:
            try:
                r = client.get(url)
            except httpx.HTTPError as exc:
                return _Fetch(None, error=_error(exc))
            return _Fetch(r.status_code, r.content, len(r.history), str(r.url),
                          content_type=r.headers.get("content-type", ""))
        yield fetch


@contextmanager
def _requests(proxy: str, device: str, paths: dict, _browser) -> Iterator[Callable[[str], _Fetch]]:
    try:
        import requests
    except ImportError as exc:
        raise _Missing(f"requests is not importable: {exc}") from None
    from requests.adapters import HTTPAdapter

    class FromDevice(HTTPAdapter):
        # The documented way to pass connection options: subclass the adapter.
        def init_poolmanager(self, *args, **kwargs):
            kwargs["source_address"] = (device, 0)
            super().init_poolmanager(*args, **kwargs)

        def proxy_manager_for(self, proxy_url, **kwargs):
            kwargs["source_address"] = (device, 0)
            return super().proxy_manager_for(proxy_url, **kwargs)

    with requests.Session() as session:
        session.trust_env = False  # this machine's *_proxy variables must not pick the proxy
        session.mount("http://", FromDevice())
        session.mount("https://", FromDevice())
        proxies = {"http": proxy, "https": proxy}

        def fetch(url: str) -> _Fetch:
            try:
                r = session.get(url, proxies=proxies, timeout=TIMEOUT)
            except requests.RequestException as exc:
                return _Fetch(None, error=_error(exc))
            return _Fetch(r.status_code, r.content, len(r.history), r.url,
                          content_type=r.headers.get("content-type", ""))
        yield fetch


@contextmanager
def _urllib3(proxy: str, device: str, paths: dict, _browser) -> Iterator[Callable[[str], _Fetch]]:
    try:
        import urllib3
    except ImportError as exc:
        raise _Missing(f"urllib3 is not importable: {exc}") from None
    with urllib3.ProxyManager(proxy, source_address=(device, 0), timeout=TIMEOUT) as pool:
        def fetch(url: str) -> _Fetch:
            try:
                r = pool.request("GET", url)
            except urllib3.exceptions.HTTPError as exc:
                return _Fetch(None, error=_error(exc))
            history = r.retries.history if r.retries is not None else ()
            redirects = sum(1 for h in history if h.redirect_location)
            return _Fetch(r.status, r.data, redirects, r.url or url,
                          content_type=r.headers.get("content-type", ""))
        yield fetch


@contextmanager
def _aiohttp(proxy: str, device: str, paths: dict, _browser) -> Iterator[Callable[[str], _Fetch]]:
    try:
        import aiohttp
    except ImportError as exc:
        raise _Missing(f"aiohttp is not importable: {exc}") from None
    # Its own event loop on its own thread: the caller's thread may already run
    # one (a notebook's, or Playwright's).
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="labkit-clients-aiohttp", daemon=True)
    thread.start()

    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(TIMEOUT * 2)

    async def start():
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(device, 0)),
                                     timeout=aiohttp.ClientTimeout(total=TIMEOUT))

    async def get(url: str) -> _Fetch:
        try:
            async with session.get(url, proxy=proxy) as r:
                body = await r.read()
                return _Fetch(r.status, body, len(r.history), str(r.url),
                              content_type=r.headers.get("content-type", ""))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return _Fetch(None, error=_error(exc))

    try:
        session = run(start())
        try:
            yield lambda url: run(get(url))
        finally:
            run(session.close())
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT)
        loop.close()


@contextmanager
def _urllib(proxy: str, device: str, paths: dict, _browser) -> Iterator[Callable[[str], _Fetch]]:
    redirects = []

    class Counting(urllib.request.HTTPRedirectHandler):
        # redirect_request is the documented hook; counting leaves its behaviour alone.
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            redirects.append(newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy, "https": proxy}), Counting)

    def fetch(url: str) -> _Fetch:
        redirects.clear()
        try:
            with opener.open(url, timeout=TIMEOUT) as r:
                return _Fetch(r.status, r.read(), len(redirects), r.url,
                              content_type=r.headers.get("content-type", ""))
        except urllib.error.HTTPError as exc:
            # An HTTPError is also the response: a program may read its body.
            with exc:
                body = exc.read()
            return _Fetch(None, body, len(redirects), exc.url, _error(exc),
                          content_type=exc.headers.get("content-type", "") if exc.headers else "")
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            return _Fetch(None, error=_error(exc))

    yield fetch


@contextmanager
def _chromium(proxy: str, device: str, paths: dict, browser) -> Iterator[Callable[[str], _Fetch]]:
    if isinstance(browser, Exception):
        raise browser
    context = browser.new_context()  # its own cookies and HTTP cache: nothing carries over rows
    page = context.new_page()

    def fetch(url: str) -> _Fetch:
        try:
            response = page.goto(url, timeout=TIMEOUT * 1000)
        except Exception as exc:  # Playwright's Error: net::ERR_... from the browser
            return _Fetch(None, error=_error(exc, first_line=True))
        if response is None:
            return _Fetch(None, error="no response")
        redirects, request = 0, response.request
        while request.redirected_from is not None:
            redirects, request = redirects + 1, request.redirected_from
        return _Fetch(response.status, _final_page(page, response.url), redirects, page.url,
                      content_type="text/html")

    try:
        yield fetch
    finally:
        context.close()


def _final_page(page, first_url: str) -> bytes:
    """The HTML the browser ends up showing, once any refresh it was told to do is done.

    A 511 page refreshes to the login page at once (RFC 6585 section 6's
    example does). While a navigation is under way the page cannot be read,
    so reading polls, within :data:`TIMEOUT`.
    """
    html = b""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            page.wait_for_load_state("load", timeout=TIMEOUT * 1000)
            url = page.url
            html = page.content().encode()
        except Exception:  # Playwright's Error: "page is navigating"
            page.wait_for_timeout(50)
            continue
        if page.url != url:  # a navigation committed while it was read
            continue
        if b'http-equiv="refresh"' not in html or url != first_url:
            return html
        try:  # waits for the next document's load event too
            page.wait_for_url(lambda u: u != first_url, timeout=TIMEOUT * 1000)
        except Exception:  # Playwright's TimeoutError: it did not refresh; keep what it shows
            return html
    return html

_RUNNERS = {
    "curl": _curl, "wget": _wget, "chromium": _chromium, "httpx": _httpx, "requests": _requests,
    "urllib3": _urllib3, "aiohttp": _aiohttp, "urllib.request": _urllib,
}


def missing_clients(*, paths: dict[str, str] | None = None) -> list[str]:
    """The clients of :data:`CLIENTS` that are not installed here (a quick check, nothing run)."""
    import importlib.util

    paths = {**DEFAULT_PATHS, **(paths or {})}
    missing = []
    for name in CLIENTS:
        exe = paths.get(name)
        if exe is not None and not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
            missing.append(name)
            continue
        module = _MODULES.get(name)
        try:
            found = module is None or importlib.util.find_spec(module) is not None
        except ImportError:  # its parent package is missing
            found = False
        if not found:
            missing.append(name)
    return missing


def _executable(paths: dict, name: str) -> str:
    path = paths.get(name) or DEFAULT_PATHS[name]
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise _Missing(f"{name} is not installed at {path}")
    return path


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.setdefault("LC_ALL", "C")
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT * 2, env=env)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, -1, "", f"no answer within {TIMEOUT * 2:g} s")


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def _error(exc: BaseException, *, first_line: bool = False) -> str:
    text = str(exc).strip()
    if first_line:
        text = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- reading what came back -------------------------------------------------

_TITLES = {
    "Network Authentication Required": "511 page",
    "Sign in to the network": "login page",
    "Moved": "redirect page",
    "Proxy Authentication Required": "407 page",
    "You are online": "online page",
}


def classify_body(body: bytes, content_type: str = "") -> str:
    """What a body is, as a learner would name it: "login page", "news page", "empty", ..."""
    if not body.strip():
        return "empty"
    text = body.decode("utf-8", "replace")
    title = re.search(r"<title>(.*?)</title>", text, re.S | re.I)
    if title:
        return _TITLES.get(unescape(title.group(1)).strip(), "other page")
    if '"problem+json"' in text or media_type(content_type) == "application/problem+json" or '"title"' in text:
        status = re.search(r'"status"\s*:\s*(\d{3})', text)
        return f"problem+json {status.group(1)}" if status else "problem+json"
    if re.search(r'"status"\s*:\s*200', text):
        return "news page"
    return "other"


# -- the matrix ---------------------------------------------------------------

def client_matrix(
    *, modes: Iterable[str] | None = None, clients: Iterable[str] | None = None,
    paths: dict[str, str] | None = None,
) -> list[ClientRow]:
    """Run every client in every mode, over http:// and https://; one :class:`ClientRow` each.

    ``modes`` defaults to every mode of :data:`labkit.gateway.MODES`,
    ``clients`` to :data:`CLIENTS`; ``paths`` overrides where the curl, wget
    and chromium executables are (one that does not exist gives ``"missing"``
    rows). Runs on a worker thread of its own, so it works inside a running
    event loop (a notebook's) too.
    """
    modes = list(MODES if modes is None else modes)
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"unknown gateway mode {mode!r}; choose from: {', '.join(MODES)}")
    clients = list(CLIENTS if clients is None else clients)
    for name in clients:
        if name not in _RUNNERS:
            raise ValueError(f"unknown client {name!r}; choose from: {', '.join(CLIENTS)}")
    paths = {**DEFAULT_PATHS, **(paths or {})}
    with ThreadPoolExecutor(1, thread_name_prefix="labkit-clients") as pool:
        return pool.submit(_matrix, modes, clients, paths).result()


def _matrix(modes: list[str], clients: list[str], paths: dict) -> list[ClientRow]:
    origin = Origin()
    gateway = Gateway(upstream=origin)
    tally = _Tally(gateway)
    server = LoopbackServer(tally, name="labkit-clients:gateway", http=ProxyHttpToolsProtocol)
    rows = []
    with ExitStack() as stack:
        server.start()
        stack.callback(server.stop)
        browser = _launch(paths, server.url, stack) if "chromium" in clients else None
        for mode in modes:
            gateway.mode = mode
            for https in (False, True):
                for name in clients:
                    rows.append(_row(name, mode, https, gateway, tally, server.url, paths, browser))
    return rows


@functools.lru_cache(maxsize=16)
def _device(name: str) -> str:
    """The client's own loopback address, or 127.0.0.1 where it cannot be bound.

    macOS configures only 127.0.0.1 (labkit.LoopbackAddressUnavailable says how
    to add more); rows stay independent there too, since each starts signed out.
    """
    address = _DEVICES[name]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return "127.0.0.1"
    return address


def _launch(paths: dict, proxy: str, stack: ExitStack):
    """Chromium through Playwright, once per matrix; or the reason it cannot run, as an exception."""
    try:
        exe = _executable(paths, "chromium")
    except _Missing as exc:
        return exc
    try:
        from playwright import sync_api
    except ImportError as exc:
        return _Missing(f"playwright is not importable: {exc}")
    try:
        playwright = stack.enter_context(sync_api.sync_playwright())
        browser = playwright.chromium.launch(
            executable_path=exe, headless=True, args=[*CHROMIUM_ARGS, f"--proxy-server={proxy}"],
            timeout=30_000)
    except Exception as exc:  # Playwright's Error: the browser would not start
        return _Unusable(f"could not start {exe}: {_error(exc, first_line=True)}")
    stack.callback(browser.close)
    return browser


def _row(name, mode, https, gateway, tally, proxy, paths, browser) -> ClientRow:
    device = _device(name)
    url = CLIENT_URL.replace("http://", "https://") if https else CLIENT_URL
    key = (device, f"https://{urlsplit(url).netloc}:443" if https else url)
    gateway.portal.sign_out(device)
    version = _version(name, paths, browser)
    common = dict(client=name, mode=mode, https=https, device=device, version=version,
                  command=_COMMANDS[name])
    try:
        with _RUNNERS[name](proxy, device, paths, browser) as fetch:
            first = fetch(url)
            gateway.portal.sign_in(device, _USER, _PASSWORD)
            before = tally.seen[key]
            second = fetch(url)
            cached = tally.seen[key] == before
    except _Missing as exc:
        return ClientRow(status="missing", error=str(exc), body="", **common)
    except _Unusable as exc:
        return ClientRow(status=None, error=str(exc), concluded="not run", **common)
    finally:
        gateway.portal.sign_out(device)
    scrub = _scrubber(proxy)
    body = classify_body(first.body, first.content_type)
    return ClientRow(
        status=first.status, error=scrub(first.error), redirects=first.redirects,
        final_url=scrub(first.final_url), body=body, concluded=_concluded(first, body),
        after=second.status, after_body=classify_body(second.body, second.content_type)
        if second.error is None or second.body else f"error: {scrub(second.error)}",
        cached=cached, **common,
    )


def _concluded(fetch: _Fetch, body: str) -> str:
    """What a program that trusts the outcome would believe it got."""
    status = fetch.status
    if fetch.error is not None:
        named = _named_status(fetch.error)
        why = f"its error names the {named}" if named else "its error does not say why"
        return f"failed: {why}"
    if status is None:
        return "failed"
    if 200 <= status < 300:
        return "got the news page" if body == "news page" else f"got the news page (it is the {body})"
    if status == 511:
        return "must sign in to the network"
    if status == 407:
        return "must give the proxy credentials"
    if 300 <= status < 400:
        return f"a {status} it did not follow: no page"
    return f"failed: {status}"


# The statuses a refusal can carry, and how the clients' messages name them.
_REFUSALS = {code: HTTPStatus(code).phrase for code in (302, 307, 407, 502, 511)}


def _named_status(message: str) -> int | None:
    """The refusal's status an error message names, by number or by reason phrase."""
    for code, phrase in _REFUSALS.items():
        if re.search(rf"\b{code}\b", message) or re.search(rf"\b{phrase}", message):
            return code
    return None


# Error messages, each to a short stable kind (the full message stays in the row).
_ERROR_KINDS = (
    (r"HTTPError: HTTP Error (\d{3})", r"HTTPError \1"),
    (r"exit (\d+): ERROR (\d{3})", r"exit \1: ERROR \2"),
    (r"too many redirects", "too many redirects"),
    (r"ERR_[A-Z_]+", r"\g<0>"),
    (r"[Tt]unnel|ProxyError: \d{3}", "tunnel refused"),
    (r"SSL|EOF|reset by peer|Cannot connect to host", "TLS failed: connection cut"),
)


def error_kind(message: str | None) -> str:
    """A short, stable name for an error message: "HTTPError 511", "tunnel refused: 511", ..."""
    if not message:
        return ""
    for pattern, kind in _ERROR_KINDS:
        m = re.search(pattern, message)
        if m:
            text = m.expand(kind)
            if text == "tunnel refused":
                named = _named_status(message)
                text += f": {named}" if named else ""
            if text.startswith("ERR_"):  # a browser's net error: chromium says no status
                chromium_cut = text in ("ERR_CONNECTION_RESET", "ERR_CONNECTION_CLOSED")
                return "TLS failed: connection cut" if chromium_cut else f"net::{text}"
            return text
    return message.split(":", 1)[0]


def _scrubber(proxy: str) -> Callable[[str | None], str | None]:
    netloc = urlsplit(proxy).netloc
    host, _, port = netloc.partition(":")

    def scrub(text: str | None) -> str | None:
        if text is None:
            return None
        text = text.replace(proxy, "http://GATEWAY").replace(netloc, "GATEWAY")
        text = re.sub(rf"\b{re.escape(host)}\s+port\s+{port}\b", "GATEWAY", text)
        text = re.sub(rf"\bport={port}\b", "port=GATEWAY", text)
        text = re.sub(r"\bat 0x[0-9a-f]+", "", text)
        return re.sub(r"https?://[^\s'\")>]+", lambda m: redact_url(m.group(0)), text)
    return scrub


_COMMANDS = {
    "curl": "curl -sS -o FILE --proxy GATEWAY URL",
    "wget": "wget -q -S -O FILE --tries=1 -e use_proxy=yes -e http_proxy=GATEWAY URL",
    "chromium": "chromium --headless --proxy-server=GATEWAY, page.goto(URL) (Playwright)",
    "httpx": "httpx.Client(transport=proxy_transport(GATEWAY)).get(URL)",
    "requests": "requests.Session().get(URL, proxies={'http': GATEWAY, 'https': GATEWAY})",
    "urllib3": "urllib3.ProxyManager(GATEWAY).request('GET', URL)",
    "aiohttp": "aiohttp.ClientSession().get(URL, proxy=GATEWAY)",
    "urllib.request": "build_opener(ProxyHandler({'http': GATEWAY, 'https': GATEWAY})).open(URL)",
}


def _version(name: str, paths: dict, browser) -> str:
    if name in ("curl", "wget"):
        try:
            return _tool_version(_executable(paths, name))
        except _Missing:
            return ""
    if name == "chromium":
        return "" if browser is None or isinstance(browser, Exception) else f"Chromium {browser.version}"
    if name == "urllib.request":
        return f"Python {sys.version.split()[0]}"
    try:
        return f"{name} {metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return ""


@functools.lru_cache(maxsize=8)
def _tool_version(exe: str) -> str:
    # "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/...", "GNU Wget 1.21.3 built on linux-gnu."
    first = (_run([exe, "--version"]).stdout.splitlines() or [""])[0]
    m = re.match(r"(curl \S+|GNU Wget \S+)", first)
    return m.group(1) if m else first


# -- presenting ----------------------------------------------------------------
# Rows from other runners may come as dicts in the same shape: every function
# below takes either.

def collect_rows(*runners: Callable[[], Iterable]) -> list[dict]:
    """The rows of every runner, as dicts: ``collect_rows(client_matrix)``.

    A runner is any function that takes no argument and returns rows shaped
    like :class:`ClientRow` (dataclasses or dicts); adding one is adding an
    argument.
    """
    return [_as_dict(row) for runner in runners for row in runner()]


def _as_dict(row) -> dict:
    if isinstance(row, dict):
        return row
    if is_dataclass(row):
        return asdict(row)
    raise TypeError(f"a row is a dataclass or a dict, not {type(row).__name__}")


def outcome(row) -> str:
    """What the client came back with, in a few stable words: ``511``, ``200``,
    ``HTTPError 511``, ``tunnel refused: 511``, ``missing``."""
    row = _as_dict(row)
    status, error = row.get("status"), row.get("error")
    if status == "missing":
        return "missing"
    if status is None:
        return error_kind(error) or "no answer"
    return f"{status}, {error_kind(error)}" if error else str(status)


def ended_with(row) -> str:
    """The body the program holds, and where it came from if not the host asked for."""
    row = _as_dict(row)
    body = row.get("body") or ""
    host = urlsplit(row.get("final_url") or "").hostname
    asked = urlsplit(CLIENT_URL).hostname
    return f"{body} at {host}" if host and host != asked and body else body


_COLUMNS = (("client", 16), ("got", 36), ("redirects", 11), ("ended with", 34), ("a program concludes", 0))


def client_table(rows: Iterable, *, https: bool | None = None) -> str:
    """A plain-text table, one block per mode: what each client got, the redirects it
    followed, the body it ended with and what a program would conclude.
    ``https`` keeps only the https (True) or http (False) rows."""
    rows = [_as_dict(r) for r in rows]
    widths = (_client_width(rows), *(w for _, w in _COLUMNS[1:]))
    lines = []
    for (mode, secure), group in _grouped(rows, https):
        if lines:
            lines.append("")
        scheme = "https" if secure else "http"
        lines.append(f"{mode} ({scheme}): {_mode_line(mode)}")
        lines.append(_line([name for name, _ in _COLUMNS], widths))
        for r in group:
            redirects = "" if r.get("status") == "missing" else str(r.get("redirects") or 0)
            lines.append(_line([r["client"], outcome(r), redirects, ended_with(r),
                                r.get("concluded") or r.get("error") or ""], widths))
    return "\n".join(lines)


def after_sign_in_table(rows: Iterable, *, modes: Iterable[str] = ("rfc6585", "spoof", "cacheable")) -> str:
    """The same request once the device has signed in (plain http), in ``modes``:
    did the answer come from the network or from the client's own cache?"""
    rows = [_as_dict(r) for r in rows]
    widths = (_client_width(rows), 11, 34, 24, 0)
    out = [_line(["client", "mode", "while captive", "after signing in", "served by"], widths)]
    for mode in modes:
        for r in rows:
            if r["mode"] != mode or r.get("https") or r.get("status") == "missing":
                continue
            after = r.get("after")
            got = f"{after} {r.get('after_body', '')}".strip() if after is not None else r.get("after_body", "")
            by = "its own cache: the gateway never saw it" if r.get("cached") else "the network"
            out.append(_line([r["client"], mode, f"{outcome(r)} {r.get('body', '')}".strip(), got, by], widths))
    return "\n".join(out)


def client_detail(row) -> str:
    """Everything one row recorded, one field a line."""
    row = _as_dict(row)
    fields = (
        ("client", row.get("client")), ("version", row.get("version")),
        ("mode", row.get("mode")), ("url", CLIENT_URL.replace("http:", "https:") if row.get("https") else CLIENT_URL),
        ("run as", row.get("command")), ("device", row.get("device")),
        ("status", row.get("status")), ("error", row.get("error")),
        ("redirects", row.get("redirects")), ("final URL", row.get("final_url")),
        ("ended with", row.get("body")), ("a program concludes", row.get("concluded")),
        ("after signing in", row.get("after")), ("then ended with", row.get("after_body")),
        ("2nd answer from its cache", row.get("cached")),
    )
    return "\n".join(f"{name + ':':<27}{'-' if value is None else value}" for name, value in fields)


def _grouped(rows: list[dict], https: bool | None):
    order: dict[tuple[str, bool], list[dict]] = {}
    for r in rows:
        if https is None or bool(r.get("https")) == https:
            order.setdefault((r["mode"], bool(r.get("https"))), []).append(r)
    return order.items()


def _mode_line(mode: str) -> str:
    found = MODES.get(mode)
    return str(found) if found is not None else ""


def _client_width(rows: list[dict]) -> int:
    return max([16, *(len(r["client"]) + 2 for r in rows)])


def _line(cells: list[str], widths: tuple[int, ...]) -> str:
    out = []
    for cell, width in zip(cells, widths):
        text = "" if cell is None else str(cell)
        if width and len(text) > width - 2:
            text = text[: width - 3] + "…"
        out.append(text.ljust(width) if width else text)
    return "  " + "".join(out).rstrip()
