"""Serve a proxy with httptools, CONNECT included: the one hook into uvicorn's internals.

uvicorn's httptools protocol hands every request-target to
``httptools.parse_url``, which rejects CONNECT's authority-form target
(``news.test:443``, RFC 9112 section 3.2.3) with a 400 before the handler can
answer. h11 accepts it but parses in pure Python, at about half the
throughput. uvicorn has no public way to change this, so this protocol
subclasses ``HttpToolsProtocol`` and relies on parts of it that are not API:

* ``on_headers_complete()`` reads the target from ``self.url`` (bytes), sets
  ``self.scope`` and then makes ``self.cycle``, whose ``keep_alive``,
  ``more_body`` and ``message_event`` it changes;
* ``self.parser.get_method()`` (httptools) names the method;
* ``_unsupported_upgrade_warning()`` is what ``data_received`` calls when
  llhttp reports an upgrade, as it does for every CONNECT.

``pyproject.toml`` pins uvicorn to the versions this was tested with, and
``tests/test_connect_hook.py`` fails, saying what changed, when those parts
no longer fit. Nothing else in labkit reaches into uvicorn's internals.

The target reaches the handler the way h11 would give it (as the path, which
:class:`~labkit.transport.ASGIAdapter` reads as the authority). The gateway
never opens a tunnel, so after answering a CONNECT the connection is closed.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["ProxyHttpToolsProtocol"]


class ProxyHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, plus CONNECT (pass as ``LoopbackServer(http=...)``)."""

    def on_headers_complete(self) -> None:
        if self.parser.get_method() != b"CONNECT":
            return super().on_headers_complete()
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

    def _unsupported_upgrade_warning(self) -> None:
        # llhttp reports every CONNECT as an "upgrade"; it is answered, not an error.
        if self.scope.get("method") != "CONNECT":
            super()._unsupported_upgrade_warning()
