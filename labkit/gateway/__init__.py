"""The network between the client and the origin: a captive-portal gateway.

``Gateway(upstream=origin)`` is one ``(Request) -> Response`` handler, used
in-process (wrapped by :class:`~labkit.transport.InProcessTransport`) and on
loopback as a real HTTP proxy (:class:`~labkit.transport.LoopbackServer`).

The simulated venue's test credentials: user ``guest``, password ``letmein``
(:data:`DEFAULT_USERS`). The portal lives at ``http://portal.labkit.test/``
(:data:`PORTAL_HOST`): ``/login`` (form), ``/logout`` and ``/extend`` (POST),
``/api/captive`` (RFC 8908), ``/venue``.
"""

from ._captive_api import CAPTIVE_JSON, captive_document
from ._gateway import MODES, PORTAL_HOST, Gateway
from ._http import ProxyHttpToolsProtocol
from ._loopback import proxy_transport
from ._login import LoginResult, submit_login, submit_logout
from ._portal import DEFAULT_USERS, DeviceState, InvalidCredentials, Portal, Session
from ._probes import (
    ANDROID_PROBE_URL,
    APPLE_PROBE_URL,
    ProbeResult,
    ProbeRoute,
    android_verdict,
    apple_verdict,
    run_probes,
)

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
    "ProbeResult",
    "ProbeRoute",
    "ProxyHttpToolsProtocol",
    "Session",
    "android_verdict",
    "apple_verdict",
    "captive_document",
    "proxy_transport",
    "run_probes",
    "submit_login",
    "submit_logout",
]
