"""A peer for benchmarks/run.py: labkit's own `/status/511` response, from a trivial handler.

Serves, on loopback, a handler that returns the exact status, headers and body
the origin gave for one `GET /status/511` (captured at start-up), through the
same `LoopbackServer` (hardened protocol, ASGI adapter) as `labkit serve`.
Between it and the raw ASGI app lies the cost of the response's shape and the
server's protections; between it and labkit, the origin's own work per request.
Prints `origin: URL` and serves until terminated.
"""

from __future__ import annotations

import threading

import httpx

from labkit import Simulator
from labkit.core import Response
from labkit.transport import LoopbackServer


def main() -> None:
    sim = Simulator(name="shape-probe").serve()
    sample = httpx.get(sim.origin_url + "/status/511", headers={"user-agent": "wrk"})
    sim.stop()
    # Content-Length is added at the edge, as for every response.
    headers = [(k, v) for k, v in sample.headers.items() if k != "content-length"]
    body = sample.content
    server = LoopbackServer(lambda request: Response(sample.status_code, list(headers), body),
                            name="shape").start()
    print("origin:", server.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
