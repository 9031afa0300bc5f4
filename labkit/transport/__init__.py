"""The edges: how bytes reach the core (in-process, or real loopback sockets)."""

from ._asgi import ASGIAdapter
from ._inprocess import InProcessTransport
from ._server import LoopbackServer, NotLoopbackError

__all__ = ["ASGIAdapter", "InProcessTransport", "LoopbackServer", "NotLoopbackError"]
