"""Guard for the one place labkit relies on uvicorn internals: the protocol hook.

``labkit.transport._connect.HardenedHttpToolsProtocol`` (deadlines, the head
limit, strict framing) and its ``ProxyHttpToolsProtocol`` (CONNECT) subclass
uvicorn's ``HttpToolsProtocol``, which is not public API. These tests check
that what the hook overrides and reads is still there and still behaves as the
hook assumes, so an upgrade fails here, saying what changed, instead of as a
mysterious 400, a connection that never closes or a hung curl elsewhere.
"""

import inspect
import socket
import tomllib
from importlib.metadata import version
from pathlib import Path

import httptools
import pytest
import uvicorn
from packaging.requirements import Requirement
from uvicorn.protocols.http import httptools_impl
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from labkit.core import Response
from labkit.transport import HardenedHttpToolsProtocol, LoopbackServer, ProxyHttpToolsProtocol

ROOT = Path(__file__).resolve().parents[1]
HOOK = "labkit/transport/_connect.py"


def changed(what: str) -> str:
    return (
        f"uvicorn {uvicorn.__version__} (httptools {httptools.__version__}) changed {what}. "
        f"{HOOK} (HardenedHttpToolsProtocol and its CONNECT support) relies on it: "
        "adapt the hook, then move the pins in pyproject.toml and environment.yml."
    )


def source(function) -> str:
    return inspect.getsource(function)


def params(function) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize("package", ["uvicorn", "httptools"])
def test_installed_version_is_inside_the_pinned_range(package):
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (spec,) = [Requirement(d) for d in deps if Requirement(d).name == package]
    assert spec.specifier.contains(version(package)), (
        f"{package} {version(package)} is installed, but pyproject.toml pins {spec}: "
        f"{HOOK} was only checked against that range"
    )


# What the hook overrides, with what uvicorn's version does that it keeps or replaces.
OVERRIDDEN = {
    "connection_made", "connection_lost", "data_received", "pause_writing", "resume_writing",
    "on_message_begin", "on_header", "on_headers_complete", "on_message_complete", "_start_asgi_task",
}


def test_the_hook_overrides_only_what_uvicorn_still_has():
    ours = {
        name for cls in (HardenedHttpToolsProtocol, ProxyHttpToolsProtocol) for name in vars(cls)
        if not name.startswith("__")
    }
    overridden = {name for name in ours if hasattr(HttpToolsProtocol, name)}
    assert overridden == OVERRIDDEN, (
        "the hook now overrides something else of uvicorn's (or uvicorn grew a name the hook "
        f"uses for its own): {sorted(overridden ^ OVERRIDDEN)}; extend tests/test_connect_hook.py"
    )
    for name in overridden:
        original = getattr(HttpToolsProtocol, name, None)
        assert callable(original), changed(f"HttpToolsProtocol: it has no method {name}()")
        assert params(original) == params(getattr(HardenedHttpToolsProtocol, name)), changed(
            f"the signature of HttpToolsProtocol.{name} to {inspect.signature(original)}"
        )


def code_lines(function) -> list[str]:
    lines = [line.strip() for line in source(function).splitlines()[1:]]
    return [line for line in lines if line and not line.startswith("#")]


def test_data_received_does_only_what_the_hook_replaces():
    # The hook replaces data_received (to answer refusals itself, log them
    # sparingly and never parse after one); it must keep doing the rest.
    assert code_lines(HttpToolsProtocol.data_received) == [
        "self._unset_keepalive_if_required()",
        "try:",
        "self.parser.feed_data(data)",
        "except httptools.HttpParserError:",
        'msg = "Invalid HTTP request received."',
        "self.logger.warning(msg)",
        "self.send_400_response(msg)",
        "return",
        "except httptools.HttpParserUpgrade:",
        "if self._should_upgrade():",
        "self.handle_websocket_upgrade()",
        "else:",
        "self._unsupported_upgrade_warning()",
    ], changed("data_received(): the hook's replacement no longer does all it did")
    assert code_lines(HttpToolsProtocol._unset_keepalive_if_required) == [
        "if self.timeout_keep_alive_task is not None:",
        "self.timeout_keep_alive_task.cancel()",
        "self.timeout_keep_alive_task = None",
    ], changed("_unset_keepalive_if_required(): the keep-alive timer is no longer timeout_keep_alive_task")
    assert "self.timeout_keep_alive_task = self.loop.call_later(" in source(
        HttpToolsProtocol.on_response_complete
    ), changed("on_response_complete(): it no longer arms timeout_keep_alive_task between requests")
    assert code_lines(HttpToolsProtocol.eof_received) == ["pass"], changed(
        "eof_received(): it no longer lets asyncio close the transport when the client is done "
        "(a refused connection lingers until then)"
    )


