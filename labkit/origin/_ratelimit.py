"""``/ratelimit``: a token bucket per client key; 429 with ``Retry-After`` when empty.

429 Too Many Requests and its optional ``Retry-After`` are RFC 6585 section 4.
Query: ``rate`` (tokens per second, default 1), ``burst`` (bucket size,
default 3), ``key``. Each request takes one token; the bucket refills at
``rate`` on the origin's clock. ``DELETE /ratelimit?key=K`` refills K's bucket.
"""

from __future__ import annotations

import math
import threading

from ..core import json_response, Clock, Request, Response, problem
from ._keyed import BadParam, client_key, forget, number, trim

__all__ = ["RateLimitRoute"]


class RateLimitRoute:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        # key -> [tokens, last refill time, rate, burst]
        self._buckets: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        try:
            key = client_key(request)
            if request.method == "DELETE":
                return forget(self._buckets, self._lock, key)
            rate = number(request, "rate", 1.0, lo=0.001, hi=1e6, kind=float)
            burst = int(number(request, "burst", 3, lo=1, hi=1_000_000))
        except BadParam as exc:
            return exc.response(request)
        now = self.clock.time()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or bucket[2] != rate or bucket[3] != burst:
                bucket = self._buckets[key] = [float(burst), now, rate, burst]
                trim(self._buckets)
            tokens = min(burst, bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
            allowed = tokens >= 1.0 - 1e-9  # float refill must not miss a whole token
            bucket[0] = tokens - 1.0 if allowed else tokens
        if allowed:
            doc = {"ok": True, "key": key, "tokens_left": int(bucket[0])}
            return json_response(200, doc)
        # Delay-seconds is an integer: round up, or the client comes back too early.
        wait = max(1, math.ceil((1.0 - tokens) / rate))
        return problem(429, f"Rate limit of {rate:g} requests/s (burst {burst}) exceeded.",
                       instance=request.path, headers=[("retry-after", str(wait))],
                       key=key, retry_after=wait)
