"""Connectivity probes: how devices and browsers notice a captive portal.

Two halves. The *internet side* (:class:`ProbeRoute`, in
:mod:`labkit.origin._probes`) is what the real probe hosts answer, mounted on
the simulated origin. The *device side* (the ``*_verdict`` functions and
:func:`run_probes`) reads what came back through the network, as each
detector's source code does. Every verdict is ``"online"``, ``"portal"``
(open a login page) or ``"no internet"`` (the check failed; try later);
Android adds ``"partial connectivity"``. A status of 0 stands for no HTTP
answer at all (refused, reset, timed out, failed TLS).

Read from the detectors' source:

* **Android** (AOSP NetworkStack, ``src/com/android/server/connectivity/
  NetworkMonitor.java``, ``sendHttpProbe``; ``CaptivePortalProbeResult.java``,
  ``isPortalCode``): 204 validates; a 200 whose content is empty or 4 bytes
  or fewer is a *failed* probe ("Empty 200 response interpreted as failed
  response", "200 response with Content-length <= 4 interpreted as failed
  response"); any other 2xx/3xx is a portal, whose login page is the
  ``Location`` or, with none (a portal that answers 200 with its login
  page), the probe URL itself; anything else, 511 included, fails. Android
  also probes ``https://www.google.com/generate_204`` in parallel
  (``sendHttpAndHttpsParallelWithFallbackProbes``): an HTTP 204 with a failed
  HTTPS probe is *partial connectivity*.
* **Chromium** (``components/captive_portal/core/captive_portal_detector.cc``,
  ``GetCaptivePortalResultFromResponse``): 511 is a captive portal,
  explicitly, citing RFC 6585; other 4xx/5xx and network errors are "no
  response"; 204, or a 200 with 0 or 1 byte, is online; anything else is a
  portal.
* **Firefox** (``toolkit/components/captivedetect/CaptiveDetect.sys.mjs``,
  ``_startDetection``): a 200 whose text is exactly the canonical content is
  online; another 2xx, any 3xx, and 511 ("Got a RFC 6585 Network
  Authentication Required error page") start the login; anything else is
  retried. When the check went through a proxy (``usedProxy()``) it never
  reports a portal.
* **NetworkManager** (``src/core/nm-connectivity.c``,
  ``_con_curl_check_connectivity`` and ``easy_write_cb``): content that
  starts with the expected text is FULL connectivity (the status code is not
  looked at); any other answer, too short or different, is PORTAL; no answer
  is LIMITED.
* **Apple**'s checker is closed source: see :func:`apple_verdict`.

So a correct 511 is recognised as a captive portal by Chromium, Firefox and
NetworkManager; only Android counts it as a failed probe, which is why a
network that answers 511 should also announce itself through the Captive
Portal API (RFC 8908, RFC 8910).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import httpx

from ..origin._probes import FIREFOX_CANONICAL, NETWORKMANAGER_ONLINE, ProbeRoute

__all__ = [
    "ANDROID_HTTPS_PROBE_URL",
    "ANDROID_PROBE_URL",
    "APPLE_PROBE_URL",
    "CHROMIUM_PROBE_URL",
    "DETECTORS",
    "FIREFOX_PROBE_URL",
    "NETWORKMANAGER_PROBE_URL",
    "ProbeResult",
    "ProbeRoute",
    "android_validation",
    "android_verdict",
    "apple_verdict",
    "chromium_verdict",
    "firefox_verdict",
    "networkmanager_verdict",
    "run_probes",
]

ANDROID_PROBE_URL = "http://connectivitycheck.gstatic.com/generate_204"
ANDROID_HTTPS_PROBE_URL = "https://www.google.com/generate_204"
APPLE_PROBE_URL = "http://captive.apple.com/hotspot-detect.html"
CHROMIUM_PROBE_URL = "http://connectivitycheck.gstatic.com/generate_204"
FIREFOX_PROBE_URL = "http://detectportal.firefox.com/canonical.html"
NETWORKMANAGER_PROBE_URL = "http://nmcheck.gnome.org/check_network_status.txt"

#: Detector names :func:`run_probes` knows, with how to print them.
DETECTORS = MappingProxyType({
    "android": "Android",
    "apple": "Apple",
    "chromium": "Chromium",
    "firefox": "Firefox",
    "networkmanager": "NetworkManager",
})


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What one detector's probe saw and concluded (plain data)."""

    probe: str  # a key of DETECTORS
    url: str
    status: int  # 0: no HTTP answer
    verdict: str  # "online" | "portal" | "no internet" | "partial connectivity"
    portal_url: str | None
    reason: str


