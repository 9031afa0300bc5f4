"""The loopback edge: a real uvicorn server, real sockets, real curl."""

import json
import shutil
import socket
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import httpx
import pytest

from labkit import LoopbackServer, NotLoopbackError, Origin, Simulator, VirtualClock
from labkit.core import Response


@pytest.fixture(scope="module")
def sim():
    with Simulator(clock=VirtualClock(), name="test-loopback") as s:
        yield s


def raw_exchange(url: str, payload: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(payload)
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
            if b"\r\n\r\n" in b"".join(chunks) and payload.startswith(b"GET /status/200"):
                break
        return b"".join(chunks)


def test_binds_loopback_on_an_ephemeral_port(sim):
    assert sim.origin_url.startswith("http://127.0.0.1:")
    assert int(sim.origin_url.rsplit(":", 1)[1]) > 0


def test_loopback_matches_in_process(sim):
    with sim.client() as local, httpx.Client(base_url=sim.origin_url) as remote:
        a = local.get("/status/511?q=1")
        b = remote.get("/status/511?q=1")
    assert (a.status_code, a.reason_phrase) == (b.status_code, b.reason_phrase)
    for name in ("content-type", "cache-control", "server", "date"):
        assert a.headers[name] == b.headers[name]
    da, db = a.json(), b.json()
    for doc in (da, db):
        doc.pop("request_id")
        doc["request"]["headers"].pop("host")
    assert da == db


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_curl_gets_what_httpx_gets(sim):
    out = subprocess.run(
        ["curl", "-sS", "-i", "-H", "User-Agent: same", "-H", "Accept: */*", sim.origin_url + "/status/511"],
        capture_output=True, check=True, timeout=10,
    ).stdout.decode()
    head, _, body = out.partition("\r\n\r\n")
    status_line, *header_lines = head.split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in header_lines)}
    with sim.client(headers={"User-Agent": "same"}) as c:
        r = c.get("/status/511")
    assert status_line == "HTTP/1.1 511 Network Authentication Required"
    for name in ("content-type", "cache-control", "server"):
        assert headers[name] == r.headers[name]
    assert headers["x-request-id"] and headers["x-request-id"] != r.headers["x-request-id"]
    curl_doc, httpx_doc = json.loads(body), r.json()
    for doc in (curl_doc, httpx_doc):
        doc.pop("request_id")
        hdrs = doc["request"]["headers"]
        for volatile in ("host", "accept-encoding", "connection"):
            hdrs.pop(volatile, None)
    assert curl_doc == httpx_doc


def test_head_over_socket_has_no_body(sim):
    r = httpx.head(sim.origin_url + "/status/404")
    assert r.status_code == 404 and r.content == b"" and int(r.headers["content-length"]) > 0


@pytest.mark.parametrize(
    "payload, status",
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET /status/200 HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", b"400"),
        (b"GET /status/200 HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", b"400"),
    ],
)
def test_malformed_requests_get_400_and_server_keeps_serving(sim, payload, status):
    answer = raw_exchange(sim.origin_url, payload)
    assert answer.split(b" ", 2)[1] == status
    assert httpx.get(sim.origin_url + "/status/200").status_code == 200


def test_oversized_headers_on_the_socket_get_431(sim):
    r = httpx.get(sim.origin_url + "/status/200", headers={"X-Big": "a" * 40_000})
    assert r.status_code == 431
    assert r.headers["content-type"] == "application/problem+json"
    assert httpx.get(sim.origin_url + "/status/200").status_code == 200


def test_disconnect_drops_the_connection():
    from labkit import Disconnect

    def drop(request):
        raise Disconnect

    with LoopbackServer(drop, name="test-drop") as server:
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(server.url + "/")
        with pytest.raises(httpx.RemoteProtocolError):  # and it keeps serving
            httpx.get(server.url + "/")


def test_refuses_non_loopback_addresses():
    with pytest.raises(NotLoopbackError, match="allow_non_loopback"):
        LoopbackServer(Origin(), host="0.0.0.0")
    with pytest.raises(NotLoopbackError):
        LoopbackServer(Origin(), host="192.0.2.1")
    LoopbackServer(Origin(), host="127.0.0.5", name="test-ok")  # constructing is fine
    LoopbackServer(Origin(), host="0.0.0.0", allow_non_loopback=True, name="test-ok")


def test_bad_port_is_a_clear_error():
    with pytest.raises(ValueError, match="0-65535"):
        LoopbackServer(Origin(), port=70000)


def test_busy_port_is_a_clear_error():
    with LoopbackServer(Origin(), name="test-busy-a") as a:
        port = int(a.url.rsplit(":", 1)[1])
        with pytest.raises(OSError, match="Use port 0"):
            LoopbackServer(Origin(), name="test-busy-b", port=port).start()


