"""Origin authentication (401): HTTP Basic and Bearer tokens, with their challenges.

These are the *origin's* credentials, answered with ``Authorization``; compare a
proxy's 407/``Proxy-Authorization`` (the gateway) and a network's 511 (a portal).

Routes (mounted on the origin; every 401 carries the challenge RFC 9110 section
11.6.1 requires, and every auth response is ``Cache-Control: no-store``):

``GET /basic-auth/{user}/{password}``
    HTTP Basic (RFC 7617). 200 and ``{"authenticated": true, "user": ...}`` when
    ``Authorization: Basic base64(user:password)`` matches the path; otherwise
    401 with ``WWW-Authenticate: Basic realm="labkit", charset="UTF-8"``.

``POST /bearer/token``
    Issues a token pair (a stand-in for an OAuth 2.0 token endpoint, RFC 6749
    section 5.1): 200 ``{"access_token", "token_type": "Bearer", "expires_in",
    "refresh_token"}``. ``?expires_in=N`` (seconds, 0-86400) sets the lifetime,
    default 60. Tokens expire on the origin's injected clock, so a VirtualClock's
    ``advance()`` expires them without waiting. Tokens are deterministic
    (``access-N`` / ``refresh-N``) so notebook output is reproducible.

``GET /bearer`` (any method)
    The protected resource (RFC 6750). With a live ``Authorization: Bearer
    <access_token>``: 200 ``{"authenticated": true, "token": ..., "expires_in": ...}``.
    Without credentials: 401 ``WWW-Authenticate: Bearer realm="labkit"`` (no error
    code, RFC 6750 section 3.1). With an unknown or expired token: 401
    ``WWW-Authenticate: Bearer realm="labkit", error="invalid_token",
    error_description="..."``. The fixed token ``expired`` (``EXPIRED_TOKEN``) is
    always expired, for a one-request demo. A malformed header: 400
    ``error="invalid_request"``.

``POST /bearer/refresh``
    Exchanges a refresh token for a new access token (RFC 6749 section 6). The
    refresh token is sent as a form field or JSON member ``refresh_token`` (or as
    ``Authorization: Bearer <refresh_token>``). 200 with a new pair (the refresh
    token is kept, not rotated, so a retry of the refresh itself is harmless);
    400 ``{"error": "invalid_grant"}`` for an unknown refresh token (RFC 6749
    section 5.2). Refresh tokens do not expire.

Intended client pattern ("refresh credentials once on 401"): on a 401
whose challenge has ``error="invalid_token"``, POST the refresh token to
``/bearer/refresh`` once, replace ``Authorization`` with the new
``access_token`` and resend; a second 401 is final. A 401 *without* an error
code means no credentials were sent: refreshing will not help.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qsl, unquote

from ..core import Clock, RealClock, Request, Response, basic_credentials, json_response, media_type, problem

__all__ = ["BasicAuthRoute", "BearerRoute", "EXPIRED_TOKEN", "REALM"]

REALM = "labkit"
EXPIRED_TOKEN = "expired"
DEFAULT_TTL = 60
MAX_TTL = 86400



def _json(status: int, doc: dict, *headers: tuple[str, str]) -> Response:
    return json_response(status, doc, headers=list(headers), indent=1)


def _challenge_401(challenge: str, detail: str) -> Response:
    # problem() already sends no-store; the challenge is what makes it a 401 (RFC 9110 section 15.5.2).
    return problem(401, detail, headers=[("www-authenticate", challenge)])


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class BasicAuthRoute:
    """``/basic-auth/{user}/{password}``: HTTP Basic against the path's credentials."""

    challenge = f'Basic realm="{REALM}", charset="UTF-8"'  # RFC 7617 section 2.1

    def __call__(self, request: Request) -> Response:
        parts = request.path.split("/")
        if len(parts) != 4 or not parts[2] or not parts[3]:
            return problem(
                404,
                "Use /basic-auth/{user}/{password}: the path names the credentials "
                "the server will accept.",
                instance=request.path,
            )
        user, password = unquote(parts[2]), unquote(parts[3])
        given = request.header("authorization")
        if given is None:
            return _challenge_401(self.challenge, "This resource needs HTTP Basic credentials.")
        scheme, _, token = given.partition(" ")
        if scheme.lower() != "basic":
            return _challenge_401(
                self.challenge, f"The {scheme!r} scheme is not accepted here; use Basic."
            )
        credentials = basic_credentials(given)
        if credentials is None:
            return _challenge_401(
                self.challenge, "The Basic credentials are not base64 of UTF-8 'user:password'."
            )
        if credentials != (user, password):
            return _challenge_401(self.challenge, "Wrong user name or password.")
        return _json(200, {"authenticated": True, "user": user})


