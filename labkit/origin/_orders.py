"""``/orders``: what a blind retry of a POST does, and how ``Idempotency-Key`` fixes it.

POST is not idempotent (RFC 9110 section 9.2.2): if the reply is lost the client
cannot tell whether the order was placed. ``POST /orders?lose=N`` commits the
order and then loses the reply (the connection drops, or with ``lose_as=timeout``
nothing comes back) for the key's first N orders, so a blind retry places a
duplicate.

With an ``Idempotency-Key`` header (IETF httpapi draft "The Idempotency-Key
HTTP Header Field", draft-ietf-httpapi-idempotency-key-header) a retry gets the
first reply again instead. The draft makes the field a Structured Field String,
``Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"``; a bare token is
accepted too, leniently, as the same key. Following the draft's error handling:
the same key with a different body is refused with 422, and a retry "while the
original request is still being processed" gets 409. A replayed reply carries
``Idempotent-Replayed: true``, which the draft does not define: it is Stripe's
API practice ("look for the header ``Idempotent-Replayed: true``", Stripe's
"Advanced error handling" guide).

``processing=S`` makes every new order take S seconds on the origin's clock,
longer than any client waits: the first request gets no reply (as with
``lose_as=timeout``), the order completes S seconds after it arrived, and until
then a retry with the same key is answered 409.

``GET /orders?key=K`` lists K's orders (duplicates show up there);
``DELETE /orders?key=K`` clears them and the lost-reply counter.
"""

from __future__ import annotations

import hashlib
import json
import threading

from ..core import (
    Clock,
    Disconnect,
    RealClock,
    Request,
    Response,
    Stall,
    json_response,
    parse_sf_string,
    problem,
)
from ._keyed import BadParam, choice, client_key, number, trim

__all__ = ["OrdersRoute"]

MAX_IDEMPOTENCY_KEY = 255
MAX_PROCESSING = 3600.0


class BadKey(ValueError):
    """An Idempotency-Key value the route cannot use; becomes a 400 problem."""


def idempotency_key(value: str | None) -> str | None:
    """The key an ``Idempotency-Key`` field carries, or None when there is none.

    The draft's syntax is a Structured Field String (``"..."``); a bare value
    is taken as it stands, so ``"k1"`` and ``k1`` name the same key.
    """
    if value is None:
        return None
    text = value.strip(" \t")
    if text.startswith('"'):
        key = parse_sf_string(text)
        if key is None:
            raise BadKey("Idempotency-Key is not a valid Structured Field String "
                         '(RFC 8941 section 3.3.3), e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324".')
    else:
        key = text
    if not (0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isprintable()):
        raise BadKey(f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} printable characters.")
    return key


class _Book:
    __slots__ = ("orders", "replies", "lost")

    def __init__(self) -> None:
        self.orders: list[dict] = []
        # Idempotency-Key -> (body fingerprint, status, stored reply, clock time it is ready)
        self.replies: dict[str, tuple[str, int, bytes, float]] = {}
        self.lost = 0


class OrdersRoute:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or RealClock()
        self._books: dict[str, _Book] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        try:
            key = client_key(request)
            lose = int(number(request, "lose", 0, lo=0, hi=1000))
            lose_as = choice(request, "lose_as", ("disconnect", "timeout"))
            processing = number(request, "processing", 0.0, lo=0.0, hi=MAX_PROCESSING, kind=float)
        except BadParam as exc:
            return exc.response(request)
        if request.path.rstrip("/") != "/orders":
            return problem(404, "Orders live at /orders only.", instance=request.path)
        method = request.method
        if method in ("GET", "HEAD"):
            with self._lock:
                orders = list(self._books.get(key, _Book()).orders)
            return json_response(200, {"key": key, "count": len(orders), "orders": orders})
        if method == "DELETE":
            with self._lock:
                self._books.pop(key, None)
            return Response(204)
        if method != "POST":
            return problem(405, f"{method} is not supported here; use GET, POST or DELETE.",
                           instance=request.path, headers=[("allow", "GET, HEAD, POST, DELETE")])
        return self._post(request, key, lose, lose_as, processing)

    def _post(self, request: Request, key: str, lose: int, lose_as: str,
              processing: float) -> Response:
        try:
            item = json.loads(request.body or b"{}")
        except ValueError:
            return problem(400, "The order must be a JSON document.", instance=request.path)
        try:
            idem = idempotency_key(request.header("idempotency-key"))
        except BadKey as exc:
            return problem(400, str(exc), instance=request.path)
        fingerprint = hashlib.sha256(request.body).hexdigest()
        now = self.clock.time()
        with self._lock:
            book = self._books.setdefault(key, _Book())
            trim(self._books)
            if idem is not None and idem in book.replies:
                seen, status, body, ready = book.replies[idem]
                if seen != fingerprint:
                    return problem(422, "This Idempotency-Key was used with a different "
                                   "request body.", instance=request.path)
                if now < ready:
                    # The draft: "If the request is retried, while the original request
                    # is still being processed, the resource SHOULD reply with an HTTP
                    # 409 status code with body containing problem description."
                    return problem(409, "A request is outstanding for this Idempotency-Key: "
                                   "the order is still being processed. Retry later with the "
                                   "same key.", instance=request.path)
                reply = Response(status, [("content-type", "application/json"),
                                          ("idempotent-replayed", "true")], body)
                slow = False
            else:
                order = {"id": self._next_id, "item": item, "idempotency_key": idem}
                self._next_id += 1
                book.orders.append(order)
                body = json.dumps(order).encode() + b"\n"
                if idem is not None:
                    book.replies[idem] = (fingerprint, 201, body, now + processing)
                reply = Response(201, [("content-type", "application/json"),
                                       ("location", f"/orders/{order['id']}")], body)
                slow = processing > 0
            # The first `lose` replies to this key go missing, replays included;
            # the order itself stays committed.
            lost = book.lost < lose
            if lost:
                book.lost += 1
        if slow:
            raise Stall(1.0)  # still processing when the client gives up
        if lost:
            raise Stall(1.0) if lose_as == "timeout" else Disconnect()
        return reply
