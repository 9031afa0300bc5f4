"""``/orders``: what a blind retry of a POST does, and how ``Idempotency-Key`` fixes it.

POST is not idempotent (RFC 9110 section 9.2.2): if the reply is lost the client
cannot tell whether the order was placed. ``POST /orders?lose=N`` commits the
order and then loses the reply (the connection drops, or with ``lose_as=timeout``
nothing comes back) for the key's first N orders, so a blind retry places a
duplicate. With an ``Idempotency-Key`` header (IETF httpapi draft "The
Idempotency-Key HTTP Header Field") a retry gets the first reply again instead
(``Idempotent-Replayed: true``); the same key with a different body is
refused with 422, as the draft says.

``GET /orders?key=K`` lists K's orders (duplicates show up there);
``DELETE /orders?key=K`` clears them and the lost-reply counter.
"""

from __future__ import annotations

import hashlib
import json
import threading

from ..core import Disconnect, Request, Response, Stall, json_response, problem
from ._keyed import BadParam, choice, client_key, number, trim

__all__ = ["OrdersRoute"]

MAX_IDEMPOTENCY_KEY = 255


class _Book:
    __slots__ = ("orders", "replies", "lost")

    def __init__(self) -> None:
        self.orders: list[dict] = []
        # Idempotency-Key -> (body fingerprint, stored reply)
        self.replies: dict[str, tuple[str, int, bytes]] = {}
        self.lost = 0


class OrdersRoute:
    def __init__(self) -> None:
        self._books: dict[str, _Book] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        try:
            key = client_key(request)
            lose = int(number(request, "lose", 0, lo=0, hi=1000))
            lose_as = choice(request, "lose_as", ("disconnect", "timeout"))
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
        return self._post(request, key, lose, lose_as)

    def _post(self, request: Request, key: str, lose: int, lose_as: str) -> Response:
        try:
            item = json.loads(request.body or b"{}")
        except ValueError:
            return problem(400, "The order must be a JSON document.", instance=request.path)
        idem = request.header("idempotency-key")
        if idem is not None and not (0 < len(idem) <= MAX_IDEMPOTENCY_KEY and idem.isprintable()):
            return problem(400, f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} printable "
                           "characters.", instance=request.path)
        fingerprint = hashlib.sha256(request.body).hexdigest()
        with self._lock:
            book = self._books.setdefault(key, _Book())
            trim(self._books)
            if idem is not None and idem in book.replies:
                seen, status, body = book.replies[idem]
                if seen != fingerprint:
                    return problem(422, "This Idempotency-Key was used with a different "
                                   "request body.", instance=request.path)
                reply = Response(status, [("content-type", "application/json"),
                                          ("idempotent-replayed", "true")], body)
            else:
                order = {"id": self._next_id, "item": item, "idempotency_key": idem}
                self._next_id += 1
                book.orders.append(order)
                body = json.dumps(order).encode() + b"\n"
                if idem is not None:
                    book.replies[idem] = (fingerprint, 201, body)
                reply = Response(201, [("content-type", "application/json"),
                                       ("location", f"/orders/{order['id']}")], body)
            # The first `lose` replies to this key go missing, replays included;
            # the order itself stays committed.
            lost = book.lost < lose
            if lost:
                book.lost += 1
        if lost:
            raise Stall(1.0) if lose_as == "timeout" else Disconnect()
        return reply
