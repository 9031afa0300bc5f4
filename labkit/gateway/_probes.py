"""Connectivity probes: how phones notice a captive portal.

Two halves. The *internet side* (:class:`ProbeRoute`, in
:mod:`labkit.origin._probes`) is what the real probe hosts answer, mounted on
the simulated origin: Android-style
``/generate_204`` answers 204 with no content, Apple-style
``/hotspot-detect.html`` answers a page saying "Success". The *device side*
(:func:`android_verdict`, :func:`apple_verdict`, :func:`run_probes`) reads
what came back through the network, as the phone would.

Android's rule is AOSP's ``CaptivePortalProbeResult``: 204 means validated;
any other 2xx or 3xx means "portal" (a redirect's ``Location`` is the portal
to open); anything else, 511 included, is a *failed* probe ("no internet",
probe again later). That is why a network that answers 511 should also
announce itself through the Captive Portal API (RFC 8908, RFC 8910).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..origin._probes import ProbeRoute

__all__ = [
    "ANDROID_PROBE_URL",
    "APPLE_PROBE_URL",
    "ProbeResult",
    "ProbeRoute",
    "android_verdict",
    "apple_verdict",
    "run_probes",
]

ANDROID_PROBE_URL = "http://connectivitycheck.gstatic.com/generate_204"
APPLE_PROBE_URL = "http://captive.apple.com/hotspot-detect.html"
@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one phone-style probe saw and concluded (plain data)."""

    probe: str  # "android" | "apple"
    url: str
    status: int
    verdict: str  # "online" | "portal" | "no internet"
    portal_url: str | None
    reason: str


def android_verdict(status: int, body: bytes, location: str | None = None) -> tuple[str, str]:
    """AOSP NetworkMonitor's reading of a ``/generate_204`` answer."""
    if status == 204 or (status == 200 and not body):
        return "online", "204 (or an empty 200): validated"
    if 200 <= status <= 399:
        where = f" -> {location}" if location else ""
        return "portal", f"{status} is 2xx/3xx but not 204: a portal intercepted the probe{where}"
    return "no internet", f"{status} is outside 200-399: the probe failed; Android retries later"


def apple_verdict(status: int, body: bytes) -> tuple[str, str]:
    """Apple-style reading: only the exact "Success" page means online."""
    if status == 200 and b"Success" in body:
        return "online", "the Success page came back"
    return "portal", f"{status} without the Success page: show the captive network assistant"


def run_probes(client) -> list[ProbeResult]:
    """Run both probes with an httpx ``client`` (redirects not followed, as phones do)."""
    out = []
    for name, url in (("android", ANDROID_PROBE_URL), ("apple", APPLE_PROBE_URL)):
        r = client.get(url, follow_redirects=False)
        location = r.headers.get("location")
        if name == "android":
            verdict, reason = android_verdict(r.status_code, r.content, location)
        else:
            verdict, reason = apple_verdict(r.status_code, r.content)
        portal = location if verdict == "portal" and location else None
        out.append(ProbeResult(name, url, r.status_code, verdict, portal, reason))
    return out
