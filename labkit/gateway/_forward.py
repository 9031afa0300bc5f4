"""The hop to the origin: what the gateway changes on a request it forwards.

A proxy removes the fields meant for one connection only and adds itself to
``Via``, on the way out and on the way back (RFC 9110 sections 7.6.1 and
7.6.3). The simulated network has no internet behind it, so a tunnel
(CONNECT, RFC 9110 section 9.3.6) is never opened.
"""

from __future__ import annotations

from ..core import VIA_GATEWAY, Handler, Request, Response, problem

__all__ = ["HOP_BY_HOP", "VIA", "forward", "no_tunnel"]

VIA = VIA_GATEWAY

# Hop-by-hop fields are for this connection only and are not forwarded
# (RFC 9110 section 7.6.1); Proxy-Authorization is consumed by the proxy that
# asked for it (RFC 9110 section 11.7.2).
HOP_BY_HOP = frozenset({
    "connection", "proxy-connection", "keep-alive", "te", "trailer",
    "transfer-encoding", "upgrade", "proxy-authorization", "proxy-authenticate",
})


def forward(upstream: Handler, request: Request) -> Response:
    """Send ``request`` on to ``upstream`` as a proxy must, and mark the answer as relayed."""
    # One pass for the common case (the edges lower-case field names); a second
    # only when Connection names further hop-by-hop fields (RFC 9110 section 7.6.1).
    headers = []
    nominated = None
    for pair in request.headers:
        name = pair[0]
        if name in HOP_BY_HOP:
            if name == "connection" and nominated is None:
                nominated = pair[1]
            continue
        headers.append(pair)
    if nominated:
        more = {n.strip().lower() for n in nominated.split(",")}
        headers = [pair for pair in headers if pair[0] not in more]
    headers.append(("via", VIA))  # a proxy MUST add Via (RFC 9110 section 7.6.3)
    response = upstream(Request(
        request.method, request.path, request.query, headers, request.body,
        request.client, request.scheme, request.authority, request.id,
    ))
    for name, via in response.headers:
        # len() first: it turns away nearly every other name without lower().
        if len(name) == 3 and name.lower() == "via" and via:
            response.set_header("via", f"{via}, {VIA}")
            return response
    response.headers.append(("via", VIA))
    return response


def no_tunnel(request: Request) -> Response:
    """The answer to an admitted CONNECT: this lab cannot open the tunnel.

    So over loopback a signed-in device still has no HTTPS. A real Android
    phone on such a network would say so: its HTTPS probe fails while the
    HTTP one gets its 204, which NetworkMonitor reports as partial
    connectivity (``sendHttpAndHttpsParallelWithFallbackProbes``; see
    :func:`labkit.gateway.android_validation`).
    """
    return problem(
        502,
        f"Signed in: a real gateway would now open a tunnel to {request.authority or request.host}, "
        "but this lab has no internet behind the gateway and its origin speaks plain HTTP. "
        "Use http:// URLs.",
    )
