"""Real clients behind the portal: labkit.labs.client_matrix, notebook 05 and `labkit clients`.

Every fact below was measured by running the client for real against the
gateway; each carries the source that says why the client behaves so.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import shutil
import socket
import threading
from contextlib import redirect_stdout
from pathlib import Path

import pytest

import labkit.labs
from labkit import Simulator, cli
from labkit.gateway import MODES
from labkit.labs import (
    CLIENT_URL,
    CLIENTS,
    ClientRow,
    after_sign_in_table,
    classify_body,
    client_detail,
    client_matrix,
    client_table,
    collect_rows,
    error_kind,
    missing_clients,
    outcome,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05-real-clients.ipynb"
NO_CHROMIUM = "chromium" in missing_clients()
needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(NO_CHROMIUM, reason="Chromium (or Playwright) is not installed (apt-get install chromium)"),
]
WITHOUT_CHROMIUM = [c for c in CLIENTS if c != "chromium"]


@pytest.fixture(scope="module")
def rows():
    """Every client but Chromium, in every mode: a few seconds."""
    return client_matrix(clients=WITHOUT_CHROMIUM)


@pytest.fixture(scope="module")
def all_rows():
    """The whole matrix, Chromium included: what notebook 05 runs."""
    return client_matrix()


def find(rows, client, mode, https):
    (row,) = [r for r in rows if (r.client, r.mode, r.https) == (client, mode, https)]
    if row.status == "missing":
        pytest.skip(f"{client} is not installed here: {row.error}")
    return row


def check(row, expected):
    for field, want in expected.items():
        got = getattr(row, field)
        if callable(want):
            assert want(got), f"{row.client} {row.mode} https={row.https}: {field}={got!r}"
        else:
            assert got == want, f"{row.client} {row.mode} https={row.https}: {field}={got!r}, not {want!r}"


def contains(text):
    return lambda got: got is not None and text in got


# (client, mode, https, what the row shows, the source that says why)
FACTS = [
    ("curl", "redirect", False, {"status": 302, "redirects": 0, "body": "redirect page"},
     'curl(1), -L/--location: "If the server reports that the requested page has moved to a different '
     'location (indicated with a Location: header and a 3XX response code), this option makes curl redo '
     'the request on the new place." Without it curl follows nothing.'),
    ("curl", "rfc6585", False, {"status": 511, "error": None, "body": "511 page"},
     'curl(1), -f/--fail: "Fail fast with no output at all on server errors." Without it curl exits 0 '
     "and saves the error page."),
    ("curl", "rfc6585", True, {"status": None, "error": contains("exit 56: CONNECT tunnel failed, response 511")},
     'curl(1), EXIT CODES: "56 Failure in receiving network data."'),
    ("wget", "redirect", False, {"status": 200, "redirects": 1, "body": "login page"},
     'GNU Wget manual, --max-redirect: "Specifies the maximum number of redirections to follow for a '
     'resource. The default is 20".'),
    ("wget", "rfc6585", False, {"status": 511, "error": contains("exit 8: ERROR 511"), "body": "empty"},
     'GNU Wget manual, Exit Status: "8 Server issued an error response."; --content-on-error: "If this is '
     'set to on, wget will not skip the content when the server responds with a http status code that '
     'indicates error." (off by default).'),
    ("wget", "rfc6585", True,
     {"status": None, "error": contains("Proxy tunneling failed: Network Authentication Required")},
     'GNU Wget manual, Exit Status: "4 Network failure."; src/http.c reports the CONNECT\'s reason phrase '
     '("Proxy tunneling failed: %s").'),
    ("httpx", "redirect", False, {"status": 302, "redirects": 0, "body": "redirect page"},
     'httpx docs, "Requests Compatibility", Redirects: "Unlike requests, HTTPX does not follow redirects '
     'by default."'),
    ("httpx", "rfc6585", True, {"status": None, "error": "ProxyError: 511 Network Authentication Required"},
     "httpcore, _sync/http_proxy.py, TunnelHTTPConnection.handle_request: a CONNECT answered outside 2xx "
     'raises ProxyError("%d %s" % (status_code, reason_phrase)).'),
    ("httpx", "proxy-auth", False, {"status": 407, "body": "407 page"},
     'RFC 9110 section 15.5.8: 407 "is similar to 401 (Unauthorized), but it indicates that the client '
     'needs to authenticate itself in order to use a proxy". httpx sends Proxy-Authorization only from '
     "credentials in the proxy URL, and none were given."),
    ("requests", "redirect", False, {"status": 200, "redirects": 1, "body": "login page",
                                     "concluded": "got the news page (it is the login page)"},
     'requests docs, "Redirection and History": "By default Requests will perform location redirection '
     'for all verbs except HEAD."'),
    ("requests", "rfc6585", True, {"status": None, "error": contains("Tunnel connection failed: 511")},
     "CPython, Lib/http/client.py, HTTPConnection._tunnel: "
     'raise OSError(f"Tunnel connection failed: {code} {message.strip()}").'),
    ("requests", "spoof", False, {"status": 200, "body": "login page", "redirects": 0},
     "labkit/gateway/_modes.py, SpoofedContent: status 200 and the login page, nothing that tells a "
     "client it is not the page asked for."),
    ("urllib3", "redirect", False, {"status": 200, "redirects": 1, "body": "login page"},
     'urllib3 user guide, "Retrying Requests": "By default, urllib3 will retry requests 3 times and '
     'follow up to 3 redirects."'),
    ("urllib3", "rfc6585", True, {"status": None, "error": contains("Tunnel connection failed: 511")},
     "CPython, Lib/http/client.py, HTTPConnection._tunnel (urllib3 tunnels with http.client)."),
    ("aiohttp", "redirect", False, {"status": 200, "redirects": 1, "body": "login page"},
     'aiohttp docs, ClientSession.request: "allow_redirects (bool) - Whether to process redirects or '
     'not. When True, redirects are followed (up to max_redirects times) ... True by default."'),
    ("aiohttp", "rfc6585", True, {"status": None, "error": contains("ClientHttpProxyError: 511")},
     "aiohttp, connector.py, TCPConnector._create_proxy_connection: a CONNECT not answered 200 raises "
     "ClientHttpProxyError with its status."),
    ("urllib.request", "rfc6585", False,
     {"status": None, "error": "HTTPError: HTTP Error 511: Network Authentication Required", "body": "511 page"},
     'Python docs, urllib.request.HTTPErrorProcessor: "Eventually, HTTPDefaultErrorHandler will raise an '
     'HTTPError if no other handler handles the error." An HTTPError is also a response: its body is the page.'),
    ("urllib.request", "redirect", False, {"status": 200, "redirects": 1, "body": "login page"},
     "Python docs, urllib.request.build_opener: HTTPRedirectHandler is among the handlers it installs "
     "unless told otherwise."),
    ("urllib.request", "rfc6585", True, {"status": None, "error": contains("Tunnel connection failed: 511")},
     "CPython, Lib/http/client.py, HTTPConnection._tunnel; urllib.request wraps it in URLError."),
]

BROWSER_FACTS = [
    ("chromium", "rfc6585", False, {"status": 511, "body": "login page",
                                    "final_url": lambda u: u.startswith("http://portal.labkit.test/login")},
     "RFC 6585 section 6's example page carries <meta http-equiv=\"refresh\" content=\"0; url=...\">, as "
     "the gateway's does (labkit/gateway/_pages.py, network_auth_page): the browser follows it."),
    ("chromium", "redirect", False, {"status": 200, "redirects": 1, "body": "login page"},
     'Fetch standard, "HTTP-redirect fetch": a navigation\'s redirect mode is "follow".'),
    ("chromium", "rfc6585", True, {"status": None, "error": contains("net::ERR_TUNNEL_CONNECTION_FAILED")},
     "Chromium, net/base/net_error_list.h: TUNNEL_CONNECTION_FAILED (-111), \"A tunnel connection through "
     "the proxy could not be established.\""),
    ("chromium", "proxy-auth", False, {"status": None, "error": contains("net::ERR_INVALID_AUTH_CREDENTIALS")},
     "Chromium, net/base/net_error_list.h: INVALID_AUTH_CREDENTIALS (-338), \"Credentials could not be "
     "established during HTTP Authentication.\" (Playwright was given no credentials.)"),
    ("chromium", "spoof", False, {"after": 200, "after_body": "login page", "cached": True},
     "RFC 9111 section 4.2.2: without explicit freshness a cache may use a heuristic, typically 10% of "
     "the time since Last-Modified; the spoofed 200 has a Last-Modified a day old and no Cache-Control."),
    ("chromium", "cacheable", False, {"after": 511, "cached": True},
     "RFC 9111 section 5.2.2.1: max-age makes the 511 fresh for 300 s; RFC 6585 section 6 says a 511 "
     "MUST NOT be stored, and Chromium's cache stores it all the same."),
    ("chromium", "rfc6585", False, {"after": 200, "after_body": "news page", "cached": False},
     'RFC 9111 section 5.2.2.5: "no-store" (the rfc6585 mode\'s 511 carries it) forbids storing.'),
]


@pytest.mark.parametrize("client,mode,https,expected,source", FACTS,
                         ids=[f"{c}-{m}-{'https' if h else 'http'}" for c, m, h, *_ in FACTS])
def test_client_facts(rows, client, mode, https, expected, source):
    assert source
    check(find(rows, client, mode, https), expected)


@pytest.mark.parametrize("client,mode,https,expected,source", BROWSER_FACTS,
                         ids=[f"{c}-{m}-{'https' if h else 'http'}" for c, m, h, *_ in BROWSER_FACTS])
@pytest.mark.browser
@pytest.mark.skipif(NO_CHROMIUM, reason="Chromium (or Playwright) is not installed (apt-get install chromium)")
def test_chromium_facts(all_rows, client, mode, https, expected, source):
    assert source
    check(find(all_rows, client, mode, https), expected)


def test_no_client_but_chromium_answered_from_a_cache(rows):
    # None of them keeps an HTTP cache unless one is added (hishel, requests-cache,
    # CacheControl): every second request reached the gateway.
    seen = [r for r in rows if r.status != "missing"]
    assert seen
    assert [r for r in seen if r.cached] == []


def test_every_mode_and_both_schemes_have_a_row_per_client(rows):
    assert len(rows) == len(WITHOUT_CHROMIUM) * len(MODES) * 2
    assert {(r.client, r.mode, r.https) for r in rows} == {
        (c, m, h) for c in WITHOUT_CHROMIUM for m in MODES for h in (False, True)}


def test_under_511_no_client_takes_the_portal_for_the_page(rows):
    for r in rows:
        if r.mode == "rfc6585" and r.status != "missing":
            assert "got the news page" not in r.concluded, r


def test_https_never_shows_a_page(rows):
    for r in rows:
        if r.https and r.status != "missing":
            assert r.status is None and r.error and r.body == "empty", r


def test_errors_show_no_gateway_port(rows):
    # Ports vary from run to run: the rows name the gateway, not its port.
    for r in rows:
        for text in (r.error or "", r.final_url or "", r.after_body):
            assert "127.0.0.1:" not in text, r


# -- the notebook shows what the matrix measures ---------------------------------------

def _notebook_outputs() -> dict[str, str]:
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    out = {}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []) if o["output_type"] == "stream")
            out["".join(cell["source"])] = text
    return out


@pytest.mark.browser
@pytest.mark.skipif(NO_CHROMIUM, reason="Chromium (or Playwright) is not installed (apt-get install chromium)")
def test_notebook_tables_match_a_fresh_matrix(all_rows):
    if missing_clients():
        pytest.skip(f"not installed here: {', '.join(missing_clients())}")
    shown = _notebook_outputs()
    fresh = {
        "print(client_table(rows, https=False))": client_table(all_rows, https=False) + "\n",
        "print(client_table(rows, https=True))": client_table(all_rows, https=True) + "\n",
        "print(after_sign_in_table(rows))": after_sign_in_table(all_rows) + "\n",
    }
    for source, text in fresh.items():
        assert source in shown, f"notebook 05 no longer has the cell {source!r}"
        assert shown[source] == text, f"notebook 05's output of {source!r} differs from a fresh run"


def test_every_client_is_installed_where_make_test_installs_them():
    """Notebook 05's committed table was measured with every client: keep nbval honest.

    `make test` installs Chromium, curl and wget with apt-get when it runs as root
    (unless CHROMIUM=no); the Python clients come with labkit's dependencies.
    """
    if os.environ.get("CHROMIUM") == "no":
        pytest.skip("CHROMIUM=no: Chromium, curl and wget are not installed on purpose")
    could_install = os.geteuid() == 0 and shutil.which("apt-get") is not None if hasattr(os, "geteuid") else False
    if not could_install and NO_CHROMIUM:
        pytest.skip("make test could not install Chromium here (not root, or no apt-get)")
    assert missing_clients() == [], "make test should have installed these (see the Makefile's chromium target)"


# -- missing clients, bad input --------------------------------------------------------

def test_a_missing_client_is_a_row_not_a_gap(tmp_path):
    nowhere = str(tmp_path / "no-such-dir" / "curl")
    got = client_matrix(clients=["curl", "chromium"], modes=["rfc6585"],
                        paths={"curl": nowhere, "chromium": str(tmp_path / "chromium")})
    assert [(r.client, r.https, r.status) for r in got] == [
        ("curl", False, "missing"), ("chromium", False, "missing"),
        ("curl", True, "missing"), ("chromium", True, "missing")]
    assert nowhere in got[0].error
    assert outcome(got[0]) == "missing"
    assert missing_clients(paths={"curl": nowhere}) == ["curl"] + [c for c in missing_clients() if c != "curl"]


def test_unknown_mode_or_client_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown gateway mode 'nope'; choose from: rfc6585"):
        client_matrix(modes=["nope"])
    with pytest.raises(ValueError, match="unknown client 'lynx'; choose from: curl"):
        client_matrix(clients=["lynx"])


# -- reading bodies and errors ---------------------------------------------------------

@pytest.mark.parametrize("mode,url,kind", [
    ("rfc6585", CLIENT_URL, "511 page"),
    ("redirect", CLIENT_URL, "redirect page"),
    ("spoof", CLIENT_URL, "login page"),
    ("proxy-auth", CLIENT_URL, "407 page"),
    ("rfc6585", "http://portal.labkit.test/login", "login page"),
])
def test_classify_body_names_the_gateways_pages(mode, url, kind):
    sim = Simulator(name="test-clients-classify")
    sim.gateway.mode = mode
    with sim.client(device="127.0.0.9", gateway=True) as client:
        r = client.get(url, headers={"accept": "text/html"})
    assert classify_body(r.content, r.headers.get("content-type", "")) == kind


def test_classify_body_names_the_news_page_and_nothing():
    sim = Simulator(name="test-clients-classify")
    with sim.client() as client:
        r = client.get("/status/200")
    assert classify_body(r.content, r.headers["content-type"]) == "news page"
    assert classify_body(b"", "") == "empty"
    assert classify_body(b"<html><title>Elsewhere</title></html>") == "other page"


@pytest.mark.parametrize("message,kind", [
    ("HTTPError: HTTP Error 511: Network Authentication Required", "HTTPError 511"),
    ("exit 8: ERROR 407: Proxy Authentication Required.", "exit 8: ERROR 407"),
    ("exit 56: CONNECT tunnel failed, response 302", "tunnel refused: 302"),
    ("ProxyError: 511 Network Authentication Required", "tunnel refused: 511"),
    ("exit 4: Proxy tunneling failed: Network Authentication RequiredUnable to establish SSL connection.",
     "tunnel refused: 511"),
    ("URLError: <urlopen error [Errno 104] Connection reset by peer>", "TLS failed: connection cut"),
    ("Error: Page.goto: net::ERR_CONNECTION_CLOSED at https://news.test/status/200", "TLS failed: connection cut"),
    ("Error: Page.goto: net::ERR_TUNNEL_CONNECTION_FAILED at https://news.test/", "net::ERR_TUNNEL_CONNECTION_FAILED"),
    ("MaxRetryError: ... (Caused by ResponseError('too many redirects'))", "too many redirects"),
    (None, ""),
])
def test_error_kind(message, kind):
    assert error_kind(message) == kind


def test_rows_from_another_runner_join_as_dicts():
    # Another runner (the CORS lesson's, say) may return dicts of the same shape.
    mine = ClientRow(client="curl", mode="rfc6585", https=False, status=511, body="511 page",
                     concluded="must sign in to the network")
    other = {"client": "chromium fetch()", "mode": "rfc6585", "https": False, "status": None,
             "error": "TypeError: Failed to fetch", "body": "empty", "concluded": "failed"}
    got = collect_rows(lambda: [mine], lambda: [other])
    assert got == [mine.to_dict(), other]
    table = client_table(got)
    assert "chromium fetch()" in table and "must sign in to the network" in table
    with pytest.raises(TypeError, match="a row is a dataclass or a dict"):
        collect_rows(lambda: ["curl"])


def test_client_detail_words_every_field():
    row = ClientRow(client="requests", mode="redirect", https=False, status=200, redirects=1,
                    final_url="http://portal.labkit.test/login", body="login page",
                    concluded="got the news page (it is the login page)", after=200, after_body="news page",
                    cached=False, device="127.0.0.45", command="requests.Session().get(URL)", version="requests 2")
    text = client_detail(row)
    for line in ("client:", "version:", "status:", "redirects:", "final URL:", "ended with:",
                 "a program concludes:", "after signing in:", "2nd answer from its cache:"):
        assert line in text
    assert "got the news page (it is the login page)" in text


# -- the CLI ---------------------------------------------------------------------------

def test_cli_clients_json(monkeypatch):
    small = functools.partial(client_matrix, clients=["curl", "httpx"], modes=["rfc6585"])
    monkeypatch.setattr(labkit.labs, "client_matrix", small)
    # A web page's fetch() rows come with them (Chromium; "missing" rows without it).
    fetches = functools.partial(labkit.labs.run_cors, modes=["rfc6585"], portal_cors=(True,), https=False)
    monkeypatch.setattr(labkit.labs, "run_cors", fetches)
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["clients", "--json"]) == 0
    doc = json.loads(out.getvalue())
    fetch_rows = [r for r in doc["rows"] if "fetch" in r["client"]]
    assert fetch_rows and {r["mode"] for r in fetch_rows} == {"rfc6585"}
    for row in fetch_rows:
        assert {"client", "mode", "https", "status", "network_status", "portal_cors"} <= set(row)
    if fetch_rows[0]["status"] != "missing":
        # With the portal's CORS headers on, the page's script can read the 511.
        captive_get = [r for r in fetch_rows if not r["signed_in"] and r["client"] == "chromium fetch"]
        assert [r["status"] for r in captive_get] == [511]
    doc["rows"] = [r for r in doc["rows"] if "fetch" not in r["client"]]
    got = {(r["client"], r["https"]): r for r in doc["rows"]}
    assert set(got) == {("curl", False), ("curl", True), ("httpx", False), ("httpx", True)}
    for row in doc["rows"]:
        assert {"client", "mode", "https", "status", "error"} <= set(row)
    assert got[("httpx", False)]["status"] == 511
    assert got[("httpx", True)]["status"] is None
    assert got[("httpx", True)]["error"] == "ProxyError: 511 Network Authentication Required"


def test_cli_clients_text(monkeypatch):
    small = functools.partial(client_matrix, clients=["httpx"], modes=["redirect"])
    monkeypatch.setattr(labkit.labs, "client_matrix", small)
    # Chromium named where none is: the fetch() tables say "missing" (the browser tests run it).
    fetches = functools.partial(labkit.labs.run_cors, modes=["redirect"], chromium="/nonexistent/chromium")
    monkeypatch.setattr(labkit.labs, "run_cors", fetches)
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["clients"]) == 0
    text = out.getvalue()
    assert "redirect (http): 302 to the login page" in text
    assert "a 302 it did not follow: no page" in text
    assert "The same request again, once the device has signed in:" in text
    assert "A web page's fetch() to another origin" in text and "missing" in text


# -- the widget ------------------------------------------------------------------------

def test_client_explorer_shows_the_chosen_row():
    from labkit.widgets import ClientExplorer

    rows = [ClientRow(client=c, mode=m, https=h, status=200 if c == "requests" else 302, body="x")
            for c in ("curl", "requests") for m in ("rfc6585", "redirect") for h in (False, True)]
    explorer = ClientExplorer(rows, mode="redirect", client="requests")
    assert repr(explorer) == "ClientExplorer(8 rows)"
    assert explorer.row()["client"] == "requests" and explorer.row()["mode"] == "redirect"
    text = explorer.show(client="curl", https=True)
    assert "client:                    curl" in text and "status:                    302" in text
    assert explorer.out.outputs[0]["text"] == text + "\n"
    with pytest.raises(ValueError, match="no rows to explore"):
        ClientExplorer([])


# -- what surprised us: urllib3's stale Host, and the gateway's answer to it ------------

class _Recorder(http.server.BaseHTTPRequestHandler):
    """A proxy that redirects news.test to portal.labkit.test and records each request head."""

    heads: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.heads.append((self.path, self.headers.get("host", "")))
        if "news.test" in self.path:
            self.send_response(302)
            self.send_header("location", "http://portal.labkit.test/login")
        else:
            self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_urllib3_keeps_the_first_host_on_a_cross_host_redirect_through_a_proxy():
    """urllib3 (2.8), src/urllib3/poolmanager.py: ProxyManager._set_proxy_headers sets Host
    only "if not provided by the user", and PoolManager.urlopen passes the first request's
    headers, Host included, on to the redirected one. RFC 9112 section 3.2.2 says a client
    MUST send a Host identical to the target URI's authority; a proxy MUST ignore Host for
    an absolute-form target, which is why labkit's gateway goes by the target."""
    urllib3 = pytest.importorskip("urllib3")
    _Recorder.heads = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib3.ProxyManager(f"http://127.0.0.1:{server.server_port}", timeout=5) as pool:
            assert pool.request("GET", "http://news.test/status/200").status == 200
    finally:
        server.shutdown()
        server.server_close()
    assert _Recorder.heads == [("http://news.test/status/200", "news.test"),
                               ("http://portal.labkit.test/login", "news.test")]


def test_the_gateway_goes_by_an_absolute_target_not_by_host():
    with Simulator(name="test-clients-absolute") as sim:
        sim.gateway.mode = "redirect"
        host, port = sim.gateway_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(b"GET http://portal.labkit.test/login HTTP/1.1\r\nHost: news.test\r\n"
                      b"Connection: close\r\n\r\n")
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
    assert reply.startswith(b"HTTP/1.1 200 ")  # the portal's page, not another 302 for news.test
    assert b"<title>Sign in to the network</title>" in reply
