"""The edges: how bytes reach the core (in-process, or real loopback sockets).

The server side serves a handler on loopback (:class:`LoopbackServer`, with
:class:`ProxyHttpToolsProtocol` when the handler is a proxy); the client side
reaches a loopback proxy from a chosen device address (:func:`proxy_transport`).
"""

from ._asgi import ASGIAdapter
from ._connect import ProxyHttpToolsProtocol
from ._inprocess import InProcessTransport
from ._proxy import LoopbackAddressUnavailable, ProxyTransport, proxy_transport
from ._server import LoopbackServer, NotLoopbackError

__all__ = [
    "ASGIAdapter",
    "InProcessTransport",
    "LoopbackAddressUnavailable",
    "LoopbackServer",
    "NotLoopbackError",
    "ProxyHttpToolsProtocol",
    "ProxyTransport",
    "proxy_transport",
]
