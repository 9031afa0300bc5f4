"""The Inspector: capture httpx exchanges, lint them, attribute them, export them.

``Capture`` records; ``inspect`` returns findings (httplint's header and
caching checks plus labkit's status-semantics rules); ``attribute`` says who
answered; ``to_har``/``to_curl``/``to_json`` export with credentials redacted.
"""

import sys
import types

from ._attribution import Attribution, attribute
from ._cache import with_cache
from ._capture import Capture
from ._exchange import Exchange
from ._export import from_har, from_json, to_curl, to_har, to_json
from ._findings import LEVELS, Finding
from ._lint import inspect, inspect_all
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

# Notebook-only helpers load on first use, to keep `import labkit` light.
_LAZY = {
    "findings_frame": "._frame",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


class _CallableModule(types.ModuleType):
    """``labkit.inspect`` is this package *and* the ``inspect()`` function.

    The issue's API is ``findings = labkit.inspect(exchange)`` while the package
    is ``labkit.inspect``; binding the function over the package name would make
    ``import labkit.inspect as m`` return the function. A callable module keeps
    both spellings working.
    """

    def __call__(self, exchange, **kwargs):
        return inspect(exchange, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