def android_verdict(status: int, body: bytes, location: str | None = None) -> tuple[str, str]:
    """AOSP NetworkMonitor's reading of one probe (``sendHttpProbe``, ``isPortalCode``)."""
    if status == 204:
        return "online", "204: validated"
    if status == 200 and len(body) <= 4:
        return "no internet", (f"200 with {len(body)} bytes: Android counts an empty or tiny (4 bytes or fewer) "
                               "200 as a failed probe, not as a portal")
    if 200 <= status <= 399:
        where = "its Location" if location else "the probe URL itself (no Location)"
        return "portal", f"{status} is 2xx/3xx but not 204: a portal; Android opens {where}"
    if status == 0:
        return "no internet", "no HTTP answer: the probe failed; Android retries later"
    return "no internet", f"{status} is outside 200-399: the probe failed; Android retries later"


def android_validation(http: str, https: str) -> tuple[str, str]:
    """Android's conclusion from its HTTP and HTTPS probes' verdicts.

    As ``NetworkMonitor.sendHttpAndHttpsParallelWithFallbackProbes``: an HTTP
    portal wins; then a conclusive HTTPS result (validated, or a portal);
    then an HTTP 204 with a failed HTTPS probe is partial connectivity;
    otherwise the HTTPS result (failed) stands.
    """
    if http == "portal":
        return "portal", "the HTTP probe was intercepted: sign in"
    if https == "online":
        return "online", "204 from the HTTPS probe: validated"
    if https == "portal":
        return "portal", "the HTTPS probe was redirected: sign in"
    if http == "online":
        return "partial connectivity", "HTTP got its 204 but the HTTPS probe failed: Android reports partial connectivity"
    return "no internet", "both the HTTP and the HTTPS probe failed: Android retries later"


def apple_verdict(status: int, body: bytes) -> tuple[str, str]:
    """Apple's Captive Network Assistant, as far as it can be known.

    Apple publishes no source for it, so what it compares is not on record.
    The lab counts a 200 whose body *contains* "Success" (as the page of
    ``captive.apple.com`` does) as online, and any other answer as a portal;
    Firefox, by contrast, wants its canonical text exactly
    (:func:`firefox_verdict`).
    """
    if status == 0:
        return "no internet", "no HTTP answer: nothing to show"
    if status == 200 and b"Success" in body:
        return "online", "the Success page came back"
    return "portal", f"{status} without the Success page: show the captive network assistant"


def chromium_verdict(status: int, body: bytes) -> tuple[str, str]:
    """Chromium's ``CaptivePortalDetector::GetCaptivePortalResultFromResponse``.

    Chromium's loader follows redirects, so a 3xx is judged by the page it
    leads to (the login page: a portal); the lab does not follow them and
    gets the same verdict.
    """
    if status == 0:
        return "no internet", "no HTTP answer: RESULT_NO_RESPONSE"
    if status == 511:
        return "portal", "511 is Network Authentication Required: Chromium reads it as a captive portal (RFC 6585)"
    if status >= 400 or status < 200:
        return "no internet", f"{status}: RESULT_NO_RESPONSE (a server error, not a portal)"
    if status == 204:
        return "online", "204: RESULT_INTERNET_CONNECTED"
    if status == 200 and len(body) <= 1:
        return "online", "a 200 with 0 or 1 byte counts as a 204"
    return "portal", f"{status}, neither 204 nor an empty 200: RESULT_BEHIND_CAPTIVE_PORTAL"


