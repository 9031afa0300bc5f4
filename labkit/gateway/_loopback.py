"""An httpx transport that uses the loopback gateway as its proxy, from a chosen address."""

from __future__ import annotations

import httpcore
import httpx

__all__ = ["proxy_transport"]


class _FromAddress(httpcore.NetworkBackend):
    """Every TCP connection leaves from ``address`` (httpcore's proxy pool drops
    ``local_address``, so the network backend applies it)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return self._inner.connect_tcp(host, port, timeout, self.address, socket_options)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover
        return self._inner.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:  # pragma: no cover
        self._inner.sleep(seconds)


def proxy_transport(proxy_url: str, *, device: str = "127.0.0.1") -> httpx.HTTPTransport:
    """An ``httpx.HTTPTransport`` through the proxy at ``proxy_url``, connecting from ``device``.

    The source address is how the gateway tells devices apart (RFC 8952
    section 3.4.2). httpx 0.28 ignores ``local_address`` once ``proxy`` is set,
    so the transport's pool is httpcore's proxy pool with a network backend
    that binds ``device``. ``user:password@`` in ``proxy_url`` becomes
    ``Proxy-Authorization``.
    """
    transport = httpx.HTTPTransport(proxy=proxy_url)
    proxy = httpx.Proxy(proxy_url)
    transport._pool = httpcore.HTTPProxy(
        proxy_url=httpcore.URL(
            scheme=proxy.url.raw_scheme, host=proxy.url.raw_host, port=proxy.url.port, target=b"/"
        ),
        proxy_auth=proxy.raw_auth,
        network_backend=_FromAddress(device),
    )
    return transport
