"""The probe hosts' side of connectivity checks: what "the internet" answers.

Android-style ``/generate_204`` answers 204 with no content; Apple-style
``/hotspot-detect.html`` answers a page saying "Success". How a phone reads
those answers through a captive network lives with the gateway
(:mod:`labkit.gateway._probes`).
"""

from __future__ import annotations

from ..core import Request, Response

__all__ = ["APPLE_SUCCESS", "ProbeRoute"]

APPLE_SUCCESS = b"<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"


class ProbeRoute:
    """The probe hosts' answers (served by the origin, i.e. "the internet")."""

    def __call__(self, request: Request) -> Response:
        if request.path == "/generate_204":
            return Response(204, [("cache-control", "no-cache, no-store")])
        if request.path == "/hotspot-detect.html":
            return Response(
                200,
                [("content-type", "text/html"), ("cache-control", "no-cache, no-store")],
                APPLE_SUCCESS,
            )
        return Response(404, [("content-type", "text/plain")], b"not a probe URL\n")
