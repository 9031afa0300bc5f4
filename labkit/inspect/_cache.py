"""A real HTTP cache between a client and the network: hishel 2.0.

``with_cache(client)`` slips hishel's ``CacheTransport`` under an httpx client,
with an in-memory SQLite store, so experiments leave no files behind.

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

__all__ = ["with_cache"]


def _storage():
    import hishel

    # check_same_thread=False: the loopback server thread may close it.
    return hishel.SqliteStorage(connection=sqlite3.connect(":memory:", check_same_thread=False))


def with_cache(client: httpx.Client, *, rfc: bool = True, shared: bool = True) -> httpx.Client:
    """Put an in-memory hishel cache under ``client`` (and its proxy mounts); returns it.

    Call it before :meth:`Capture.attach` so the capture sees what the cache
    returns (``Exchange.cache``, ``Age``). Sync clients only: hishel's async
    storage needs the ``anysqlite`` package, which labkit does not install.
    """
    if isinstance(client, httpx.AsyncClient):
        raise TypeError(
            "with_cache() supports httpx.Client only: hishel's async storage needs "
            "'anysqlite', which is not a labkit dependency. Use a sync client for cache experiments."
        )
    if not isinstance(client, httpx.Client):
        raise TypeError(f"with_cache() takes an httpx.Client, not {type(client).__name__}")
    if getattr(client, "_labkit_capture", None) is not None:
        raise ValueError("attach the Capture after with_cache(), so it sees the cache's answers")
    import hishel
    from hishel.httpx import CacheTransport

    options = hishel.CacheOptions(shared=shared) if rfc else False
    storage = _storage()  # one store for every route of this client

    def wrap(transport):
        return CacheTransport(transport, storage=storage, rfc=options)

    client._transport = wrap(client._transport)
    client._mounts = {p: (wrap(t) if t is not None else None) for p, t in client._mounts.items()}
    return client
