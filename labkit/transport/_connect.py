"""The loopback servers' HTTP/1.1 protocol: uvicorn's httptools protocol, hardened,
plus CONNECT for the gateway. The one module that relies on uvicorn internals.

Why a subclass: uvicorn (0.54) waits forever for a request that never ends,
buffers a header block of any size before anything can refuse it, serves
requests RFC 9112 says a server must refuse, logs a warning per malformed
request, and hands every request-target to ``httptools.parse_url``, which
rejects CONNECT's authority-form (``news.test:443``, RFC 9112 section 3.2.3).
h11 would fix the last point but parses in pure Python, at about half the
throughput. uvicorn has no public way to change any of this, so
:class:`HardenedHttpToolsProtocol` subclasses ``HttpToolsProtocol`` and adds:

* a request deadline (``request_timeout``, 10 s by default): a request whose
  head or declared content is unfinished when it passes is answered 408
  (RFC 9110 section 15.5.9) and the connection closed; a connection that sent
  nothing at all is closed without a word. The clock runs from the request's
  first byte and stops while the server, not the client, holds things up;
* a limit on the request head (:data:`MAX_HEAD_BYTES`, 64 KiB): past it the
  server answers 431 (RFC 6585 section 5) and closes, without reading the rest;
* strict framing: 400 for an HTTP/1.1 request without ``Host``, for more than
  one ``Host`` or an invalid one (RFC 9112 section 3.2), for a request line
  without a version (HTTP/0.9, RFC 9112 section 3) and for a
  ``Transfer-Encoding`` that does not end in chunked (RFC 9112 section 6.3);
  505 for a major version other than 1 (RFC 9110 section 15.6.6);
* refusals logged as a bounded summary (:class:`RefusalLog`), not a line each;
* a client that stops reading its responses for ``request_timeout`` is dropped.

A refusal is written, the write side shut (FIN), and whatever the client still
sends is dropped unparsed until it closes or :data:`LINGER_SECONDS` pass: a
full close with unread input would send a TCP reset that can destroy the
answer before the client reads it (RFC 9112 section 9.6).

What this relies on that is not uvicorn's API, all checked by
``tests/test_connect_hook.py``:

* ``data_received()`` and ``on_header()`` are replaced: uvicorn's only unset
  the keep-alive timer (``_unset_keepalive_if_required()``) and feed
  ``self.parser``, and append lower-cased fields to ``self.headers`` (noting
  ``Expect: 100-continue``);
* ``on_headers_complete()`` puts the method in ``self.scope`` before it parses
  the target from ``self.url`` (bytes) with ``parse_url``, whose error thus
  leaves no request started, then makes ``self.cycle``, whose ``keep_alive``,
  ``more_body``, ``disconnected``, ``response_started``, ``response_complete``
  and ``message_event`` are read or changed here; ``self.pipeline`` holds
  requests queued behind a response;
* ``_start_asgi_task()`` starts each request's handler, in order;
* ``self.flow`` (``read_paused``, ``write_paused``),
  ``self.timeout_keep_alive_task`` (armed between requests), and
  ``eof_received()`` letting asyncio close the connection when the client does.

``pyproject.toml`` pins uvicorn to the versions this was tested with. Nothing
else in labkit reaches into uvicorn's internals.

An absolute-form target's scheme and authority reach
:class:`~labkit.transport.ASGIAdapter` as a scope extension (:data:`PROXY_TARGET`),
beside uvicorn's path. A CONNECT's target reaches it the way h11 would give it (as
the path, which the adapter reads as the authority). The
gateway never opens a tunnel, so after answering a CONNECT the connection is
closed.
"""

from __future__ import annotations

import http
import logging
import re
import time
from collections import Counter
from typing import ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = [
    "DEFAULT_REQUEST_TIMEOUT",
    "HardenedHttpToolsProtocol",
    "LINGER_SECONDS",
    "MAX_HEAD_BYTES",
    "ProxyHttpToolsProtocol",
    "RefusalLog",
]

# Request line plus header fields. nginx allows 4 x 8 KiB, Go 1 MiB; the
# origin's own, friendlier 431 (problem+json) starts at 16 KiB of fields.
MAX_HEAD_BYTES = 64 * 1024
DEFAULT_REQUEST_TIMEOUT = 10.0
# How long a refused connection may still send before it is cut (Go waits 0.5 s).
LINGER_SECONDS = 0.5

_IDLE, _HEAD, _BODY = 0, 1, 2  # where the current request is

