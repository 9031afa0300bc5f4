"""A real HTTP cache between a client and the network: hishel 2.0.

``with_cache(transport)`` wraps a transport in hishel's ``CacheTransport``,
with an in-memory SQLite store, so experiments leave no files behind. Build the
client with it (``sim.client(cache=True)``, or
``httpx.Client(transport=with_cache(httpx.HTTPTransport()))``).

Two kinds of cache, because portals poison them differently:

- ``rfc=True`` (default): RFC 9111 as a *shared* cache (RFC 9111 section 3).
  It never stores a correct 511 (not heuristically cacheable, RFC 9110
  section 15.1, and ``no-store``), but it does store the ``cacheable``
  portal's 511 with ``max-age`` and serves it after sign-in.
- ``rfc=False``: hishel's "store every successful GET" mode, like an
  application cache or a CDN told to ignore headers. It still never stores a
  511 (not a success), but a ``spoof`` portal's 200 login page is stored as
  if it were the site's content.

hishel computes ages from the wall clock (``time.time()``), so run cache
experiments on a ``RealClock`` simulator: a VirtualClock's ``Date`` would make
every response look months old.
"""

from __future__ import annotations

import sqlite3

import httpx

from ._recorder import RecordingTransport

__all__ = ["with_cache"]


def _storage():
    import hishel

    # check_same_thread=False: the loopback server thread may close it.
    return hishel.SqliteStorage(connection=sqlite3.connect(":memory:", check_same_thread=False))


def with_cache(transport, *, rfc: bool = True, shared: bool = True) -> httpx.BaseTransport:
    """``transport`` behind an in-memory hishel cache: a new transport for a client.

    To record what the cache answers (``Exchange.cache``, ``Age``), record
    around the cache: ``cap.transport(with_cache(inner))``. Sync transports
    only: hishel's async storage needs the ``anysqlite`` package, which labkit
    does not install.
    """
    if isinstance(transport, RecordingTransport):
        raise ValueError("wrap the cache in the capture, not the capture in the cache: "
                         "cap.transport(with_cache(inner)) records what the cache answers; "
                         "a capture under with_cache() would see only what the cache lets through")
    if isinstance(transport, (httpx.Client, httpx.AsyncClient)):
        raise TypeError("with_cache() wraps a transport, not a client: build the client with "
                        "sim.client(cache=True) or httpx.Client(transport=with_cache(transport))")
    if not isinstance(transport, httpx.BaseTransport):
        if isinstance(transport, httpx.AsyncBaseTransport):
            raise TypeError(
                "with_cache() supports sync transports only: hishel's async storage needs "
                "'anysqlite', which is not a labkit dependency. Use a sync client for cache experiments."
            )
        raise TypeError(f"with_cache() takes an httpx transport, not {type(transport).__name__}")
    import hishel
    from hishel.httpx import CacheTransport

    options = hishel.CacheOptions(shared=shared) if rfc else False
    return CacheTransport(transport, storage=_storage(), rfc=options)
