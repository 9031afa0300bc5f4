"""The loopback servers against hostile or broken clients, over raw sockets.

Both servers (the origin and the gateway) use labkit's hardened protocol: a
deadline on unfinished requests (408, RFC 9110 section 15.5.9), an early 431
on an oversized head (RFC 6585 section 5), strict framing (RFC 9112 sections
3 and 6.3), and a bounded log of what they refused.
"""

import json
import logging
import os
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit import LoopbackServer, Origin, Simulator, VirtualClock
from labkit.transport import proxy_transport
from labkit.transport._connect import MAX_HEAD_BYTES, RefusalLog

SERVERS = ["origin", "gateway"]


@pytest.fixture(scope="module")
def sim():
    with Simulator(clock=VirtualClock(), name="test-hardening", request_timeout=0.3) as s:
        yield s


def url_of(sim, which: str) -> str:
    return sim.origin_url if which == "origin" else sim.gateway_url


def connect(url: str, timeout: float = 3.0, device: str | None = None) -> socket.socket:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    source = (device, 0) if device else None
    return socket.create_connection((host, int(port)), timeout=timeout, source_address=source)


def read_to_end(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    try:
        while data := s.recv(65536):
            chunks.append(data)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def exchange(url: str, payload: bytes) -> bytes:
    with connect(url) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)  # so an unfinished request ends now, not at the deadline
        return read_to_end(s)


def status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:80]
    return int(answer[9:12])


def still_serves(sim, which: str) -> None:
    if which == "origin":
        assert httpx.get(sim.origin_url + "/status/200").status_code == 200
    else:
        assert httpx.get("http://news.test/status/200", proxy=sim.gateway_url).status_code == 511


# -- deadlines ------------------------------------------------------------
@pytest.mark.parametrize("which", SERVERS)
@pytest.mark.parametrize("payload", [
    b"GET /status/200 HTTP/1.1\r\nHost: news.test\r\nAccept: */*",  # half a head
    b"POST /status/200 HTTP/1.1\r\nHost: news.test\r\nContent-Length: 10\r\n\r\nabc",  # half the content
    b"POST /status/200 HTTP/1.1\r\nHost: news.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
], ids=["head", "content", "chunked"])
def test_an_unfinished_request_gets_408_and_is_closed(sim, which, payload):
    with connect(url_of(sim, which)) as s:
        started = time.monotonic()
        s.sendall(payload)
        answer = read_to_end(s)  # returns only once the server has closed
        waited = time.monotonic() - started
    assert status(answer) == 408
    assert b"\r\nconnection: close\r\n" in answer
    assert 0.25 <= waited < 2.5
    still_serves(sim, which)


@pytest.mark.parametrize("which", SERVERS)
def test_a_silent_connection_is_closed_without_an_answer(sim, which):
    with connect(url_of(sim, which)) as s:
        assert read_to_end(s) == b""


def test_an_idle_keep_alive_connection_is_closed(sim):
    with connect(sim.origin_url) as s:
        s.sendall(b"GET /status/200 HTTP/1.1\r\nHost: origin.test\r\n\r\n")
        answer = read_to_end(s)
    # One full answer, kept alive (no connection: close), then closed when idle.
    assert status(answer) == 200 and b"connection: close" not in answer.lower()
    assert answer.count(b"\r\nx-request-id: ") == 1


@pytest.mark.parametrize("which", SERVERS)
def test_a_slow_but_progressing_client_is_served(sim, which):
    # Each request dribbles in over about 0.2 s of a 0.3 s deadline; three of
    # them on one connection take longer than the deadline, and all are served.
    device = "127.0.0.7"  # signed in, so the gateway forwards to the origin
    sim.gateway.portal.sign_in(device, "guest", "letmein")
    target = "/status/200" if which == "origin" else "http://news.test/status/200"
    request = f"GET {target} HTTP/1.1\r\nHost: news.test\r\nAccept: */*\r\n\r\n".encode()
    pieces = [request[i:i + 12] for i in range(0, len(request), 12)]
    pause = 0.2 / len(pieces)
    with connect(url_of(sim, which), device=device) as s:
        started = time.monotonic()
        for _ in range(3):
            for piece in pieces:
                s.sendall(piece)
                ready, _, _ = select.select([s], [], [], pause)
                assert not ready or piece is pieces[-1], s.recv(200)
            answer = s.recv(65536)
            assert status(answer) == 200 and b"connection: close" not in answer.lower()
        assert time.monotonic() - started > 0.3


