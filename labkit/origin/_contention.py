"""``/contention``: one record that many clients update with optimistic concurrency.

:class:`ContentionModel` is the server of the AWS Architecture Blog's backoff
simulation ("Exponential Backoff And Jitter", Marc Brooker, 2015; its code is
``aws-samples/aws-arch-backoff-simulator``, ``src/backoff_simulator.py``): a
single row with a version number. A client reads the version, then writes
with it; the write succeeds only if nobody else's write succeeded in between
(the version still matches), otherwise it is a conflict and the client backs
off and starts again with a fresh read. Only writes count as calls, as in the
article. ``labkit.retry.simulate_herd(Contention())`` calls
this model directly; this route wraps the same model for real HTTP clients,
and a test checks that the two agree call for call.

On the wire it is an HTTP conditional write (RFC 9110 section 13.1.1):
``GET /contention?key=K`` answers the version as an entity tag (``ETag: "N"``);
``PUT /contention?key=K`` with ``If-Match: "N"`` answers 200 and the new ETag,
or **412 Precondition Failed** (RFC 9110 section 15.5.13) when the version
moved on; a PUT without ``If-Match`` gets **428 Precondition Required**
(RFC 6585 section 3), since an unconditional write would defeat the point.
``GET /contention/stats?key=K`` shows the writes per second;
``DELETE /contention?key=K`` forgets K. A key's record starts (version 0,
second 0 of its stats) at its first request.
"""

from __future__ import annotations

import math
import threading

from ..core import Clock, Request, Response, json_response, problem
from ._keyed import BadParam, client_key, forget, trim

__all__ = ["ContentionModel", "ContentionRoute"]


class ContentionModel:
    """One row with a version: :meth:`read` gives the version, :meth:`write`
    succeeds (and bumps it) only with the current version.

    Not locked: the simulation is single-threaded, and the route locks around it.
    """

    __slots__ = ("start", "version", "load", "served")

    def __init__(self, *, start: float = 0.0) -> None:
        self.start = float(start)
        self.version = 0
        self.load: dict[int, int] = {}    # second since start -> writes that arrived
        self.served: dict[int, int] = {}  # second since start -> writes that succeeded

    def read(self, now: float = 0.0) -> int:
        """The current version (reads are free: the article counts writes only)."""
        return self.version

    def write(self, now: float, version: int) -> bool:
        """Record one write arriving at ``now`` made with ``version``; True if it succeeded."""
        second = math.floor(now - self.start)
        load = self.load
        load[second] = load.get(second, 0) + 1
        if version != self.version:
            return False  # conflict: another write won since this client's read
        self.version += 1
        self.served[second] = self.served.get(second, 0) + 1
        return True

    def stats(self) -> dict[str, object]:
        seconds = sorted(self.load)
        calls = sum(self.load.values())
        return {
            "version": self.version,
            "calls": calls,
            "conflicts": calls - sum(self.served.values()),
            "peak_rps": max(self.load.values(), default=0),
            "load": {str(s): self.load[s] for s in seconds},
            "served": {str(s): self.served.get(s, 0) for s in seconds},
        }


def etag(version: int) -> str:
    return f'"{version}"'


def _entity_tags(value: str) -> list[str] | None:
    """``If-Match``'s ``*`` or entity tags (RFC 9110 section 13.1.1), None if malformed."""
    value = value.strip()
    if value == "*":
        return ["*"]
    tags = [t.strip() for t in value.split(",") if t.strip()]
    for tag in tags:
        opaque = tag[2:] if tag.startswith("W/") else tag
        if len(opaque) < 2 or opaque[0] != '"' or opaque[-1] != '"' or '"' in opaque[1:-1]:
            return None
    return tags or None


class ContentionRoute:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._models: dict[str, ContentionModel] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        try:
            key = client_key(request)
        except BadParam as exc:
            return exc.response(request)
        method = request.method
        if method == "DELETE":
            return forget(self._models, self._lock, key)
        if request.path.rstrip("/") == "/contention/stats":
            with self._lock:
                model = self._models.get(key)
                doc = model.stats() if model else None
            if doc is None:
                return problem(404, f"No record for key {key!r} yet.", instance=request.path)
            return json_response(200, doc)
        if method not in ("GET", "HEAD", "PUT"):
            response = problem(405, f"{method} is not supported here: GET, PUT or DELETE.",
                               instance=request.path)
            response.set_header("allow", "GET, HEAD, PUT, DELETE")
            return response
        if method == "PUT":
            if_match = request.header("if-match")
            if if_match is None:
                return problem(428, "Send If-Match with the ETag from a GET: writes are conditional.",
                               instance=request.path)
            tags = _entity_tags(if_match)
            if tags is None:
                return problem(400, f"If-Match {if_match!r} is not '*' or a list of entity tags.",
                               title="Invalid precondition", instance=request.path)
        now = self.clock.time()
        with self._lock:
            model = self._models.get(key)
            existed = model is not None
            if model is None:
                model = self._models[key] = ContentionModel(start=now)
                trim(self._models)
            ok = True
            if method == "PUT":
                # RFC 9110 section 13.1.1: "*" matches a current representation; otherwise
                # a strong comparison (section 8.8.3.2), so a weak tag never matches.
                if tags == ["*"]:
                    wanted = model.version if existed else -1
                else:
                    current = etag(model.version)
                    wanted = model.version if current in tags else -1
                ok = model.write(now, wanted)
            version = model.version
        if not ok:
            response = problem(412, f"Conflict: the record is at version {version}, which If-Match "
                               "does not name; read it again, then retry.", instance=request.path,
                               key=key)
            response.set_header("etag", etag(version))
            return response
        response = json_response(200, {"key": key, "version": version})
        response.set_header("etag", etag(version))
        return response

