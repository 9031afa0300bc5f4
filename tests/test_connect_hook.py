"""Guard for the one place labkit relies on uvicorn internals: the CONNECT hook.

``labkit.transport._connect.ProxyHttpToolsProtocol`` subclasses uvicorn's
``HttpToolsProtocol``, which is not public API. These tests check that what
the hook overrides and reads is still there and still behaves as the hook
assumes, so an upgrade fails here, saying what changed, instead of as a
mysterious 400 or a hung curl in the gateway tests.
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
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from labkit.core import Response
from labkit.transport import LoopbackServer, ProxyHttpToolsProtocol

ROOT = Path(__file__).resolve().parents[1]
HOOK = "labkit/transport/_connect.py"


def changed(what: str) -> str:
    return (
        f"uvicorn {uvicorn.__version__} (httptools {httptools.__version__}) changed {what}. "
        f"{HOOK} (ProxyHttpToolsProtocol, CONNECT on the gateway) relies on it: "
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


def test_the_hook_overrides_only_what_uvicorn_still_has():
    overridden = {
        name for name, value in vars(ProxyHttpToolsProtocol).items()
        if callable(value) and not name.startswith("__")
    }
    assert overridden == {"on_headers_complete", "_unsupported_upgrade_warning"}, (
        "the hook now overrides more than this guard checks: extend tests/test_connect_hook.py"
    )
    for name in overridden:
        original = getattr(HttpToolsProtocol, name, None)
        assert callable(original), changed(f"HttpToolsProtocol: it has no method {name}()")
        assert params(original) == ["self"], changed(
            f"the signature of HttpToolsProtocol.{name} to {inspect.signature(original)}"
        )


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
    for needle in ("self.keep_alive = keep_alive", "self.more_body = True", "self.message_event = message_event"):
        assert needle in body, changed(f"RequestResponseCycle: it no longer sets {needle.split(' =')[0]}")


def test_an_upgrade_still_reaches_the_warning_the_hook_silences():
    body = source(HttpToolsProtocol.data_received)
    assert "except httptools.HttpParserUpgrade" in body and "self._unsupported_upgrade_warning()" in body, changed(
        "data_received(): a parser upgrade (llhttp's report of every CONNECT) no longer "
        "calls _unsupported_upgrade_warning()"
    )
    assert callable(getattr(httptools.HttpRequestParser, "get_method", None)), changed(
        "httptools.HttpRequestParser: get_method() is gone"
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
