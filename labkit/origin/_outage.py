"""``/outage``: a server that is down for a while, then recovers with finite capacity.

:class:`OutageModel` is the server of the thundering-herd lab's ``outage``
scenario (a recovering server; the schedule comparison's ``contention``
scenario is ``/contention``): the ``/outage`` route wraps it for real HTTP
clients, and ``labkit.retry.simulate_herd(Outage())`` calls
it directly for 10,000 simulated clients (an httpx round trip costs ~100 us,
the model well under 1 us), so the two agree by construction and a test checks
that they do.

Query: ``duration`` (seconds of outage, default 10), ``capacity`` (requests
served per second after recovery, default 100), ``retry_after`` (``none``, the
default: no ``Retry-After``, the clients' backoff decides; ``seconds`` or
``date``: every 503 carries one, see :class:`OutageModel`), ``key``. A key's outage starts
at its first request, or again at ``PUT /outage?key=K``; ``GET
/outage/stats?key=K`` shows the load the server saw per second;
``DELETE /outage?key=K`` forgets K.
"""

from __future__ import annotations

import math
import threading

from ..core import Clock, Request, Response, http_date, json_response, problem
from ._keyed import BadParam, choice, client_key, forget, number, trim

__all__ = ["RETRY_AFTER_FORMS", "OutageModel", "OutageRoute"]

# What the 503s carry: nothing, delay-seconds or an HTTP-date (RFC 9110 section 10.2.3).
RETRY_AFTER_FORMS = ("none", "seconds", "date")


class OutageModel:
    """503 during ``[start, start + duration)``; afterwards at most ``capacity``
    requests are served in each whole second counted from ``start``, the rest shed (503).

    ``retry_after`` says what every 503 carries (RFC 9110 section 10.2.3; a 503
    may say how long the condition lasts, section 15.6.4): ``"none"`` (the
    default) nothing; otherwise the moment the server next has capacity (during
    the outage its recovery, ``start + duration``; when shedding load afterwards
    the start of the next second, when its per-second capacity renews), either
    as ``"seconds"``, the time left rounded up to whole seconds (delay-seconds
    is an integer), or as a ``"date"``, that moment rounded up to a whole second
    (an HTTP-date cannot say anything finer). Either way the wait is at least
    the time left, never zero.

    Not locked: the simulation is single-threaded, and the route locks around it.
    """

    __slots__ = ("start", "duration", "capacity", "retry_after", "load", "served", "_end")

    def __init__(self, *, duration: float = 10.0, capacity: int = 100, start: float = 0.0,
                 retry_after: str = "none") -> None:
        if duration < 0 or capacity < 1:
            raise ValueError("duration must be >= 0 and capacity >= 1")
        if retry_after not in RETRY_AFTER_FORMS:
            raise ValueError(f"retry_after must be one of {', '.join(RETRY_AFTER_FORMS)}, "
                             f"not {retry_after!r}")
        self.start = float(start)
        self.duration = float(duration)
        self.capacity = int(capacity)
        self.retry_after = retry_after
        self._end = self.start + self.duration
        self.load: dict[int, int] = {}    # second since start -> requests that arrived
        self.served: dict[int, int] = {}  # second since start -> requests answered 200

    def admit(self, now: float) -> bool:
        """Record one request arriving at ``now``; True if it is served."""
        second = math.floor(now - self.start)
        load = self.load
        load[second] = load.get(second, 0) + 1
        if now < self._end and now >= self.start:
            return False
        served = self.served.get(second, 0)
        if served >= self.capacity:
            return False  # shed: over capacity this second
        self.served[second] = served + 1
        return True

    def next_capacity(self, now: float) -> float:
        """When a request refused at ``now`` could next be served: the recovery, or the next second."""
        if now < self._end:
            return self._end
        return self.start + math.floor(now - self.start) + 1

    def retry_after_value(self, now: float) -> str | None:
        """The ``Retry-After`` field of a 503 answered at ``now`` (None: form ``"none"``)."""
        form = self.retry_after
        if form == "none":
            return None
        if form == "seconds":
            return str(math.ceil(self.next_capacity(now) - now))
        return http_date(math.ceil(self.next_capacity(now)))

    def retry_after_delay(self, now: float) -> float | None:
        """What a client at ``now`` reads from :meth:`retry_after_value`: seconds to wait.

        The same number ``labkit.core.parse_retry_after(value, now=now)`` gives (a
        test checks it), without formatting and parsing a date per request.
        """
        form = self.retry_after
        if form == "none":
            return None
        if form == "seconds":
            return float(math.ceil(self.next_capacity(now) - now))
        return max(0.0, math.ceil(self.next_capacity(now)) - now)

    def reason(self, now: float) -> str:
        if self.start <= now < self._end:
            return f"Outage: recovering in {self._end - now:.3f} s."
        return f"Overloaded: this server serves {self.capacity} requests per second; load shed."

    def stats(self) -> dict[str, object]:
        seconds = sorted(self.load)
        return {
            "duration": self.duration,
            "capacity": self.capacity,
            "retry_after": self.retry_after,
            "calls": sum(self.load.values()),
            "peak_rps": max(self.load.values(), default=0),
            "load": {str(s): self.load[s] for s in seconds},
            "served": {str(s): self.served.get(s, 0) for s in seconds},
        }


class OutageRoute:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._models: dict[str, OutageModel] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        try:
            key = client_key(request)
            duration = number(request, "duration", 10.0, lo=0, hi=86400, kind=float)
            capacity = int(number(request, "capacity", 100, lo=1, hi=10_000_000))
            retry_after = choice(request, "retry_after", RETRY_AFTER_FORMS)
        except BadParam as exc:
            return exc.response(request)
        now = self.clock.time()
        if request.method == "DELETE":
            return forget(self._models, self._lock, key)
        if request.path.rstrip("/") == "/outage/stats":
            with self._lock:
                model = self._models.get(key)
                doc = model.stats() if model else None
            if doc is None:
                return problem(404, f"No outage for key {key!r} yet.", instance=request.path)
            return json_response(200, doc)
        with self._lock:
            model = self._models.get(key)
            if request.method == "PUT" or model is None:
                model = self._models[key] = OutageModel(
                    duration=duration, capacity=capacity, start=now, retry_after=retry_after)
                trim(self._models)
                if request.method == "PUT":
                    return json_response(201, {"key": key, "duration": duration, "capacity": capacity,
                                               "retry_after": retry_after})
            ok = model.admit(now)
            reason = "" if ok else model.reason(now)
            value = None if ok else model.retry_after_value(now)
        if ok:
            return json_response(200, {"ok": True, "key": key})
        if value is None:
            # By default no Retry-After: the clients' backoff schedules decide.
            return problem(503, reason, instance=request.path, key=key)
        return problem(503, reason, instance=request.path, headers=[("retry-after", value)],
                       key=key, retry_after=value)

