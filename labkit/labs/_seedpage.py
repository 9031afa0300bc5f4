"""The seed page's misconfiguration, as runnable handlers: "511 for every unhandled exception".

The public page this course improves on shows error middleware for Express,
FastAPI, Spring and Go that answers *every* unhandled exception with 511
Network Authentication Required. ``seed_page_app`` reproduces the FastAPI
snippet's behaviour with labkit's plain handlers, so the Inspector can be
pointed at it; ``inspect_handler`` is the harness the notebook's exercise uses
to check a learner's fix.
"""

from __future__ import annotations

import json
from typing import Callable

import httpx

from ..core import Handler, Request, Response
from ..inspector import Capture, Exchange, inspect
from ..transport import InProcessTransport

__all__ = ["error_middleware", "inspect_handler", "orders_app", "problems_of", "seed_page_app",
           "seed_page_error_handler"]

ErrorHandler = Callable[[Request, Exception], Response]


def orders_app(request: Request) -> Response:
    """A small API with a bug: every order lookup divides by zero."""
    if request.path.startswith("/orders/"):
        order_id = request.path.rsplit("/", 1)[-1]
        per_item = 100 // 0  # the bug: an unhandled exception  # noqa: F841
        return Response(200, [("content-type", "application/json")], json.dumps({"id": order_id}).encode())
    return Response(404, [("content-type", "application/json"), ("cache-control", "no-store")],
                    b'{"error": "not found"}')


def seed_page_error_handler(request: Request, exc: Exception) -> Response:
    """What the seed page's FastAPI snippet returns for any exception (do not copy this)."""
    body = {"error": "Network Authentication Required", "request_id": request.id or "req-1"}
    # uvicorn names itself in Server, as a real FastAPI deployment would.
    return Response(511, [("content-type", "application/json"), ("server", "uvicorn")],
                    json.dumps(body).encode())


def error_middleware(app: Handler, on_error: ErrorHandler) -> Handler:
    """Wrap ``app`` so an unhandled exception becomes ``on_error(request, exc)``."""
    def handler(request: Request) -> Response:
        try:
            return app(request)
        except Exception as exc:  # the point of error middleware
            return on_error(request, exc)

    handler.__name__ = f"error_middleware({getattr(on_error, '__name__', 'on_error')})"
    return handler


seed_page_app: Handler = error_middleware(orders_app, seed_page_error_handler)


def inspect_handler(
    handler: Handler, *, method: str = "GET", url: str = "http://api.test/orders/42",
    headers: dict[str, str] | None = None,
) -> Exchange:
    """Send one request to ``handler`` in-process and return the captured exchange.

    ``handler`` may be a full ``(Request) -> Response`` handler or an error handler
    ``(Request, Exception) -> Response``, which is then mounted behind
    :func:`error_middleware` in front of the buggy :func:`orders_app`.
    """
    import inspect as _pyinspect

    try:
        params = len(_pyinspect.signature(handler).parameters)
    except (TypeError, ValueError):
        params = 1
    app = error_middleware(orders_app, handler) if params == 2 else handler
    cap = Capture()
    with httpx.Client(transport=cap.transport(InProcessTransport(app))) as client:
        client.request(method, url, headers=headers)
    return cap[-1]


def problems_of(exchange: Exchange, levels=("error", "warning")) -> list[str]:
    """The findings at ``levels`` as one line each (for assertion messages)."""
    return [str(f) for f in inspect(exchange) if f.level in levels]