def test_on_header_does_only_what_the_hook_replaces():
    # The hook replaces on_header (to set the framing fields aside on the way);
    # it must keep doing what uvicorn's did.
    assert code_lines(HttpToolsProtocol.on_header) == [
        "name = name.lower()",
        'if name == b"expect" and value.lower() == b"100-continue":',
        "self.expect_100_continue = True",
        "self.headers.append((name, value))",
    ], changed("on_header(): the hook's replacement no longer does all it did")


def test_the_fields_and_state_the_hook_reads_are_still_there():
    init = source(HttpToolsProtocol.__init__)
    for needle in ("self.loop = ", "self.pipeline: deque", "self.timeout_keep_alive_task"):
        assert needle in init, changed(f"HttpToolsProtocol.__init__: it no longer sets {needle}")
    made = source(HttpToolsProtocol.connection_made)
    for needle in ("self.transport = transport", "self.flow = FlowControl(transport)", "self.client = "):
        assert needle in made, changed(f"connection_made(): it no longer sets {needle}")
    flow = source(FlowControl)
    for needle in ("self.read_paused = True", "self.write_paused = True"):
        assert needle in flow, changed(f"FlowControl: it no longer sets {needle.split(' =')[0]}")
    assert "self.flow.pause_writing()" in source(HttpToolsProtocol.pause_writing) and (
        "self.flow.resume_writing()" in source(HttpToolsProtocol.resume_writing)
    ), changed("pause_writing()/resume_writing() no longer drive the FlowControl")
    for caller in (HttpToolsProtocol.on_headers_complete, HttpToolsProtocol.on_response_complete):
        assert "self._start_asgi_task(" in source(caller), changed(
            f"{caller.__name__}(): it no longer starts a handler through _start_asgi_task()"
        )
    assert params(HttpToolsProtocol._start_asgi_task) == ["self", "cycle", "app"], changed(
        "_start_asgi_task(): its signature"
    )
    lost = source(HttpToolsProtocol.connection_lost)
    assert "self.cycle.disconnected = True" in lost and "self.flow.resume_writing()" in lost, changed(
        "connection_lost(): it no longer marks self.cycle disconnected and resumes writing"
    )
    assert "self.flow.pause_reading()" in source(HttpToolsProtocol.on_headers_complete) and (
        "self.pipeline.appendleft(" in source(HttpToolsProtocol.on_headers_complete)
    ), changed("on_headers_complete(): a pipelined request is no longer queued with reads paused")


def test_the_target_is_read_from_self_url_by_parse_url():
    assert 'self.url = b""' in source(HttpToolsProtocol.on_message_begin), changed(
        "on_message_begin(): it no longer resets self.url (the raw request-target)"
    )
    assert "self.url += url" in source(HttpToolsProtocol.on_url), changed(
        "on_url(): it no longer collects the request-target in self.url"
    )
    body = source(HttpToolsProtocol.on_headers_complete)
    assert "httptools.parse_url(self.url)" in body, changed(
        "on_headers_complete(): it no longer parses the target from self.url"
    )
    for needle in ('self.scope["path"]', 'self.scope["raw_path"]', "self.cycle = RequestResponseCycle("):
        assert needle in body, changed(f"on_headers_complete(): it no longer sets {needle}")
    # The hook rewrites the path after the call, so the cycle must not have
    # been started on a copy of the scope.
    assert "scope=self.scope" in body, changed("on_headers_complete(): the cycle no longer shares self.scope")
    # The hook catches parse_url's error to tell CONNECT by scope["method"],
    # and relies on no cycle having been made for a target that fails.
    assert (body.index('self.scope["method"] = ') < body.index("httptools.parse_url(self.url)")
            < body.index("self.cycle = RequestResponseCycle(")), changed(
        "on_headers_complete(): the method is no longer in the scope before parse_url(), "
        "or the cycle is made before it"
    )


def test_an_absolute_target_without_a_path_still_fails_where_the_hook_expects():
    # parse_url gives no path for "http://news.test"; uvicorn then raises
    # AttributeError before it makes the cycle, and the hook adds the "/".
    assert httptools.parse_url(b"http://news.test?q=1").path is None
    body = source(HttpToolsProtocol.on_headers_complete)
    assert body.index('path = raw_path.decode("ascii")') < body.index("self.cycle = RequestResponseCycle("), changed(
        "on_headers_complete(): a target without a path no longer fails before the cycle is made"
    )


def test_parse_url_still_rejects_an_authority_form_target():
    # Why the hook exists; if this starts passing the hook may simply be dropped.
    with pytest.raises(httptools.HttpParserInvalidURLError):
        httptools.parse_url(b"news.test:443")