def server_side_state(server_port: int, client_port: int) -> str | None:
    """The TCP state of the server's end of a loopback connection (Linux)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote, state = line.split()[1:4]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return state
    return None


ESTABLISHED = "01"


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads TCP states from /proc/net/tcp")
def test_a_client_that_stops_reading_its_responses_is_dropped(server_log):
    from labkit import Response

    big = Response(200, [("content-type", "text/plain")], b"x" * 1_000_000)
    with LoopbackServer(lambda request: big, name="test-no-reader", request_timeout=0.3) as server:
        with connect(server.url) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 20)  # 20 MB of answers, none read
            ends = (server.port, s.getsockname()[1])
            assert server_side_state(*ends) == ESTABLISHED
            deadline = time.monotonic() + 3
            while server_side_state(*ends) == ESTABLISHED and time.monotonic() < deadline:
                time.sleep(0.01)
            assert server_side_state(*ends) != ESTABLISHED, "the server still holds the connection"
    # The answer under way (not the newest request: they are pipelined) is
    # told the client is gone, and does not write to the closed connection.
    assert not [r for r in server_log if r.levelno >= logging.ERROR]


# -- the head limit ---------------------------------------------------------
@pytest.mark.parametrize("which", SERVERS)
def test_an_oversized_head_gets_431_before_it_is_all_sent(sim, which):
    total = 64 * 1024 * 1024  # what the client means to send: 64 MiB in one header line
    piece = b"a" * 16384
    sent = 0
    with connect(url_of(sim, which), timeout=2) as s:
        s.sendall(b"GET /status/200 HTTP/1.1\r\nHost: news.test\r\nX-Big: ")
        answer = b""
        while sent < total:
            try:
                s.sendall(piece)
            except OSError:  # the server has closed: it stopped reading
                break
            sent += len(piece)
            # Past the limit, give the server a moment to answer.
            ready, _, _ = select.select([s], [], [], 0.04 if sent > MAX_HEAD_BYTES else 0)
            if ready:
                answer = s.recv(65536)
                break
        answer += read_to_end(s)
    assert status(answer) == 431 and b"\r\nconnection: close\r\n" in answer
    # Refused a little past the limit: one read of the socket at most.
    assert MAX_HEAD_BYTES < sent + 64 < MAX_HEAD_BYTES + 512 * 1024, sent
    still_serves(sim, which)


@pytest.mark.parametrize("which", SERVERS)
def test_an_oversized_head_in_one_piece_gets_431_too(sim, which):
    payload = b"GET /status/200 HTTP/1.1\r\nHost: news.test\r\nX-Big: " + b"a" * MAX_HEAD_BYTES + b"\r\n\r\n"
    with connect(url_of(sim, which)) as s:
        s.sendall(payload)
        answer = read_to_end(s)
    assert status(answer) == 431 and b"content-type: text/plain" in answer  # the server's, not a handler's


def test_a_head_just_under_the_limit_is_read(sim):
    # Under the transport's limit the origin answers itself, with its own
    # problem+json 431 for fields over 16 KiB.
    r = httpx.get(sim.origin_url + "/status/200", headers={"X-Big": "a" * (MAX_HEAD_BYTES - 1024)})
    assert r.status_code == 431 and r.headers["content-type"] == "application/problem+json"


# -- strict framing ---------------------------------------------------------
@pytest.mark.parametrize("which", SERVERS)
@pytest.mark.parametrize("payload, expected", [
    (b"GET /status/200 HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
    (b"GET /status/200 HTTP/1.1\r\nHost: news.test\r\nHost: other.test\r\n\r\n", 400),
    (b"GET /status/200 HTTP/1.0\r\nHost: news.test\r\nHost: other.test\r\n\r\n", 400),
    (b"GET /status/200 HTTP/1.1\r\nHost: news test\r\n\r\n", 400),
    (b"GET /status/200\r\n\r\n", 400),
    (b"GET /status/200 HTTP/2.0\r\nHost: news.test\r\n\r\n", 505),
    (b"POST /status/200 HTTP/1.1\r\nHost: news.test\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400),
    (b"POST /status/200 HTTP/1.1\r\nHost: news.test\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400),
    (b"POST /status/200 HTTP/1.1\r\nHost: news.test\r\nTransfer-Encoding: identity\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
    (b"POST /status/200 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
], ids=["no-host", "two-hosts", "two-hosts-1.0", "bad-host", "no-version", "http2", "te-gzip",
        "te-not-last", "te-identity", "te-in-1.0"])
def test_framing_rfc_9112_forbids_is_refused_and_closed(sim, which, payload, expected):
    with connect(url_of(sim, which)) as s:
        s.sendall(payload)  # no half-close: the server must close by itself
        answer = read_to_end(s)
    assert status(answer) == expected, answer
    assert b"\r\nconnection: close\r\n" in answer and b"cache-control: no-store" in answer
    head, _, body = answer.partition(b"\r\n\r\n")  # one response, then the end
    assert len(body) == int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    still_serves(sim, which)


@pytest.mark.parametrize("bad", [
    b"GARBAGE\r\n\r\n",
    b"GET /status/200 HTTP/1.1\r\n\r\n",
    b"POST /status/200 HTTP/1.1\r\nHost: news.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
], ids=["garbage", "no-host", "bad-chunk"])
def test_pipelined_requests_before_a_malformed_one_are_answered_then_closed(sim, bad):
    # No status line can go before answers already under way (RFC 9112
    # section 9.3.2): those are sent, and the connection ends after them.
    ok = b"GET /status/200 HTTP/1.1\r\nHost: news.test\r\n\r\n"
    with connect(sim.origin_url) as s:
        s.sendall(ok * 3 + bad)
        answer = read_to_end(s)  # the server closes by itself
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 3, answer[-300:]


@pytest.mark.parametrize("payload", [
    b"GET /status/200 HTTP/1.0\r\n\r\n",  # HTTP/1.0 needs no Host
    b"GET /status/200 HTTP/1.1\r\nHost:\r\n\r\n",  # empty Host: a target without authority
    b"GET /status/200 HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n",
    b"POST /status/200 HTTP/1.1\r\nHost: news.test\r\nTransfer-Encoding: Chunked\r\n"
    b"Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
], ids=["1.0", "empty-host", "ipv6-host", "chunked"])
def test_well_framed_requests_are_still_served(sim, payload):
    assert status(exchange(sim.origin_url, payload)) == 200


@pytest.mark.parametrize("which, expected", [("origin", 200), ("gateway", 511)])
def test_an_absolute_target_without_a_path_means_slash(sim, which, expected):
    # RFC 9110 section 4.2.3: an empty path is "/".
    answer = exchange(url_of(sim, which), b"GET http://news.test?q=1 HTTP/1.1\r\nHost: news.test\r\n"
                                          b"Connection: close\r\n\r\n")
    assert status(answer) == expected


def test_connect_on_the_gateway_is_still_answered(sim):
    answer = exchange(sim.gateway_url, b"CONNECT news.test:443 HTTP/1.1\r\nHost: news.test:443\r\n\r\n")
    assert status(answer) == 511


# -- a storm of malformed requests ------------------------------------------------
_line_end = st.sampled_from([b"\r\n", b"\r\n", b"\n", b"\r", b"", b"\r\r\n"])
_method = st.sampled_from([b"GET", b"POST", b"HEAD", b"PUT", b"CONNECT", b"OPTIONS", b"DELETE",
                           b"TRACE", b"PATCH", b"PRI", b"get", b"G ET", b""]) | st.binary(max_size=8)
_target = st.sampled_from([
    b"/", b"/status/200", b"/status/511", b"*", b"http://news.test/status/200", b"news.test:443",
    b"http://portal.labkit.test/", b"http://news.test", b"//", b"/%zz", b"/a b", b"/\x00", b"http://[::1", b"",
]) | st.binary(max_size=24)
_version = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/0.9", b"HTTP/2.0", b"HTTP/1.2",
                            b"HTTP/11", b"http/1.1", b"HTTP/1.1 x", b""]) | st.binary(max_size=10)
_name = st.sampled_from([b"Host", b"host", b"HOST", b"Content-Length", b"Transfer-Encoding",
                         b"Connection", b"Expect", b"Upgrade", b"X-Forwarded-For",
                         b"Proxy-Authorization", b"Cookie", b"X-Request-Id", b"Host ", b""]) | st.binary(max_size=12)
_value = st.sampled_from([b"", b"news.test", b"chunked", b"gzip, chunked", b"chunked, gzip", b"0",
                          b"5", b"-1", b"99999999999999999999", b"close", b"keep-alive",
                          b"Upgrade", b"100-continue", b"h2c", b"127.0.0.9", b"a b", b" \t",
                          b"x" * 300]) | st.binary(max_size=30)
_separator = st.sampled_from([b": ", b":", b" : ", b":\t", b"\t: ", b""])
_body = st.sampled_from([b"", b"0\r\n\r\n", b"5\r\nhello\r\n0\r\n\r\n", b"zz\r\n", b"ffffffffffffffffff\r\n",
                         b"3\r\nab", b"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n"]) | st.binary(max_size=40)


@st.composite
def _request(draw, sloppy: bool = True) -> bytes:
    """A request from the pieces above; unless ``sloppy``, only its fields are odd,
    so that it gets past the parser to the framing checks and the handlers."""
    if sloppy:
        method, target, version, end = draw(_method), draw(_target), draw(_version), draw(_line_end)
    else:
        method = draw(st.sampled_from([b"GET", b"POST", b"HEAD", b"PUT", b"CONNECT", b"OPTIONS"]))
        target = draw(st.sampled_from([b"/status/200", b"/status/511", b"/", b"*",
                                       b"http://news.test/status/200", b"news.test:443",
                                       b"http://portal.labkit.test/", b"http://news.test?q"]))
        version, end = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"])), b"\r\n"
    parts = [method, b" ", target] + ([b" ", version] if version else []) + [end]
    for _ in range(draw(st.integers(0, 5))):
        if sloppy:
            parts += [draw(_name), draw(_separator), draw(_value), draw(_line_end)]
        else:
            name = draw(st.sampled_from([b"Host", b"Content-Length", b"Transfer-Encoding",
                                         b"Connection", b"Expect", b"X-Forwarded-For"]))
            parts += [name, b": ", draw(_value).replace(b"\r", b"").replace(b"\n", b""), end]
    parts += [draw(_line_end) if sloppy else end, draw(_body)]
    return b"".join(parts)


MALFORMED = st.one_of(
    st.binary(max_size=200),
    _request(),
    _request(sloppy=False),
    st.lists(_request(sloppy=False), min_size=2, max_size=3).map(b"".join),  # pipelined
)


@pytest.fixture
def server_log():
    """Records of labkit's transport and uvicorn's error logger while the test runs.

    A filter, not a handler: uvicorn reconfigures its loggers' handlers
    whenever a server is configured.
    """
    records: list[logging.LogRecord] = []

    def keep(record):
        records.append(record)
        return True

    loggers = [logging.getLogger("labkit.transport"), logging.getLogger("uvicorn.error")]
    for logger in loggers:
        logger.addFilter(keep)
    yield records
    for logger in loggers:
        logger.removeFilter(keep)


def open_server_ends(port: int) -> int:
    """Connections whose server end (local ``port``) is not yet closed: it is
    neither listening nor in TIME_WAIT (06), which a closed socket leaves behind."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _, state = line.split()[1:4]
        count += int(local.split(":")[1], 16) == port and state not in ("0A", "06")
    return count


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads TCP states from /proc/net/tcp")
@pytest.mark.parametrize("which", SERVERS)
def test_a_storm_of_malformed_requests_leaves_the_server_serving(which, server_log):
    seen: dict[int, int] = {}
    with Simulator(clock=VirtualClock(), name=f"test-storm-{which}", request_timeout=1.0) as sim:
        url = url_of(sim, which)
        still_serves(sim, which)
        port = int(url.rsplit(":", 1)[1])

        # 250 examples of 4 connections each: 1,000 requests for a quarter of
        # hypothesis's overhead per example.
        @settings(max_examples=250, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(st.lists(MALFORMED, min_size=4, max_size=4))
        def storm(payloads):
            for payload in payloads:
                answer = exchange(url, payload)
                if answer:
                    code = status(answer)
                    assert 100 <= code <= 599
                    seen[code] = seen.get(code, 0) + 1

        storm()
        still_serves(sim, which)
        deadline = time.monotonic() + 2
        while open_server_ends(port) and time.monotonic() < deadline:
            time.sleep(0.01)  # the server closes its side once it sees ours close
        assert open_server_ends(port) == 0, "the server left connections open"
    assert seen.get(400, 0) > 200 and 500 not in seen, seen
    errors = [r for r in server_log if r.levelno >= logging.ERROR]
    assert not errors, errors[0].getMessage()
    # Five lines, a note that the rest is counted, and the count when the server stops.
    lines = [r for r in server_log if r.levelno >= logging.WARNING]
    assert 3 <= len(lines) <= 8, [r.getMessage() for r in lines]
    assert "refused" in lines[-1].getMessage() and "in all" in lines[-1].getMessage()


# -- the refusal log ---------------------------------------------------------------
def test_the_refusal_log_is_bounded(server_log):
    now = [0.0]
    log = RefusalLog("test", first=3, every=60, clock=lambda: now[0])
    for i in range(10_000):
        now[0] = i * 0.01  # 100 s of refusals
        log.note(400 if i % 2 else 431, "bad", ("127.0.0.1", 5000))
    log.flush()
    messages = [r.getMessage() for r in server_log]
    assert len(messages) == 3 + 1 + 2  # three lines, the note, a count at 60 s, the rest at stop
    assert messages[0] == "test server refused a request from 127.0.0.1:5000: 431 bad"
    assert "10000 in all" in messages[-1]
    counted = sum(int(m.split("refused ")[1].split(" ")[0]) for m in messages[-2:])
    assert counted == 10_000 - 3
    log.flush()  # nothing more to say
    assert len(server_log) == 6


def test_request_timeout_must_be_positive():
    with pytest.raises(ValueError, match="request_timeout"):
        LoopbackServer(Origin(), name="test-timeout", request_timeout=0)


# -- thirty learners on one machine ------------------------------------------------
LEARNERS = r"""
import json, os, sys, traceback
import labkit  # imported once, before any thread exists; every learner is a fork of this

children = []
for i in range(int(sys.argv[1])):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            sim = labkit.Simulator(name=f"learner-{i}").serve()
            device = f"127.0.3.{i + 1}"
            sim.gateway.portal.sign_in(device, "guest", "letmein")
            line = json.dumps({"pid": os.getpid(), "device": device,
                               "origin": sim.origin_url, "gateway": sim.gateway_url})
            os.write(1, line.encode() + b"\n")  # one write: the learners share this pipe
            sys.stdin.read()  # serve until the test closes stdin
            sim.stop()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    children.append(pid)
sys.exit(max(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children))
"""


def gateway_status(gateway_url: str, device: str) -> int:
    with httpx.Client(transport=proxy_transport(gateway_url, device=device), timeout=5) as client:
        return client.get("http://news.test/status/200").status_code


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the learners are forked")
def test_thirty_simulators_in_separate_processes_neither_clash_nor_cross_talk():
    n = 30
    proc = subprocess.Popen([sys.executable, "-c", LEARNERS, str(n)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    learners = []
    try:
        killer = threading.Timer(30, proc.kill)  # never hang the suite
        killer.start()
        for _ in range(n):
            line = proc.stdout.readline()
            assert line, proc.stderr.read().decode()[-2000:]
            learners.append(json.loads(line))
        killer.cancel()
        ports = [url.rsplit(":", 1)[1] for x in learners for url in (x["origin"], x["gateway"])]
        assert len(set(ports)) == 2 * n  # no two servers share a port
        assert len({x["pid"] for x in learners}) == n
        for i, me in enumerate(learners):
            neighbour = learners[(i + 1) % n]
            # Signed in at my own portal; still captive at my neighbour's.
            assert gateway_status(me["gateway"], me["device"]) == 200
            assert gateway_status(neighbour["gateway"], me["device"]) == 511
            assert httpx.get(me["origin"] + "/status/200").status_code == 200
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=15)
        finally:
            proc.kill()
            proc.stdout.close()
            proc.stderr.close()
    assert proc.returncode == 0