class BearerRoute:
    """``/bearer``, ``/bearer/token``, ``/bearer/refresh``: RFC 6750 tokens that expire.

    Thread-safe: token tables are guarded by a lock.
    """

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or RealClock()
        self._lock = threading.Lock()
        self._serial = 0
        self._access: dict[str, float] = {}  # token -> expiry time (clock seconds)
        self._refresh: dict[str, int] = {}  # refresh token -> lifetime it grants

    # -- token issuing ---------------------------------------------------
    def issue(self, *, expires_in: int = DEFAULT_TTL) -> dict:
        """A fresh token pair, as ``POST /bearer/token`` returns it."""
        with self._lock:
            self._serial += 1
            access, refresh = f"access-{self._serial}", f"refresh-{self._serial}"
            self._access[access] = self.clock.time() + expires_in
            self._refresh[refresh] = expires_in
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "refresh_token": refresh,
        }

    def refresh(self, refresh_token: str) -> dict | None:
        """A new access token for ``refresh_token``, or None if it is unknown."""
        with self._lock:
            lifetime = self._refresh.get(refresh_token)
            if lifetime is None:
                return None
            self._serial += 1
            access = f"access-{self._serial}"
            self._access[access] = self.clock.time() + lifetime
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "refresh_token": refresh_token,
        }

    def _remaining(self, token: str) -> float | None:
        with self._lock:
            expiry = self._access.get(token)
        return None if expiry is None else expiry - self.clock.time()

    # -- routing ---------------------------------------------------------
    def __call__(self, request: Request) -> Response:
        sub = request.path[len("/bearer"):]
        if sub in ("", "/"):
            return self._resource(request)
        if sub == "/token":
            return self._post_only(request) or self._token(request)
        if sub == "/refresh":
            return self._post_only(request) or self._refresh_route(request)
        return problem(
            404,
            "Bearer routes: /bearer (protected), POST /bearer/token, POST /bearer/refresh.",
            instance=request.path,
        )

    @staticmethod
    def _post_only(request: Request) -> Response | None:
        if request.method == "POST":
            return None
        # Token endpoints are POST-only (RFC 6749 section 3.2); 405 must list Allow (RFC 9110 section 15.5.6).
        return problem(
            405, f"{request.path} accepts POST only.", headers=[("allow", "POST")]
        )

    def _token(self, request: Request) -> Response:
        raw = request.query_params.get("expires_in", str(DEFAULT_TTL))
        if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_TTL:
            return problem(
                400, f"expires_in must be whole seconds from 0 to {MAX_TTL}, not {raw!r}."
            )
        return _json(200, self.issue(expires_in=int(raw)))

    def _refresh_route(self, request: Request) -> Response:
        token = _refresh_token_of(request)
        if not token:
            return _json(
                400,
                {"error": "invalid_request",
                 "error_description": "Send refresh_token as a form field or JSON member."},
            )
        pair = self.refresh(token)
        if pair is None:
            # RFC 6749 section 5.2: an unknown refresh token is invalid_grant (400, not 401).
            return _json(
                400, {"error": "invalid_grant", "error_description": "Unknown refresh token."}
            )
        return _json(200, pair)

    def _resource(self, request: Request) -> Response:
        given = request.header("authorization")
        if given is None:
            # No credentials at all: challenge without an error code (RFC 6750 section 3.1).
            return _challenge_401(
                f'Bearer realm="{REALM}"', "This resource needs a Bearer token; POST /bearer/token."
            )
        scheme, _, token = given.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            challenge = (
                f'Bearer realm="{REALM}", error="invalid_request", '
                'error_description="Use Authorization: Bearer <token>"'
            )
            return problem(400, "Malformed Authorization header.", headers=[("www-authenticate", challenge)])
        remaining = None if token == EXPIRED_TOKEN else self._remaining(token)
        if remaining is None or remaining <= 0:
            why = "The access token expired" if token == EXPIRED_TOKEN or remaining is not None \
                else "The access token is unknown"
            challenge = (
                f'Bearer realm="{REALM}", error="invalid_token", error_description={_quote(why)}'
            )
            return _challenge_401(challenge, why + "; refresh it at POST /bearer/refresh.")
        return _json(200, {"authenticated": True, "token": token, "expires_in": int(remaining)})


def _refresh_token_of(request: Request) -> str | None:
    ctype = media_type(request.header("content-type"))
    body = request.body.decode("utf-8", "replace")
    if ctype == "application/json":
        try:
            doc = json.loads(body or "{}")
        except ValueError:
            return None
        value = doc.get("refresh_token") if isinstance(doc, dict) else None
        return value if isinstance(value, str) else None
    if body:
        value = dict(parse_qsl(body, keep_blank_values=True)).get("refresh_token")
        if value:
            return value
    scheme, _, token = (request.header("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