def test_the_cycle_has_the_fields_the_hook_changes():
    init = RequestResponseCycle.__init__
    assert {"keep_alive", "message_event"} <= set(params(init)), changed(
        f"RequestResponseCycle.__init__{inspect.signature(init)}: keep_alive or message_event is gone"
    )
    body = source(init)
    for needle in (
        "self.keep_alive = keep_alive", "self.more_body = True", "self.message_event = message_event",
        "self.disconnected = False", "self.response_started = False", "self.response_complete = False",
    ):
        assert needle in body, changed(f"RequestResponseCycle: it no longer sets {needle.split(' =')[0]}")
    # A refusal marks a waiting handler's cycle disconnected: it must then get
    # http.disconnect, and what it sends must be dropped.
    assert 'return {"type": "http.disconnect"}' in source(RequestResponseCycle.receive), changed(
        "RequestResponseCycle.receive(): a disconnected cycle no longer returns http.disconnect"
    )
    send = source(RequestResponseCycle.send)
    assert "if self.disconnected:\n            return" in send, changed(
        "RequestResponseCycle.send(): a disconnected cycle no longer drops what the app sends"
    )
    assert "if not self.keep_alive:\n                    self.transport.close()" in send, changed(
        "RequestResponseCycle.send(): keep_alive = False no longer closes after the response"
    )


def test_the_parser_still_reports_what_the_hook_reads():
    for name in ("get_method", "get_http_version", "should_upgrade", "feed_data"):
        assert callable(getattr(httptools.HttpRequestParser, name, None)), changed(
            f"httptools.HttpRequestParser: {name}() is gone"
        )
    for name in ("HttpParserInvalidURLError", "HttpParserCallbackError"):
        assert issubclass(getattr(httptools, name), httptools.HttpParserError), changed(
            f"httptools: {name} is gone or no longer an HttpParserError"
        )
    assert not issubclass(httptools.HttpParserUpgrade, httptools.HttpParserError), changed(
        "httptools: HttpParserUpgrade (llhttp's report of every CONNECT) is now an HttpParserError"
    )
    assert httptools_impl.HttpToolsProtocol is HttpToolsProtocol


def exchange(url: str, payload: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(payload)
        chunks = []
        while data := s.recv(65536):  # the server closes after a CONNECT
            chunks.append(data)
        return b"".join(chunks)


def test_connect_reaches_the_handler_and_then_the_connection_closes():
    seen = []

    def handler(request):
        seen.append((request.method, request.authority, request.path))
        return Response(511, [("content-type", "text/plain")], b"sign in first\n")

    with LoopbackServer(handler, name="test-connect-hook", http=ProxyHttpToolsProtocol) as server:
        raw = exchange(server.url, b"CONNECT news.test:443 HTTP/1.1\r\nHost: news.test:443\r\n\r\n")
        assert raw.startswith(b"HTTP/1.1 511 "), changed(f"how a CONNECT is answered: got {raw[:80]!r}")
        assert seen == [("CONNECT", "news.test:443", "news.test:443")]
        # Every other method takes uvicorn's own path through the parser.
        raw = exchange(server.url, b"GET http://news.test/x HTTP/1.1\r\nHost: news.test\r\nConnection: close\r\n\r\n")
        assert raw.startswith(b"HTTP/1.1 511 ")
        assert seen[-1][0::2] == ("GET", "/x")


# An absolute-form target is split once per protocol: the httptools hook hands
# the adapter its scheme and authority (a scope extension), h11 hands it the
# whole target as the path. The handler must see the same request either way,
# with the target's authority, not Host (RFC 9112 section 3.2.2).
@pytest.mark.parametrize("http", [ProxyHttpToolsProtocol, HardenedHttpToolsProtocol, "h11"],
                         ids=["proxy-httptools", "httptools", "h11"])
def test_an_absolute_target_reaches_the_handler_the_same_from_every_protocol(http):
    seen = []

    def handler(request):
        seen.append((request.scheme, request.authority, request.path, request.query))
        return Response(200, [("content-type", "text/plain")], b"ok\n")

    requests = (
        b"GET http://news.test/a/b?q=1 HTTP/1.1\r\nHost: stale.test\r\n\r\n"
        b"GET HTTP://News.Test:8080/x HTTP/1.1\r\nHost: news.test\r\n\r\n"
        b"GET http://news.test?q=2 HTTP/1.1\r\nHost: news.test\r\n\r\n"
        # The same target again (the hook memoises its split), then origin-form
        # on the same connection: nothing of the earlier targets may stick.
        b"GET http://news.test/a/b?q=1 HTTP/1.1\r\nHost: stale.test\r\n\r\n"
        b"GET /plain HTTP/1.1\r\nHost: news.test\r\nConnection: close\r\n\r\n"
    )
    with LoopbackServer(handler, name="test-absolute-target", http=http) as server:
        raw = exchange(server.url, requests)
    assert raw.count(b"HTTP/1.1 200 OK\r\n") == 5, raw[-300:]
    assert seen == [
        ("http", "news.test", "/a/b", "q=1"),
        ("http", "News.Test:8080", "/x", ""),
        ("http", "news.test", "/", "q=2"),
        ("http", "news.test", "/a/b", "q=1"),
        ("http", None, "/plain", ""),
    ]
