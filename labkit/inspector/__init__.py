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
from ._rules import RULES, Rule, shared_cache_may_store

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
    "shared_cache_may_store",
    "to_curl",
    "to_har",
    "to_json",
    "with_cache",
]
