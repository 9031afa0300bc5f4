"""``/flaky``: fail N times, then succeed. The first thing to practise retries on.

Query: ``fail`` (N, default 2), ``mode`` = ``status`` (default) | ``disconnect``
| ``timeout``, ``status`` (the failure code, default 503), ``retry_after``
(seconds to advertise on a failure, optional), ``key`` (the counter's owner;
default the ``X-Client-Key`` header, else the client's address).
``DELETE /flaky?key=K`` resets K's counter.
"""

from __future__ import annotations

import threading

from ..core import json_response, Disconnect, Request, Response, Stall, problem
from ._keyed import BadParam, choice, client_key, forget, number, trim

__all__ = ["FlakyRoute"]

MODES = ("status", "disconnect", "timeout")


class FlakyRoute:
    """Counts calls per client key; the first ``fail`` calls fail."""

    def __init__(self) -> None:
        self._calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        try:
            key = client_key(request)
            if request.method == "DELETE":
                return forget(self._calls, self._lock, key)
            fail = int(number(request, "fail", 2, lo=0, hi=1000))
            mode = choice(request, "mode", MODES)
            status = int(number(request, "status", 503, lo=400, hi=599))
            retry_after = number(request, "retry_after", -1, lo=0, hi=86400)
        except BadParam as exc:
            return exc.response(request)
        with self._lock:
            call = self._calls.get(key, 0) + 1
            self._calls[key] = call
            trim(self._calls)
        if call > fail:
            doc = {"ok": True, "key": key, "call": call, "failed_before": fail}
            return json_response(200, doc)
        if mode == "disconnect":
            raise Disconnect()
        if mode == "timeout":
            raise Stall(1.0)
        extra = [("retry-after", str(int(retry_after)))] if retry_after >= 0 else []
        return problem(status, f"Failure {call} of {fail} for key {key!r}; "
                       f"call {fail + 1} will succeed.", instance=request.path,
                       headers=extra, key=key, call=call)