# RFC 9112 section 3.2 / RFC 3986 section 3.2.2: uri-host [ ":" port ]; empty is
# allowed (a target with no authority is sent with an empty Host).
_HOST = re.compile(rb"(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]+\]|[0-9A-Za-z._~!$&'()*+,;=%-]*)(?::[0-9]*)?")

# The ASGI scope extension (the ASGI specification's "extensions" scope key:
# extension name -> dict) in which the loopback protocols hand ASGIAdapter the
# scheme and authority of an absolute-form target they have already split.
PROXY_TARGET = "labkit.proxy_target"

# The fields on_header looks at: Expect for uvicorn, the framing fields for
# the checks (RFC 9112 sections 3.2 and 6.1).
_WATCHED = frozenset((b"expect", b"host", b"transfer-encoding"))

_log = logging.getLogger("labkit.transport")


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; the reason is on the protocol."""


class RefusalLog:
    """One warning per refused request for the first ``first``, then a count.

    A storm of malformed requests would otherwise flood the kernel's log; the
    count is logged when a refusal comes at least ``every`` seconds after the
    last line, and by :meth:`flush` (the server calls it when it stops).
    """

    def __init__(self, name: str, *, first: int = 5, every: float = 60.0,
                 logger: logging.Logger = _log, clock=time.monotonic) -> None:
        self.name, self.first, self.every = name, first, every
        self.logger, self.clock = logger, clock
        self.total = 0
        self._pending: Counter[int] = Counter()
        self._last = clock()

    def note(self, status: int, reason: str, client: tuple[str, int] | None) -> None:
        self.total += 1
        if self.total <= self.first:
            peer = "%s:%d" % client if client else "a client"
            self.logger.warning("%s server refused a request from %s: %d %s",
                                self.name, peer, status, reason)
            if self.total == self.first:
                self.logger.warning("%s server: further refusals are counted, and summed up "
                                    "at most once every %g s", self.name, self.every)
            self._last = self.clock()
            return
        self._pending[status] += 1
        if self.clock() - self._last >= self.every:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        now = self.clock()
        counts = ", ".join(f"{n} x {status}" for status, n in sorted(self._pending.items()))
        self.logger.warning("%s server refused %d more requests in the last %.0f s (%s); %d in all",
                            self.name, sum(self._pending.values()), now - self._last, counts, self.total)
        self._pending.clear()
        self._last = now


def _refusal(status: int, reason: str) -> bytes:
    phrase = http.HTTPStatus(status).phrase
    body = f"{status} {phrase}: {reason}\n".encode("ascii", "replace")
    # Refusals are never stored (RFC 6585 section 5 for 431) and end the connection.
    return (
        f"HTTP/1.1 {status} {phrase}\r\n"
        "content-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n"
        "cache-control: no-store\r\n"
        "connection: close\r\n\r\n"
    ).encode("ascii") + body


def _parser_reason(exc: Exception) -> str:
    # llhttp's reasons are fixed strings ("Invalid header value char"); keep
    # them printable and short all the same, since they are logged.
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    text = "".join(c for c in text if c.isprintable())[:80]
    return f"malformed request ({text})"


def _absolute_target(url: bytes) -> tuple[str, str] | None:
    """The scheme (lower-cased) and authority of an absolute-form target, or None.

    Called after parse_url accepted ``url`` (and _add_empty_path gave a target
    without a path its "/"), so the authority is what lies between "://" and
    the first "/" or "?" (RFC 9112 section 3.2.2, RFC 3986 section 3.2).
    """
    mark = url.find(b"://", 0, 10)
    if mark < 0:
        return None
    start = mark + 3
    end = url.find(b"/", start)
    if end < 0:
        end = len(url)
    query = url.find(b"?", start, end)
    if query >= 0:
        end = query
    return url[:mark].decode("latin-1").lower(), url[start:end].decode("latin-1")


# _absolute_target's answers by target: a proxy client repeats the same few.
# Bounded (emptied when full), since any client may send any target.
_TARGETS: dict[bytes, tuple[str, str]] = {}
_MAX_TARGETS = 256


_Base = HttpToolsProtocol


class HardenedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines, a head limit and strict framing.

    :class:`~labkit.transport.LoopbackServer` serves with it by default, through
    :meth:`configured`, which binds a server's timeout and refusal log.
    """

    request_timeout: ClassVar[float] = DEFAULT_REQUEST_TIMEOUT
    max_head_bytes: ClassVar[int] = MAX_HEAD_BYTES
    refusals: ClassVar[RefusalLog] = RefusalLog("labkit")
    allow_connect: ClassVar[bool] = False

    # Per-connection state (class defaults until a connection sets its own).
    _phase = _IDLE
    _mark = 0.0  # when the client's clock (re)started
    _head_bytes = 0  # bytes received while the current head is unfinished
    _timer = None  # the deadline check, or the end of lingering after a refusal
    _refused = False  # the connection is refused
    _deaf = False  # drop input unparsed (after a refusal, a CONNECT or an Upgrade)
    _rejection: tuple[int, str] | None = None
    _good_host: bytes | None = None  # the last Host that passed the checks
    _framing: list[tuple[bytes, bytes]] = []  # this request's Host and Transfer-Encoding
    _write_paused_at: float | None = None
    _running = None  # the request whose handler runs (uvicorn answers them in order)

    @classmethod
    def configured(cls, *, name: str, request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
                   max_head_bytes: int = MAX_HEAD_BYTES) -> type["HardenedHttpToolsProtocol"]:
        """A subclass bound to one server's settings (uvicorn takes a class, not an instance)."""
        if not 0 < request_timeout < float("inf"):
            raise ValueError(f"request_timeout must be a positive, finite number of seconds, not {request_timeout!r}")
        return type(cls.__name__, (cls,), {
            "request_timeout": float(request_timeout),
            "max_head_bytes": int(max_head_bytes),
            "refusals": RefusalLog(name),
            "__module__": cls.__module__,
        })

    # -- connection ------------------------------------------------------
    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._mark = now = self.loop.time()
        self._timer = self.loop.call_at(now + self.request_timeout, self._deadline)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        # uvicorn tells only the newest request (self.cycle) that the client is
        # gone; with pipelining the one being answered may be older, and its
        # next write would fail on the closed transport.
        running = self._running
        if running is not None and not running.response_complete:
            running.disconnected = True
            running.message_event.set()
        super().connection_lost(exc)

    def _start_asgi_task(self, cycle, app) -> None:
        self._running = cycle
        super()._start_asgi_task(cycle, app)  # a private method: reached only through super()

    def data_received(self, data: bytes) -> None:
        if self._deaf:
            return  # lingering after a refusal, or after a CONNECT: read and drop
        self._unset_keepalive_if_required()
        if self._phase != _BODY:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # llhttp stops after a CONNECT or an Upgrade request, which is
            # answered as plain HTTP (a server MAY ignore Upgrade, RFC 9110
            # section 7.8) and then closed: nothing after it is parsed.
            self._deaf = True
            if self.cycle is not None:
                self.cycle.keep_alive = False
            return
        except httptools.HttpParserError as exc:
            rejection, self._rejection = self._rejection, None
            if rejection is None:
                cause = exc.__context__
                if isinstance(exc, httptools.HttpParserCallbackError) and not isinstance(
                    cause, (httptools.HttpParserError, _Refused)
                ):
                    # A bug here, not the client's fault: say so, with the traceback.
                    _log.error("%s server failed reading a request", self.refusals.name, exc_info=cause)
                    rejection = (500, "the server failed while reading the request")
                else:
                    rejection = (400, _parser_reason(exc))
            self._refuse(*rejection)
            return
        if self._phase != _BODY and self._head_bytes > self.max_head_bytes:
            # Refuse now: buffering the rest of an endless head costs memory
            # and (httptools joins a field's pieces) quadratic time.
            self._refuse(431, self._too_large())

    def pause_writing(self) -> None:
        super().pause_writing()
        self._write_paused_at = self.loop.time()

    def resume_writing(self) -> None:
        super().resume_writing()
        self._write_paused_at = None

    # -- parser callbacks ------------------------------------------------
    # The per-request overrides call the base class directly, not through
    # super(): this is the hot path, and every frame shows in requests/s.
    def on_message_begin(self) -> None:
        _Base.on_message_begin(self)
        self._phase = _HEAD
        self._mark = self.loop.time()
        self._framing = []

    def on_header(self, name: bytes, value: bytes) -> None:
        # uvicorn's on_header, which this replaces, plus setting Host and
        # Transfer-Encoding aside for on_headers_complete (cheaper than a
        # second pass over the fields).
        name = name.lower()
        if name in _WATCHED:
            if name == b"expect":
                if value.lower() == b"100-continue":
                    self.expect_100_continue = True
            else:
                self._framing.append((name, value))
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        # The phase turns to _BODY only once the request has its cycle: a
        # request refused here never reaches a handler.
        head_bytes, self._head_bytes = self._head_bytes, 0
        version = self.parser.get_http_version()
        fields = self._framing
        # Fast path: HTTP/1.1 with the one Host this connection sent before.
        if not (version == "1.1" and len(fields) == 1 and fields[0][1] == self._good_host
                and fields[0][0] == b"host"):
            rejection = self._check_head(version, fields)
            if rejection is not None:
                self._rejection = rejection
                raise _Refused
        if head_bytes > self.max_head_bytes and self._head_size() > self.max_head_bytes:
            # A head over the limit that arrived whole, within one read.
            self._rejection = (431, self._too_large())
            raise _Refused
        try:
            _Base.on_headers_complete(self)
        except httptools.HttpParserInvalidURLError:
            # parse_url takes no authority-form target: CONNECT's (RFC 9112 section 3.2.3).
            if not (self.allow_connect and self.scope["method"] == "CONNECT"):
                self._rejection = (400, "the request-target is not a valid URI (RFC 9112 section 3.2)")
                raise
            self._connect()
        except AttributeError:
            # parse_url finds no path in an absolute-form target without one
            # ("http://news.test"), and uvicorn fails on that before it makes
            # the cycle. An empty path means "/" (RFC 9110 section 4.2.3).
            if not self._add_empty_path():
                raise
            _Base.on_headers_complete(self)
        if self.url[:1] != b"/":  # origin-form, nearly every request, has nothing to keep
            self._keep_absolute_target()
        self._phase = _BODY

    def _keep_absolute_target(self) -> None:
        # uvicorn keeps only the path of an absolute-form target, so the handler
        # would go by Host. But its authority is the one that counts: a proxy
        # "MUST ignore the received Host header field" and use the target's
        # (RFC 9112 section 3.2.2), and a client may send a stale Host (urllib3
        # 2.8's ProxyManager keeps the first request's on a cross-host redirect).
        # The target is split here, once, and handed to ASGIAdapter as an ASGI
        # scope extension (PROXY_TARGET); the path stays uvicorn's origin-form one.
        # (h11 gives the whole target as the path instead, which ASGIAdapter
        # splits itself: each protocol splits a target once.)
        url = self.url
        cycle = self.cycle
        if cycle is None or cycle.scope is not self.scope:
            return  # no request started (an upgrade)
        target = _TARGETS.get(url)
        if target is None:
            target = _absolute_target(url)
            if target is None:
                return
            if len(_TARGETS) >= _MAX_TARGETS:
                _TARGETS.clear()
            _TARGETS[url] = target
        scope = self.scope
        extension = {"scheme": target[0], "authority": target[1]}
        if "extensions" in scope:
            scope["extensions"][PROXY_TARGET] = extension
        else:
            scope["extensions"] = {PROXY_TARGET: extension}

    def _add_empty_path(self) -> bool:
        url = self.url
        start = url.find(b"://") + 3
        if start < 3:
            return False
        cut = url.find(b"?", start)
        cut = len(url) if cut < 0 else cut
        if b"/" in url[start:cut]:
            return False
        self.url = url[:cut] + b"/" + url[cut:]
        return True

    def on_message_complete(self) -> None:
        _Base.on_message_complete(self)
        self._phase = _IDLE

    def _head_size(self) -> int:
        # The request line ("GET", " ", target, " HTTP/1.1", CRLF) and
        # "name: value" CRLF per field: what the client sent, give or take spaces.
        return (len(self.parser.get_method()) + len(self.url) + 12
                + sum(len(name) + len(value) + 4 for name, value in self.headers))

    def _too_large(self) -> str:
        return f"the request head is over {self.max_head_bytes} bytes (RFC 6585 section 5)"

    def _check_head(self, version: str, fields: list[tuple[bytes, bytes]]) -> tuple[int, str] | None:
        if version != "1.1" and version != "1.0":
            if version == "0.9":
                return 400, "the request line has no HTTP version; HTTP/0.9 is not served (RFC 9112 section 3)"
            return 505, f"HTTP/{version} is not served on this connection (RFC 9110 section 15.6.6)"
        hosts = [value for name, value in fields if name == b"host"]
        if len(hosts) != 1:
            if hosts:
                return 400, "more than one Host header field (RFC 9112 section 3.2)"
            if version == "1.1":
                return 400, "an HTTP/1.1 request without a Host header field (RFC 9112 section 3.2)"
        elif _HOST.fullmatch(hosts[0]) is None:
            return 400, "the Host header field is not a valid host[:port] (RFC 9112 section 3.2)"
        codings = [value for name, value in fields if name == b"transfer-encoding"]
        if codings:
            return self._check_transfer_coding(version, b",".join(codings))
        if hosts:
            self._good_host = hosts[0]
        return None

    @staticmethod
    def _check_transfer_coding(version: str, field: bytes) -> tuple[int, str] | None:
        if version == "1.0":
            return 400, ("Transfer-Encoding in an HTTP/1.0 request: its framing cannot be "
                         "trusted (RFC 9112 section 6.1)")
        codings = [c.strip().lower() for c in field.split(b",")]
        codings = [c for c in codings if c]
        if not codings or codings[-1] != b"chunked":
            return 400, ("Transfer-Encoding does not end in chunked, so the content's length "
                         "cannot be determined (RFC 9112 section 6.3)")
        if b"chunked" in codings[:-1]:
            return 400, "chunked is applied more than once (RFC 9112 section 7)"
        if len(codings) > 1:
            return 501, "only the chunked transfer coding is implemented (RFC 9112 section 6.1)"
        return None

    def _connect(self) -> None:
        authority = self.url.decode("latin-1")
        self.url = b"/"  # something parse_url accepts; the real target goes in below
        super().on_headers_complete()
        self.scope["path"] = authority
        self.scope["raw_path"] = authority.encode("latin-1")
        cycle = self.cycle
        # No tunnel follows: answer, then close (a CONNECT carries no content).
        cycle.keep_alive = False
        cycle.more_body = False
        cycle.message_event.set()

    # -- deadlines and refusals -----------------------------------------
    def _deadline(self) -> None:
        self._timer = None
        transport = self.transport
        if transport.is_closing() or self._refused:
            return
        now = self.loop.time()
        timeout = self.request_timeout
        flow, cycle, phase = self.flow, self.cycle, self._phase
        if flow.write_paused and self._write_paused_at is not None and now - self._write_paused_at >= timeout:
            # The client has not read its responses for a whole timeout: nothing
            # more can be said to it, and the buffered output goes with it.
            transport.abort()
            return
        if flow.read_paused or flow.write_paused or (
            cycle is not None and not cycle.response_complete and (phase != _BODY or self.pipeline)
        ):
            # The server's turn (a handler at work, or flow control): the
            # client's clock restarts when that is over.
            self._mark = now
            self._timer = self.loop.call_at(now + timeout, self._deadline)
            return
        deadline = self._mark + timeout
        if now < deadline:
            self._timer = self.loop.call_at(deadline, self._deadline)
        elif phase != _IDLE:
            self._refuse(408, f"no complete request within {timeout:g} s (RFC 9110 section 15.5.9)")
        elif cycle is not None and self.timeout_keep_alive_task is not None:
            # Between requests uvicorn's keep-alive timer is in charge.
            self._timer = self.loop.call_at(now + timeout, self._deadline)
        else:
            transport.close()  # nothing of a request arrived: nothing to answer

    def _refuse(self, status: int, reason: str) -> None:
        """Answer ``status`` if no other response is under way, then close."""
        self.refusals.note(status, reason, self.client)
        self._refused = self._deaf = True
        self._unset_keepalive_if_required()
        if self._timer is not None:
            self._timer.cancel()
        transport, cycle = self.transport, self.cycle
        if cycle is not None and not cycle.response_complete:
            waiting = self._phase == _BODY and not cycle.response_started
            if waiting:
                # The handler is waiting for this request's content: it gets
                # http.disconnect, and anything it sends is dropped.
                cycle.disconnected = True
                cycle.message_event.set()
            if self._phase != _BODY or self.pipeline or cycle.response_started:
                # Responses are under way (pipelining), and a status line
                # cannot be put before them: answer the requests that came
                # whole, close after the last (cut it short if it stalls).
                last = cycle
                if waiting:  # this one is queued: the one before it is the last
                    pipeline = self.pipeline
                    last = pipeline[1][0] if len(pipeline) > 1 else self._running
                if last is not None:
                    last.keep_alive = False
                self._timer = self.loop.call_later(self.request_timeout, transport.abort)
                return
        elif self._phase == _BODY and cycle is not None:
            transport.close()  # this request has had its answer already
            return
        transport.write(_refusal(status, reason))
        if transport.can_write_eof():
            transport.write_eof()
        self._timer = self.loop.call_later(LINGER_SECONDS, transport.close)


class ProxyHttpToolsProtocol(HardenedHttpToolsProtocol):
    """The hardened protocol plus CONNECT (pass as ``LoopbackServer(http=...)``)."""

    allow_connect = True
