"""CORS on the portal's refusals: what lets a web app read the 511 (``Gateway(cors=True)``).

A script on one origin that calls an API on another reads the answer only if
that answer says it may be shared. The Fetch Standard
(https://fetch.spec.whatwg.org/), "CORS protocol": ``Access-Control-Allow-Origin``
"Indicates whether the response can be shared, via returning the literal
value of the `Origin` request header (which can be `null`) or `*` in a
response." Its "CORS check" fails when that header is missing ("If origin is
null, then return failure"), and ``fetch()`` then rejects: "If response is a
network error, then reject p with a TypeError". So a portal's 511 without the
header reaches an app's script as ``TypeError: Failed to fetch``, never as 511.

A request with a custom header (``X-Request-Id``) or a JSON body is asked
about first, with an ``OPTIONS`` preflight; "CORS-preflight fetch" goes on
only "If a CORS check for request and response returns success and
response's status is an ok status" (200 to 299), and "Otherwise, return a
network error". A 511 or a 302 to the preflight fails it, CORS headers or
not: the portal must answer the preflight itself with a 2xx.

What this module adds, and only when the gateway's ``cors`` is on:

* to every refusal of a request for a host behind the gateway:
  ``Access-Control-Allow-Origin: *`` (no credentials: "If request's
  credentials mode is not "include" and origin is `*`, then return success";
  a fetch with ``credentials: "include"`` still fails, as it should: the
  portal grants nothing that needs the user's cookies);
* to a CORS preflight it refuses: ``204`` with that header,
  ``Access-Control-Allow-Methods`` and ``Access-Control-Allow-Headers``
  echoing what the preflight asked for, and ``Access-Control-Max-Age: 0``,
  so the portal's grant is not kept past this answer (the Fetch Standard's
  default is 5 seconds) and after signing in the API's own preflight decides.

Never to the portal's own pages: a page on another site must not read the
login form or the Captive Portal API document. Never to a 407 (``proxy-auth``
mode): a browser handles a proxy's challenge itself, "Prompt the end user as
appropriate" (Fetch, "HTTP-network-or-cache fetch"), and the CORS check "is
not to be applied to responses whose status is 304 or 407". Never to a
CONNECT: a script never sees a tunnel's answer.
"""

from __future__ import annotations

import re

from ..core import Request, Response

__all__ = ["CORS_ALLOW_ORIGIN", "is_preflight", "preflight_grant", "share"]

CORS_ALLOW_ORIGIN = "*"

# RFC 9110 section 5.6.2: token = 1*tchar. What a preflight may ask for is echoed
# only if it is a token (a method) or a list of tokens (header names).
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def is_preflight(request: Request) -> bool:
    """A CORS-preflight request: ``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``."""
    return (
        request.method == "OPTIONS"
        and request.header("origin") is not None
        and request.header("access-control-request-method") is not None
    )


def share(response: Response) -> Response:
    """``response`` marked as readable by a script on any origin (without credentials)."""
    response.set_header("access-control-allow-origin", CORS_ALLOW_ORIGIN)
    return response


def preflight_grant(request: Request) -> Response:
    """The portal's 204 to a CORS preflight: the method and headers asked for, for this answer only."""
    method = (request.header("access-control-request-method") or "").strip()
    asked = (request.header("access-control-request-headers") or "").split(",")
    names = [name.strip().lower() for name in asked if _TOKEN.fullmatch(name.strip())]
    headers = [("access-control-allow-origin", CORS_ALLOW_ORIGIN), ("access-control-max-age", "0"),
               ("cache-control", "no-store")]
    if _TOKEN.fullmatch(method):
        headers.append(("access-control-allow-methods", method))
    if names:
        headers.append(("access-control-allow-headers", ", ".join(names)))
    return Response(204, headers, b"")
