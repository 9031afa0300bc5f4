"""The Inspector: capture httpx exchanges, lint them, attribute them, export them.

``Capture`` records (its ``transport()`` goes into a client when the client is
built; ``with_cache`` puts an RFC 9111 cache there); ``inspect`` returns
findings (httplint's header and caching checks plus labkit's status-semantics
rules); ``attribute`` says who answered; ``to_har``/``to_curl``/``to_json``
export with credentials redacted. A captured :class:`Exchange` is plain data:
all of these are functions over it.
"""

from ._attribution import Attribution, attribute
from ._cache import with_cache
from ._capture import Capture
from ._exchange import Exchange
from ._export import from_har, from_json, to_curl, to_har, to_json
from ._findings import LEVELS, Finding
from ._frame import findings_frame
from ._lint import inspect, inspect_all
from ._recorder import RecordingTransport
from ._redaction import redact_exchange
from ._report import report
from ._rules import RULES, Rule

__all__ = [
    "Attribution",
    "Capture",
    "Exchange",
    "Finding",
    "LEVELS",
    "RULES",
    "RecordingTransport",
    "Rule",
    "attribute",
    "findings_frame",
    "from_har",
    "from_json",
    "inspect",
    "inspect_all",
    "redact_exchange",
    "report",
    "to_curl",
    "to_har",
    "to_json",
    "with_cache",
]

# Notebook-only helpers load on first use, to keep `import labkit` light. They
# never become globals of this module, so __all__ (its globals) leaves them out.
_COMPARE = {"SCENARIOS", "Scenario", "compare", "run_scenario", "verdict"}
_SEEDPAGE = {"error_middleware", "inspect_handler", "problems_of", "seed_page_app"}


def __getattr__(name: str):
    if name in _COMPARE:
        from . import _compare as module
    elif name in _SEEDPAGE:
        from . import _seedpage as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(module, name)
