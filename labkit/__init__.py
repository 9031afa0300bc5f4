"""labkit: reproduce HTTP 511 on your own machine, inspect it, and test retries against it."""

from ._envcheck import check_environment
from ._show import format_exchange, show
from ._simulator import Simulator
from .core import (
    Clock,
    Disconnect,
    InvalidStatus,
    RealClock,
    Request,
    Response,
    VirtualClock,
    status_info,
)
from .origin import Origin
from .transport import InProcessTransport, LoopbackServer, NotLoopbackError

__version__ = "0.1.0"

__all__ = [
    "Clock",
    "Disconnect",
    "InProcessTransport",
    "InvalidStatus",
    "LoopbackServer",
    "NotLoopbackError",
    "Origin",
    "RealClock",
    "Request",
    "Response",
    "Simulator",
    "VirtualClock",
    "check_environment",
    "format_exchange",
    "show",
    "status_info",
]