def firefox_verdict(status: int, body: bytes, *, proxied: bool = False) -> tuple[str, str]:
    """Firefox's ``CaptivePortalDetector._startDetection`` (``CaptiveDetect.sys.mjs``)."""
    if status == 0:
        return "no internet", "no HTTP answer: Firefox retries, then gives up"
    if proxied:
        return "online", "the check went through a proxy: Firefox never reports a portal then (usedProxy())"
    if status == 200:
        if body == FIREFOX_CANONICAL:
            return "online", "the canonical page came back, exactly"
        return "portal", "200 but not the canonical page: the content was replaced"
    if 200 <= status <= 399:
        return "portal", f"{status}: redirected or rewritten: start the login"
    if status == 511:
        return "portal", "511: Firefox reads an RFC 6585 page as a captive portal"
    return "no internet", f"{status}: not a portal sign; Firefox retries, then gives up"


def networkmanager_verdict(status: int, body: bytes) -> tuple[str, str]:
    """NetworkManager's ``nm-connectivity.c`` with its default expected text.

    The status code is not looked at when a text is expected: only the
    content is (``easy_write_cb``). A ``X-NetworkManager-Status: online``
    header would also mean FULL; the lab's probe host does not send it.
    """
    if status == 0:
        return "no internet", "no HTTP answer: LIMITED connectivity"
    if body.startswith(NETWORKMANAGER_ONLINE.rstrip(b"\n")):
        return "online", "the expected text came back: FULL connectivity"
    return "portal", f"{status} with other content: any unexpected answer is PORTAL"


def run_probes(client: httpx.Client, *, detectors=tuple(DETECTORS), proxied: bool = False) -> list[ProbeResult]:
    """Run each detector's probe with an httpx ``client``, redirects not followed.

    Android's row combines its HTTP and HTTPS probes (:func:`android_validation`);
    its ``status`` is the HTTP probe's. ``proxied=True`` says that ``client``
    reaches the network through an explicit proxy, which changes Firefox's
    reading. A probe that gets no HTTP answer (refused, reset, timed out,
    failed TLS) has status 0.
    """
    unknown = [name for name in detectors if name not in DETECTORS]
    if unknown:
        raise ValueError(f"unknown detector {unknown[0]!r}; choose from: {', '.join(DETECTORS)}")
    out = []
    for name in detectors:
        if name == "android":
            status, body, location = _fetch(client, ANDROID_PROBE_URL)
            http = android_verdict(status, body, location)
            https = android_verdict(*_fetch(client, ANDROID_HTTPS_PROBE_URL))
            verdict, reason = android_validation(http[0], https[0])
            if verdict == "portal" and http[0] == "portal":
                reason = http[1]
            elif verdict == "no internet":
                reason = f"{http[1]} (the HTTPS probe failed too)"
            portal = (location or ANDROID_PROBE_URL) if verdict == "portal" else None
            out.append(ProbeResult(name, ANDROID_PROBE_URL, status, verdict, portal, reason))
            continue
        url, judge = _PROBES[name]
        status, body, location = _fetch(client, url)
        verdict, reason = firefox_verdict(status, body, proxied=proxied) if name == "firefox" else judge(status, body)
        portal = location if verdict == "portal" and location else None
        out.append(ProbeResult(name, url, status, verdict, portal, reason))
    return out


_PROBES = {
    "apple": (APPLE_PROBE_URL, apple_verdict),
    "chromium": (CHROMIUM_PROBE_URL, chromium_verdict),
    "firefox": (FIREFOX_PROBE_URL, firefox_verdict),
    "networkmanager": (NETWORKMANAGER_PROBE_URL, networkmanager_verdict),
}


def _fetch(client: httpx.Client, url: str) -> tuple[int, bytes, str | None]:
    try:
        r = client.get(url, follow_redirects=False)
    except httpx.TransportError:  # refused, reset, timed out, TLS failed: no answer
        return 0, b"", None
    return r.status_code, r.content, r.headers.get("location")
