"""Shared plumbing of the retry endpoints: per-client keys and checked query parameters.

Every retry endpoint keeps its state (failure counts, token buckets, orders)
per *client key*, so two learners, or two tests, never share a counter.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl

from ..core import Request, Response, problem

__all__ = ["BadParam", "MAX_KEYS", "choice", "client_key", "forget", "number", "query", "trim"]

MAX_KEY = 64
# State is kept per key; bound it so a long-running server fed fresh keys
# forever forgets its oldest keys instead of growing without limit.
MAX_KEYS = 10_000


class BadParam(ValueError):
    """A query parameter the endpoint cannot use; becomes a 400 problem."""

    def response(self, request: Request) -> Response:
        return problem(400, str(self), title="Invalid parameter", instance=request.path)


@lru_cache(maxsize=1024)
def _query(query: str) -> dict[str, str]:
    # Each endpoint reads several parameters; parse a query string once, not per parameter.
    return dict(parse_qsl(query, keep_blank_values=True))


def query(request: Request) -> dict[str, str]:
    """The request's query parameters (a cached dict: do not modify it)."""
    return _query(request.query)


def client_key(request: Request) -> str:
    """``?key=``, else the ``X-Client-Key`` header, else the client's address."""
    key = query(request).get("key") or request.header("x-client-key") or request.client_host
    if len(key) > MAX_KEY or not (key.isascii() and key.isprintable()):
        raise BadParam(f"key must be 1-{MAX_KEY} printable ASCII characters")
    return key


def number(request: Request, name: str, default: float, *, lo: float, hi: float,
           kind: type = int) -> float:
    """Query parameter ``name`` as ``kind`` within [lo, hi], or ``default`` when absent."""
    text = query(request).get(name)
    if text is None or text == "":
        return default
    try:
        value = kind(text)
    except ValueError:
        raise BadParam(f"{name}={text!r} is not a{'n integer' if kind is int else ' number'}") from None
    if not lo <= value <= hi:  # also rejects nan
        raise BadParam(f"{name}={text!r} is out of range: use {lo}..{hi}")
    return value


def choice(request: Request, name: str, options: tuple[str, ...]) -> str:
    """Query parameter ``name``, one of ``options`` (the first is the default)."""
    value = query(request).get(name) or options[0]
    if value not in options:
        raise BadParam(f"{name}={value!r}: use one of {', '.join(options)}")
    return value


def trim(table: dict) -> None:
    """Forget the oldest entries of ``table`` beyond :data:`MAX_KEYS` (call under the lock)."""
    while len(table) > MAX_KEYS:
        del table[next(iter(table))]


def forget(table: dict, lock, key: str) -> Response:
    """``DELETE ?key=K``: forget K's state, so an experiment can start again from scratch."""
    with lock:
        table.pop(key, None)
    return Response(204)
