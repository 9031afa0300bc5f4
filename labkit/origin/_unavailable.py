"""``/unavailable``: 503 with ``Retry-After``, until the advertised moment has come.

``Retry-After`` is either delay-seconds or an HTTP-date (RFC 9110 section
10.2.3); a 503 may carry it to say how long the outage should last (RFC 9110
section 15.6.4). Query: ``retry_after`` (seconds, default 5), ``form`` =
``seconds`` | ``date``, ``key``. The window starts at a key's first request
(on the origin's clock), so a client that honours the header succeeds on its
next attempt and a client that retries sooner meets another 503.
``DELETE /unavailable?key=K`` forgets K.
"""

from __future__ import annotations

import math
import threading

from ..core import json_response, Clock, Request, Response, http_date, problem
from ._keyed import BadParam, choice, client_key, forget, number, trim

__all__ = ["UnavailableRoute"]


class UnavailableRoute:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        try:
            key = client_key(request)
            if request.method == "DELETE":
                return forget(self._until, self._lock, key)
            wait = number(request, "retry_after", 5, lo=0, hi=86400)
            form = choice(request, "form", ("seconds", "date"))
        except BadParam as exc:
            return exc.response(request)
        now = self.clock.time()
        with self._lock:
            # Whole seconds: an HTTP-date cannot say anything finer.
            until = self._until.setdefault(key, math.ceil(now + wait))
            trim(self._until)
        if now >= until:
            doc = {"ok": True, "key": key, "recovered_at": http_date(until)}
            return json_response(200, doc)
        left = math.ceil(until - now)
        value = str(left) if form == "seconds" else http_date(until)
        return problem(503, f"Down for maintenance; come back in {left} s.",
                       instance=request.path, headers=[("retry-after", value)],
                       key=key, retry_after=value)
