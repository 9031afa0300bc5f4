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
  ``GetCaptivePortalResultFromResponse``; it asks ``kDefaultURL``,
  ``http://www.gstatic.com/generate_204``): 511 is a captive portal,
  explicitly, citing RFC 6585; other 4xx/5xx and network errors are "no
  response"; 204, or a 200 with 0 or 1 byte, is online; anything else is a
  portal.
* **Firefox** (``toolkit/components/captivedetect/CaptiveDetect.sys.mjs``,
  ``_startDetection``): a 200 whose text is exactly the canonical content is
  online; another 2xx, any 3xx, and 511 ("Got a RFC 6585 Network
  Authentication Required error page") start the login; anything else is
  retried. When the check went through a proxy (``usedProxy()``) it never
  reports a portal. Its other URL, ``success.txt``, serves the reachability
  check (``netwerk/base/NetworkConnectivityService.cpp``, ``OnStopRequest``:
  ``NS_FAILED(aStatusCode) ? NOT_AVAILABLE : OK``): any HTTP answer, a 511
  included, counts as reachable, so it detects no portal.
* **NetworkManager** (``src/core/nm-connectivity.c``,
  ``_con_curl_check_connectivity``, ``easy_header_cb`` and
  ``easy_write_cb``): a header line ``X-NetworkManager-Status: online`` is
  FULL connectivity ("status header found"); otherwise content that starts
  with the expected text is FULL (the status code is not looked at); any
  other answer, too short or different, is PORTAL; no answer is LIMITED.
* **Apple**'s checker is closed source: see :func:`apple_verdict`.
* **Windows**' NCSI is closed source too; Microsoft documents what it asks
  and compares, not how it reads every answer: see :func:`windows_verdict`.

So a correct 511 is recognised as a captive portal by Chromium, Firefox and
NetworkManager; only Android counts it as a failed probe, which is why a
network that answers 511 should also announce itself through the Captive
Portal API (RFC 8908, RFC 8910).

:data:`DETECTOR_RULES` holds, for each name of :data:`DETECTORS`, the URL
asked, the answer expected when online and where the rule comes from, so a
table of every detector is generated rather than written by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import httpx

from ..origin._probes import (
    APPLE_SUCCESS,
    FIREFOX_CANONICAL,
    NETWORKMANAGER_ONLINE,
    NETWORKMANAGER_STATUS_HEADER,
    WINDOWS_CONNECT_TEST,
    ProbeRoute,
)

__all__ = [
    "ANDROID_HTTPS_PROBE_URL",
    "ANDROID_PROBE_URL",
    "APPLE_PROBE_URL",
    "CHROMIUM_PROBE_URL",
    "DETECTORS",
    "DETECTOR_RULES",
    "DetectorRule",
    "FIREFOX_PROBE_URL",
    "FIREFOX_SUCCESS_URL",
    "NETWORKMANAGER_PROBE_URL",
    "ProbeResult",
    "ProbeRoute",
    "WINDOWS_LEGACY_PROBE_URL",
    "WINDOWS_PROBE_URL",
    "android_validation",
    "android_verdict",
    "apple_verdict",
    "chromium_verdict",
    "firefox_verdict",
    "networkmanager_verdict",
    "run_probes",
    "windows_verdict",
]

ANDROID_PROBE_URL = "http://connectivitycheck.gstatic.com/generate_204"
ANDROID_HTTPS_PROBE_URL = "https://www.google.com/generate_204"
APPLE_PROBE_URL = "http://captive.apple.com/hotspot-detect.html"
CHROMIUM_PROBE_URL = "http://www.gstatic.com/generate_204"  # CaptivePortalDetector::kDefaultURL
FIREFOX_PROBE_URL = "http://detectportal.firefox.com/canonical.html"
FIREFOX_SUCCESS_URL = "http://detectportal.firefox.com/success.txt"  # its reachability check, not a portal check
NETWORKMANAGER_PROBE_URL = "http://nmcheck.gnome.org/check_network_status.txt"
WINDOWS_PROBE_URL = "http://www.msftconnecttest.com/connecttest.txt"
WINDOWS_LEGACY_PROBE_URL = "http://www.msftncsi.com/ncsi.txt"  # Windows 8.1 and earlier

# Microsoft's article on NCSI's active probe, the source of what windows_verdict knows.
_NCSI_ARTICLE = ("Microsoft Learn, \"An Internet Explorer or Edge window opens when your computer connects "
                 "to a corporate network or a public network\" (KB 4494446)")

#: Detector names :func:`run_probes` knows, with how to print them.
DETECTORS = MappingProxyType({
    "android": "Android",
    "apple": "Apple",
    "chromium": "Chromium",
    "firefox": "Firefox",
    "networkmanager": "NetworkManager",
    "windows": "Windows",
})


@dataclass(frozen=True, slots=True)
class DetectorRule:
    """What one detector asks, what it expects when online, and where that rule is written.

    ``online_status`` and ``online_body`` are the answer the probe host gives
    when nothing is in the way (served by :class:`ProbeRoute`); ``expects``
    says what the detector compares; ``source`` names the file and function,
    or the document, the rule is read from.
    """

    url: str
    online_status: int
    online_body: bytes
    expects: str
    source: str


#: For each name of :data:`DETECTORS`, in the same order: its :class:`DetectorRule`.
DETECTOR_RULES = MappingProxyType({
    "android": DetectorRule(
        ANDROID_PROBE_URL, 204, b"",
        "204; a 200 of 4 bytes or fewer is a failed probe, another 2xx/3xx a portal; "
        f"also {ANDROID_HTTPS_PROBE_URL} over HTTPS",
        "AOSP NetworkStack NetworkMonitor.java (sendHttpProbe, sendHttpAndHttpsParallelWithFallbackProbes); "
        "CaptivePortalProbeResult.java (isPortalCode)"),
    "apple": DetectorRule(
        APPLE_PROBE_URL, 200, APPLE_SUCCESS,
        "a 200 page containing \"Success\" (the lab's reading: Apple publishes no rule)",
        "none published: Apple's Captive Network Assistant is closed source"),
    "chromium": DetectorRule(
        CHROMIUM_PROBE_URL, 204, b"",
        "204, or a 200 with 0 or 1 byte; 511 is a portal, other 4xx/5xx no response",
        "Chromium components/captive_portal/core/captive_portal_detector.cc "
        "(GetCaptivePortalResultFromResponse, kDefaultURL)"),
    "firefox": DetectorRule(
        FIREFOX_PROBE_URL, 200, FIREFOX_CANONICAL,
        "a 200 whose text is exactly captivedetect.canonicalContent; 511, another 2xx or a 3xx is a portal",
        "Firefox toolkit/components/captivedetect/CaptiveDetect.sys.mjs (_startDetection); "
        "modules/libpref/init/all.js (captivedetect.canonicalContent)"),
    "networkmanager": DetectorRule(
        NETWORKMANAGER_PROBE_URL, 200, NETWORKMANAGER_ONLINE,
        "the header X-NetworkManager-Status: online, or content starting with \"NetworkManager is online\", "
        "whatever the status",
        "NetworkManager src/core/nm-connectivity.c (easy_header_cb, easy_write_cb, "
        "_con_curl_check_connectivity); src/core/nm-config.h (NM_CONFIG_DEFAULT_CONNECTIVITY_RESPONSE)"),
    "windows": DetectorRule(
        WINDOWS_PROBE_URL, 200, WINDOWS_CONNECT_TEST,
        "a text file that contains \"Microsoft Connect Test\"; then a DNS lookup of dns.msftncsi.com, "
        "which the lab cannot simulate",
        _NCSI_ARTICLE + ", section \"NCSI active probes and the network status alert\""),
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
    answer: str = ""  # what came back, in a few words: "511 text/html, 663 bytes"


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


def networkmanager_verdict(status: int, body: bytes, *, headers: Mapping[str, str] | None = None) -> tuple[str, str]:
    """NetworkManager's ``nm-connectivity.c`` with its default expected text.

    A header line ``X-NetworkManager-Status: online`` is FULL connectivity
    whatever follows (``easy_header_cb`` compares the whole line, case
    aside); the lab compares the field's name and value the same way, as
    ``headers`` (an ``httpx.Headers`` or any mapping) gives them. Otherwise
    the status code is not looked at when a text is expected: only the
    content is (``easy_write_cb``).
    """
    if status == 0:
        return "no internet", "no HTTP answer: LIMITED connectivity"
    name, value = NETWORKMANAGER_STATUS_HEADER
    if any(k.lower() == name and v.strip().lower() == value for k, v in (headers or {}).items()):
        return "online", "the X-NetworkManager-Status: online header came back: FULL connectivity"
    if body.startswith(NETWORKMANAGER_ONLINE.rstrip(b"\n")):
        return "online", "the expected text came back: FULL connectivity"
    return "portal", f"{status} with other content: any unexpected answer is PORTAL"


def windows_verdict(status: int, body: bytes, *, expected: bytes = WINDOWS_CONNECT_TEST) -> tuple[str, str]:
    """Windows' Network Connectivity Status Indicator (NCSI), as far as Microsoft documents it.

    NCSI is closed source. Microsoft's article (KB 4494446, "NCSI active
    probes and the network status alert") documents the steps for Windows 10
    or later: "NCSI sends a plain HTTP GET request to
    http://www.msftconnecttest.com/connecttest.txt"; "If NCSI successfully
    downloads the text file, it makes sure that the file contains Microsoft
    Connect Test"; then "NCSI sends another DNS request to resolve the
    address of the dns.msftncsi.com FQDN"; and "If any of these requests
    fails, the network alert appears in the Task Bar", with a message "such
    as "No connectivity" or "Limited Internet access" (depending on which
    requests failed)". Windows 8.1 and earlier ask
    ``http://www.msftncsi.com/ncsi.txt`` for "Microsoft NCSI" (pass
    ``expected=b"Microsoft NCSI"``). On a network "that requires Hotspot
    Sign in information", "The default browser ... opens, and shows a web
    page such as a sign-in page for the network or the MSN portal page"; a
    trace "shows an HTTP connection to http://www.msftconnecttest.com/redirect
    that is followed by a connection to the MSN Portal".

    Documented: the URL, that the text must be *contained*, and that a
    failed step raises the alert. Not documented, so the lab's reading: that
    only a 200 counts as "successfully downloads", and that any HTTP answer
    without the text (a 511, a 302, a login page) is a hotspot, for which
    Windows opens the browser at ``/redirect`` and the portal intercepts
    it. The DNS step cannot be simulated: the lab has no DNS. (The address
    dns.msftncsi.com should resolve to, 131.107.255.255, comes from
    Microsoft's older Windows 7 reference as quoted in "Windows 7 network
    awareness", blog.superuser.com, 2011; the article above names only the
    lookup.)
    """
    text = expected.decode("ascii", "replace")
    if status == 0:
        return "no internet", "no HTTP answer: a request failed, so the network alert appears in the Task Bar"
    if status == 200 and expected in body:
        return "online", f"the file contains \"{text}\": Internet access"
    # The reason names no host: a notebook turns a host name in printed text into
    # a link, which cannot open offline (the docstring gives the URL).
    return "portal", (f"{status} without \"{text}\": a hotspot (the lab's reading); Windows opens the browser "
                      "at its own redirect page, for the portal to intercept")


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
            r = _get(client, ANDROID_PROBE_URL)
            status, body = (0, b"") if r is None else (r.status_code, r.content)
            location = None if r is None else r.headers.get("location")
            http = android_verdict(status, body, location)
            https = android_verdict(*_fetch(client, ANDROID_HTTPS_PROBE_URL))
            verdict, reason = android_validation(http[0], https[0])
            if verdict == "portal" and http[0] == "portal":
                reason = http[1]
            elif verdict == "no internet":
                reason = f"{http[1]} (the HTTPS probe failed too)"
            portal = (location or ANDROID_PROBE_URL) if verdict == "portal" else None
            out.append(ProbeResult(name, ANDROID_PROBE_URL, status, verdict, portal, reason, _describe(r)))
            continue
        url = DETECTOR_RULES[name].url
        r = _get(client, url)
        status, body = (0, b"") if r is None else (r.status_code, r.content)
        location = None if r is None else r.headers.get("location")
        if name == "firefox":
            verdict, reason = firefox_verdict(status, body, proxied=proxied)
        elif name == "networkmanager":
            verdict, reason = networkmanager_verdict(status, body, headers=None if r is None else r.headers)
        else:
            verdict, reason = _JUDGES[name](status, body)
        portal = location if verdict == "portal" and location else None
        out.append(ProbeResult(name, url, status, verdict, portal, reason, _describe(r)))
    return out


_JUDGES = {"apple": apple_verdict, "chromium": chromium_verdict, "windows": windows_verdict}


def _get(client: httpx.Client, url: str) -> httpx.Response | None:
    try:
        return client.get(url, follow_redirects=False)
    except httpx.TransportError:  # refused, reset, timed out, TLS failed: no answer
        return None


def _fetch(client: httpx.Client, url: str) -> tuple[int, bytes, str | None]:
    r = _get(client, url)
    if r is None:
        return 0, b"", None
    return r.status_code, r.content, r.headers.get("location")


def _describe(r: httpx.Response | None) -> str:
    """The answer in a few words: status, media type, size (the content itself can be a whole page)."""
    if r is None:
        return "no HTTP answer"
    kind = r.headers.get("content-type", "").split(";")[0].strip()
    size = len(r.content)
    return f"{r.status_code}" + (f" {kind}" if kind else "") + f", {size} byte{'' if size == 1 else 's'}"
