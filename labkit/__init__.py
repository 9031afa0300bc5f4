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
from .inspect import (
    Attribution,
    Capture,
    Exchange,
    Finding,
    attribute,
    inspect,
    to_curl,
    to_har,
    with_cache,
)
from .origin import Origin
from .transport import InProcessTransport, LoopbackServer, NotLoopbackError

__version__ = "0.1.0"

__all__ = [
    "Attribution",
    "Capture",
    "Clock",
    "Disconnect",
    "Exchange",
    "Finding",
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
    "attribute",
    "check_environment",
    "format_exchange",
    "inspect",
    "show",
    "status_info",
    "to_curl",
    "to_har",
    "with_cache",
]