def test_starting_twice_neither_fails_nor_leaks():
    before = {t.name for t in threading.enumerate()}
    first = Simulator(name="test-twice").serve()
    url1 = first.origin_url
    first.serve()  # idempotent
    assert first.origin_url == url1
    first.origin.mount("which", lambda request: Response(200, [], b"first"), "which simulator answers")
    second = Simulator(name="test-twice")  # a re-run notebook cell
    second.origin.mount("which", lambda request: Response(200, [], b"second"), "which simulator answers")
    second.serve()
    threads = [t for t in threading.enumerate() if t.name == "labkit-test-twice:origin"]
    assert len(threads) == 1
    # The running server was taken over: same address (links printed earlier
    # still open), and the new simulator answers.
    assert second.origin_url == url1
    assert httpx.get(url1 + "/which").text == "second"
    assert second.gateway.address == urlsplit(second.gateway_url).netloc
    with pytest.raises(RuntimeError, match="not serving"):
        first.origin_url
    first.stop()  # the old simulator no longer owns the server: nothing stops
    assert httpx.get(url1 + "/which").text == "second"
    second.stop()
    second.stop()  # safe twice
    port1 = int(url1.rsplit(":", 1)[1])
    with socket.socket() as s:  # the port was released
        s.bind(("127.0.0.1", port1))
    assert {t.name for t in threading.enumerate()} <= before | {"labkit-test-twice:origin"}
    assert not any(t.name == "labkit-test-twice:origin" and t.is_alive() for t in threading.enumerate())


def test_a_restart_with_other_settings_starts_afresh():
    first = LoopbackServer(Origin(), name="test-resettle").start()
    try:
        second = LoopbackServer(Origin(), name="test-resettle", request_timeout=3.0).start()
        assert not first.running and second.running
        assert httpx.get(second.url + "/status/200").status_code == 200
        url = second.url
        taken = LoopbackServer(Origin(), name="test-resettle", request_timeout=3.0).start()
        assert taken.url == url and not second.running
    finally:
        LoopbackServer.stop_all()
    assert not taken.running


def test_re_serving_a_running_simulator_is_instant():
    # Correctness, not speed: a takeover starts no thread and binds no port.
    first = Simulator(name="test-instant").serve()
    gateway_url = first.gateway_url
    try:
        threads = threading.active_count()
        for _ in range(5):
            again = Simulator(name="test-instant").serve()
        assert threading.active_count() == threads
        assert again.gateway_url == gateway_url
        assert httpx.get(again.origin_url + "/status/204").status_code == 204
    finally:
        again.stop()


def test_process_exits_cleanly_with_a_running_server():
    code = "import labkit; s = labkit.Simulator().serve(); print(s.origin_url, flush=True)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=20)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.startswith(b"http://127.0.0.1:")
    assert b"Traceback" not in done.stderr


def test_x_forwarded_for_cannot_impersonate_a_signed_in_device():
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; the portal tells
    # devices apart by peer address, so that would let any local client ride on
    # another device's session.
    sim = Simulator(clock=VirtualClock(), name="test-xff").serve()
    try:
        sim.gateway.portal.sign_in("127.0.0.9", "guest", "letmein")
        r = httpx.get("http://news.test/status/200", proxy=sim.gateway_url,
                      headers={"X-Forwarded-For": "127.0.0.9"})
        assert r.status_code == 511
    finally:
        sim.stop()


def test_the_adapter_reads_content_only_when_the_request_declares_some():
    # RFC 9112 section 6.3: a request with neither Content-Length nor
    # Transfer-Encoding has no content, so the adapter does not wait for any.
    import asyncio

    from labkit.transport import ASGIAdapter

    seen = []
    adapter = ASGIAdapter(lambda request: seen.append(request.body) or Response(200, [], b"ok"))

    def run(headers, messages):
        calls, sent = [], []

        async def receive():
            calls.append(1)
            return messages.pop(0)

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/x", "query_string": b"",
                 "headers": headers, "client": ("127.0.0.1", 1), "scheme": "http"}
        asyncio.run(adapter(scope, receive, send))
        return len(calls), sent[0]["status"]

    assert run([(b"host", b"a")], []) == (0, 200) and seen[-1] == b""
    parts = [{"type": "http.request", "body": b"ab", "more_body": True},
             {"type": "http.request", "body": b"c", "more_body": False}]
    assert run([(b"host", b"a"), (b"content-length", b"3")], list(parts)) == (2, 200)
    assert seen[-1] == b"abc"
    assert run([(b"host", b"a"), (b"transfer-encoding", b"chunked")], list(parts)) == (2, 200)
    assert seen[-1] == b"abc"


def test_posts_with_content_still_arrive_over_the_socket():
    # Both framings through the real server: content over the origin's limit is
    # read and refused with 413; a small one is answered.
    from labkit.origin import MAX_BODY_BYTES

    big = b"x" * (MAX_BODY_BYTES + 1)
    with Simulator(name="test-loopback-content") as s, httpx.Client(base_url=s.serve().origin_url) as client:
        assert client.post("/status/200", content=big).status_code == 413  # Content-Length
        assert client.post("/status/200", content=iter([big[:1000], big[1000:]])).status_code == 413  # chunked
        assert client.post("/status/200", content=iter([b"a" * 10, b"b" * 5])).status_code == 200
        assert client.post("/status/200", content=b"small").status_code == 200
