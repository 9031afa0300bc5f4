"""A client's edge: an httpx transport through an HTTP proxy, from a chosen source address.

The source address is how the gateway tells devices apart (RFC 8952
section 3.4.2), so each loopback address (127.0.0.2, 127.0.0.3, ...) is a
separate device. httpx 0.28 has no way to say both: ``HTTPTransport`` ignores
``local_address`` once ``proxy`` is set. This transport is built from public
parts only: an ``httpcore.HTTPProxy`` pool whose network backend binds the
address, and the request and response copied field by field, as any
``httpx.BaseTransport`` may.

Linux and Windows route all of 127.0.0.0/8 to loopback; macOS configures only
127.0.0.1, so a device at 127.0.0.2 cannot connect there until the address is
added. That is a set-up step, not a network failure: it raises
:class:`LoopbackAddressUnavailable` with the fix, never an httpx error a retry
loop would retry.
"""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

__all__ = ["LoopbackAddressUnavailable", "ProxyTransport", "proxy_transport"]


class LoopbackAddressUnavailable(OSError):
    """A device address (127.0.0.2, ...) is not configured on this machine's loopback interface.

    The message says how to add it, or how to keep the device in-process.
    """

    def __init__(self, address: str) -> None:
        super().__init__(errno.EADDRNOTAVAIL, _unavailable_message(address))
        self.address = address

    def __str__(self) -> str:  # the one line, without "[Errno 49]" before it
        return self.strerror

    def __reduce__(self):
        return type(self), (self.address,)


def _unavailable_message(address: str) -> str:
    if sys.platform == "darwin":
        fix = f"sudo ifconfig lo0 alias {address} up"
        why = "macOS configures only 127.0.0.1 on loopback"
    else:
        fix = f"sudo ip addr add {address}/8 dev lo"
        why = "this machine's loopback interface lacks it"
    return (f"cannot connect from {address}: {why}. Add it with `{fix}`, or keep the device "
            f"in-process: sim.client(device={address!r}, gateway=True)")


def _bindable(address: str) -> bool:
    """Whether a socket can bind ``address`` (a device address such as 127.0.0.2)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, 0))
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                return False
            raise
    return True


class ProxyTransport(httpx.BaseTransport):
    """Send every request through the HTTP proxy at ``proxy_url``, connecting from ``device``.

    Plain ``http://`` requests go to the proxy in absolute form; ``https://``
    ones ask it for a tunnel with CONNECT (RFC 9112 sections 3.2.2-3.2.3).
    ``user:password@`` in ``proxy_url`` becomes ``Proxy-Authorization``
    (RFC 9110 section 11.7.2).
    """

    def __init__(self, proxy_url: str, *, device: str = "127.0.0.1") -> None:
        url = httpx.URL(proxy_url)
        if url.scheme != "http":
            raise ValueError(f"the proxy URL must be http://host:port, not {proxy_url!r}")
        auth = None
        if url.username or url.password:
            auth = (url.username.encode("utf-8"), url.password.encode("utf-8"))
        self.device = device
        self._pool = httpcore.HTTPProxy(
            proxy_url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=b"/"),
            proxy_auth=auth,
            network_backend=_FromAddress(device),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        outgoing = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            incoming = self._pool.handle_request(outgoing)
        return httpx.Response(
            status_code=incoming.status,
            headers=incoming.headers,
            stream=_Body(incoming.stream),
            extensions=incoming.extensions,
        )

    def close(self) -> None:
        with _as_httpx_errors():
            self._pool.close()

    def __repr__(self) -> str:
        return f"<ProxyTransport from {self.device}>"


def proxy_transport(proxy_url: str, *, device: str = "127.0.0.1") -> ProxyTransport:
    """A transport through the proxy at ``proxy_url``, connecting from ``device``
    (see :class:`ProxyTransport`)."""
    return ProxyTransport(proxy_url, device=device)


class _FromAddress(httpcore.NetworkBackend):
    """Every TCP connection leaves from ``address`` (httpcore's proxy pool does
    not pass its ``local_address`` on to the connections it opens to the proxy,
    so the network backend applies it)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            return self._inner.connect_tcp(host, port, timeout, self.address, socket_options)
        except httpcore.ConnectError as exc:
            # httpcore raises ConnectError from the OSError of bind() or connect().
            # Only a bind that fails is a missing address: ask the socket layer
            # again rather than guess from the errno, which connect() shares.
            cause = exc.__cause__
            if (isinstance(cause, OSError) and cause.errno == errno.EADDRNOTAVAIL
                    and not _bindable(self.address)):
                raise LoopbackAddressUnavailable(self.address) from None
            raise

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover
        return self._inner.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:  # pragma: no cover
        self._inner.sleep(seconds)


class _Body(httpx.SyncByteStream):
    """httpcore's response body as httpx's, with httpx's exceptions."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


# httpx and httpcore name their public exceptions alike; callers expect httpx's.
_ERRORS: dict[type[Exception], type[httpx.HTTPError]] = {
    getattr(httpcore, name): getattr(httpx, name)
    for name in (
        "ConnectError", "ConnectTimeout", "LocalProtocolError", "NetworkError",
        "PoolTimeout", "ProtocolError", "ProxyError", "ReadError", "ReadTimeout",
        "RemoteProtocolError", "TimeoutException", "UnsupportedProtocol",
        "WriteError", "WriteTimeout",
    )
}


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except LoopbackAddressUnavailable as exc:
        # Its message is the whole story: drop httpcore's frames from the traceback.
        raise LoopbackAddressUnavailable(exc.address) from None
    except Exception as exc:
        for cls in type(exc).__mro__:  # the most specific match first
            if cls in _ERRORS:
                raise _ERRORS[cls](str(exc)) from exc
        raise
