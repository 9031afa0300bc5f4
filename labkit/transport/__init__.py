"""The edges: how bytes reach the core (in-process, or real loopback sockets).

The server side serves a handler on loopback (:class:`LoopbackServer`, whose
:class:`HardenedHttpToolsProtocol` bounds and checks what clients send, and
:class:`ProxyHttpToolsProtocol`, which adds CONNECT, when the handler is a proxy); the client side
reaches a loopback proxy from a chosen device address (:func:`proxy_transport`).
"""

from ._asgi import ASGIAdapter
from ._connect import DEFAULT_REQUEST_TIMEOUT, HardenedHttpToolsProtocol, ProxyHttpToolsProtocol
from ._inprocess import InProcessTransport
from ._proxy import LoopbackAddressUnavailable, ProxyTransport, proxy_transport
from ._server import LoopbackServer, NotLoopbackError

__all__ = [
    "ASGIAdapter",
    "DEFAULT_REQUEST_TIMEOUT",
    "HardenedHttpToolsProtocol",
    "InProcessTransport",
    "LoopbackAddressUnavailable",
    "LoopbackServer",
    "NotLoopbackError",
    "ProxyHttpToolsProtocol",
    "ProxyTransport",
    "proxy_transport",
]
