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
:class:`PortalSite`. ``Gateway(cors=True)`` (off by default) lets a web app's
script read the portal's refusals, which a browser otherwise hides from it
(the Fetch Standard's CORS check): see :class:`Gateway`.
"""

from ._captive_api import CAPTIVE_JSON, captive_document
from ._gateway import HTTPS_BEHAVIOURS, PORTAL_HOST, Gateway
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
    ANDROID_HTTPS_PROBE_URL,
    ANDROID_PROBE_URL,
    APPLE_PROBE_URL,
    CHROMIUM_PROBE_URL,
    DETECTOR_RULES,
    DETECTORS,
    FIREFOX_PROBE_URL,
    FIREFOX_SUCCESS_URL,
    NETWORKMANAGER_PROBE_URL,
    WINDOWS_LEGACY_PROBE_URL,
    WINDOWS_PROBE_URL,
    DetectorRule,
    ProbeResult,
    ProbeRoute,
    android_validation,
    android_verdict,
    apple_verdict,
    chromium_verdict,
    firefox_verdict,
    networkmanager_verdict,
    run_probes,
    windows_verdict,
)
from ._site import PortalSite

__all__ = [
    "ANDROID_HTTPS_PROBE_URL",
    "ANDROID_PROBE_URL",
    "APPLE_PROBE_URL",
    "CAPTIVE_JSON",
    "CHROMIUM_PROBE_URL",
    "DEFAULT_USERS",
    "DETECTORS",
    "DETECTOR_RULES",
    "DetectorRule",
    "DeviceState",
    "FIREFOX_PROBE_URL",
    "FIREFOX_SUCCESS_URL",
    "Gateway",
    "HTTPS_BEHAVIOURS",
    "InvalidCredentials",
    "LoginResult",
    "MODES",
    "NETWORKMANAGER_PROBE_URL",
    "PORTAL_HOST",
    "Portal",
    "PortalMode",
    "PortalSite",
    "ProbeResult",
    "ProbeRoute",
    "Session",
    "TooManyAttempts",
    "WINDOWS_LEGACY_PROBE_URL",
    "WINDOWS_PROBE_URL",
    "android_validation",
    "android_verdict",
    "apple_verdict",
    "captive_document",
    "chromium_verdict",
    "firefox_verdict",
    "networkmanager_verdict",
    "run_probes",
    "submit_login",
    "submit_logout",
    "windows_verdict",
]
