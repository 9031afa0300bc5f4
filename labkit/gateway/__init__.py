"""The network between the client and the origin: a captive-portal gateway.

``Gateway(upstream=origin)`` is one ``(Request) -> Response`` handler, used
in-process (wrapped by :class:`~labkit.transport.InProcessTransport`) and on
loopback as a real HTTP proxy (:class:`~labkit.transport.LoopbackServer`).
How it treats a device that has not signed in is its mode: one row of
:data:`MODES`, a :class:`PortalMode`.

The simulated venue's test credentials: user ``guest``, password ``letmein``
(:data:`DEFAULT_USERS`). The portal lives at ``http://portal.labkit.test/``
(:data:`PORTAL_HOST`): ``/login`` (form), ``/logout`` and ``/extend`` (POST),
``/api/captive`` (RFC 8908), ``/venue``. Like a real portal it refuses
state changes posted from another site's pages (403), locks a device's
sign-in for a while after repeated wrong passwords (429 with
``Retry-After``), and cannot be framed by another site: see
:class:`PortalSite`.
"""

from ._captive_api import CAPTIVE_JSON, captive_document
from ._gateway import PORTAL_HOST, Gateway
from ._login import LoginResult, submit_login, submit_logout
from ._modes import MODES, PortalMode
from ._portal import (
    DEFAULT_USERS,
    DeviceState,
    InvalidCredentials,
    Portal,
    Session,
    TooManyAttempts,
)
from ._probes import (
    ANDROID_PROBE_URL,
    APPLE_PROBE_URL,
    ProbeResult,
    ProbeRoute,
    android_verdict,
    apple_verdict,
    run_probes,
)
from ._site import PortalSite

__all__ = [
    "ANDROID_PROBE_URL",
    "APPLE_PROBE_URL",
    "CAPTIVE_JSON",
    "DEFAULT_USERS",
    "DeviceState",
    "Gateway",
    "InvalidCredentials",
    "LoginResult",
    "MODES",
    "PORTAL_HOST",
    "Portal",
    "PortalMode",
    "PortalSite",
    "ProbeResult",
    "ProbeRoute",
    "Session",
    "TooManyAttempts",
    "android_verdict",
    "apple_verdict",
    "captive_document",
    "run_probes",
    "submit_login",
    "submit_logout",
]
