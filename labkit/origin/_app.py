"""The origin server: a router from the first path segment to a route.

Routes are plain callables ``(Request) -> Response``. Each concept mounts its
routes here (status codes now; auth and retry endpoints beside it), so the
origin stays one table a newcomer can read top to bottom.
"""

from __future__ import annotations

import os
from itertools import chain, count


from ..core import (
    Clock,
    ORIGIN_NAME,
    Handler,
    RealClock,
    Request,
    Response,
    http_date,
    json_response,
    problem,
)
from ._auth import BasicAuthRoute, BearerRoute
from ._contention import ContentionRoute
from ._flaky import FlakyRoute
from ._orders import OrdersRoute
from ._outage import OutageRoute
from ._probes import ProbeRoute
from ._ratelimit import RateLimitRoute
from ._status import StatusRoute
from ._unavailable import UnavailableRoute

__all__ = ["Origin"]

# Generous for people, small enough that a flood is refused rather than buffered.
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 1024 * 1024


class Origin:
    """The simulated origin server (any host name the client asks for).

    Thread-safe as long as each route is: the same origin may answer the
    kernel's in-process clients and the loopback server's thread at once.
    """

    server_name = ORIGIN_NAME

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or RealClock()
        self._routes: dict[str, tuple[Handler, str]] = {}
        self.mount("status", StatusRoute(), "/status/{code}: any final status 200-599, any method")
        self.mount("basic-auth", BasicAuthRoute(), "/basic-auth/{user}/{password}: HTTP Basic, 401 with a challenge")
        self.mount("bearer", BearerRoute(clock=self.clock), "/bearer (+ POST /bearer/token, /bearer/refresh): RFC 6750 tokens")
        self.mount("flaky", FlakyRoute(), "/flaky?fail=N&mode=status|disconnect|timeout: fails N times per key, then 200")
        self.mount("unavailable", UnavailableRoute(self.clock), "/unavailable?retry_after=S&form=seconds|date: 503 + Retry-After until then")
        self.mount("ratelimit", RateLimitRoute(self.clock), "/ratelimit?rate=R&burst=B: token bucket per key, 429 + Retry-After")
        self.mount("outage", OutageRoute(self.clock), "/outage?duration=S&capacity=C: 503 for S s, then C requests/s (+ /outage/stats)")
        self.mount("contention", ContentionRoute(self.clock), "/contention: one record, GET its ETag, PUT with If-Match (412 on conflict; + /contention/stats)")
        self.mount("orders", OrdersRoute(self.clock), "POST/GET/DELETE /orders?lose=N&processing=S: lost replies; Idempotency-Key makes retries safe (409 while processing)")
        self.mount("generate_204", ProbeRoute(), "/generate_204: an Android-style connectivity probe (204 when online)")
        self.mount("hotspot-detect.html", ProbeRoute(), "/hotspot-detect.html: an Apple-style probe (\"Success\" when online)")
        self.mount("connecttest.txt", ProbeRoute(), "/connecttest.txt: Windows' probe (\"Microsoft Connect Test\")")
        self.mount("ncsi.txt", ProbeRoute(), "/ncsi.txt: the probe of Windows 8.1 and earlier (\"Microsoft NCSI\")")
        self.mount("canonical.html", ProbeRoute(), "/canonical.html: Firefox's probe (its canonical page when online)")
        self.mount("success.txt", ProbeRoute(), "/success.txt: Firefox's reachability check (\"success\")")
        self.mount("check_network_status.txt", ProbeRoute(),
                   "/check_network_status.txt: NetworkManager's probe (\"NetworkManager is online\")")

    def mount(self, segment: str, route: Handler, summary: str) -> None:
        """Serve ``/{segment}`` and everything below it with ``route``."""
        self._routes[segment] = (route, summary)

    @property
    def routes(self) -> dict[str, str]:
        """Mounted path prefixes and what each does."""
        return {f"/{seg}": summary for seg, (_, summary) in self._routes.items()}

    def __call__(self, request: Request) -> Response:
        size, given = _header_facts(tuple(request.headers))
        request.id = rid = given or f"{_ID_PREFIX}{next(_ids) & 0xFFFFFFFF:08x}"
        if size > MAX_HEADER_BYTES or len(request.body) > MAX_BODY_BYTES:
            response = _too_large(size)
        else:
            segment = request.path[1:].split("/", 1)[0]
            entry = self._routes.get(segment)
            if entry is not None:
                response = entry[0](request)
            elif request.path == "/":
                response = self._index()
            else:
                response = problem(
                    404,
                    f"No route for {request.path!r}. Try one of: "
                    + ", ".join(sorted(self.routes)) + ".",
                    instance=request.path,
                )
        response.headers += (
            ("x-request-id", rid),
            # Who generated this response (RFC 9110 section 10.2.4): the Inspector's
            # attribution reads it beside Via.
            ("server", self.server_name),
            # An origin server with a clock MUST send Date (RFC 9110 section 6.6.1).
            ("date", http_date(self.clock.time())),
        )
        return response

    def _index(self) -> Response:
        doc = {"server": self.server_name, "routes": self.routes}
        return json_response(200, doc, indent=2, no_store=False)


def _header_facts(fields: tuple[tuple[str, str], ...]) -> tuple[int, str | None]:
    """The size of a request's header block and the caller's own request id, if usable.

    Memoised per header block, as a load test or a retry loop repeats one; only
    blocks within :data:`MAX_HEADER_BYTES` are kept, so the memo stays small.
    """
    try:
        facts = _FACTS.get(fields)
        keep = True
    except TypeError:  # pairs that are not tuples: measured, never kept
        facts, keep = None, False
    if facts is not None:
        return facts
    # ': ' and CRLF add 4 bytes a field; map/chain keep this off the Python loop.
    size = sum(map(len, chain.from_iterable(fields))) + 4 * len(fields)
    given = None
    for name, value in fields:
        if name == "x-request-id":
            # Keep a caller's id so a learner can correlate across hops; bound it
            # so it cannot be used to smuggle text into logs.
            if value and len(value) <= 64 and value.isascii() and value.isprintable():
                given = value
            break
    facts = size, given
    if keep and size <= MAX_HEADER_BYTES:
        if len(_FACTS) >= _MAX_FACTS:
            _FACTS.clear()  # bounded: any client may send any headers
        _FACTS[fields] = facts
    return facts


_FACTS: dict[tuple[tuple[str, str], ...], tuple[int, str | None]] = {}
_MAX_FACTS = 256

# A generated id: 16 hex digits, unique in this process (the counter) and across
# processes (the random prefix). An id correlates, it is not a secret, so it need
# not cost a call to the OS's random source per response.
_ID_PREFIX = os.urandom(4).hex()
_ids = count(int.from_bytes(os.urandom(4), "big"))


def _too_large(size: int) -> Response:
    if size > MAX_HEADER_BYTES:
        return problem(
            431,
            f"The request's header fields total {size} bytes; this server accepts "
            f"at most {MAX_HEADER_BYTES} (RFC 6585 section 5).",
        )
    return problem(
        413,
        f"The request content is over {MAX_BODY_BYTES} bytes "
        "(RFC 9110 section 15.5.14).",
    )
