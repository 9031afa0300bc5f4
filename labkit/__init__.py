"""labkit: reproduce HTTP 511 on your own machine, inspect it, and test retries against it."""

from ._envcheck import check_environment
from ._show import format_exchange, show
from ._simulator import Simulator
from ._version import __version__
from .core import (
    Clock,
    Disconnect,
    InvalidStatus,
    RealClock,
    Request,
    Response,
    Stall,
    VirtualClock,
    status_info,
)
from .inspector import (
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
from .retry import Backoff, Decision, HerdResult, RetryPolicy, RetryResult, simulate_herd
from .transport import InProcessTransport, LoopbackAddressUnavailable, LoopbackServer, NotLoopbackError

__all__ = [
    "Attribution",
    "Backoff",
    "Capture",
    "Clock",
    "Decision",
    "Disconnect",
    "Exchange",
    "Finding",
    "HerdResult",
    "InProcessTransport",
    "InvalidStatus",
    "LoopbackAddressUnavailable",
    "LoopbackServer",
    "NotLoopbackError",
    "Origin",
    "RealClock",
    "Request",
    "Response",
    "RetryPolicy",
    "RetryResult",
    "Simulator",
    "Stall",
    "VirtualClock",
    "attribute",
    "check_environment",
    "format_exchange",
    "inspect",
    "show",
    "simulate_herd",
    "status_info",
    "to_curl",
    "to_har",
    "with_cache",
]
