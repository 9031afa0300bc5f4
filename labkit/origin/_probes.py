"""The probe hosts' side of connectivity checks: what "the internet" answers.

Each detector fetches a known plain-HTTP URL and compares the answer with
what that host serves when nothing is in the way:

* Android's NetworkMonitor and Chromium's captive-portal detector:
  ``/generate_204`` answers 204 with no content;
* Apple: ``/hotspot-detect.html`` answers a page saying "Success";
* Windows (NCSI): ``/connecttest.txt`` answers the text "Microsoft Connect
  Test" (Windows 10 and later), ``/ncsi.txt`` the text "Microsoft NCSI"
  (Windows 8.1 and earlier), as Microsoft's article "An Internet Explorer or
  Edge window opens when your computer connects to a corporate network or a
  public network" (KB 4494446) lists them. NCSI only needs the file to
  contain the text, so the lab serves the text alone, without a newline;
* Firefox: ``/canonical.html`` answers exactly the text of the
  ``captivedetect.canonicalContent`` preference (``modules/libpref/init/all.js``:
  a meta refresh to Mozilla's captive-portal help page); ``/success.txt``
  answers "success" and a newline, the canonical content of the older
  ``captivedetect.canonicalURL`` (``b2g/app/b2g.js``), which today's Firefox
  still fetches for its IPv4/IPv6 reachability check
  (``network.connectivity-service.IPv4.url``, ``netwerk/docs/connectivity_checking.md``);
* NetworkManager: ``/check_network_status.txt`` answers "NetworkManager is
  online" and a newline (``NM_CONFIG_DEFAULT_CONNECTIVITY_RESPONSE`` in
  NetworkManager/NetworkManager ``src/core/nm-config.h`` is the text without
  it; the URL itself is a distribution setting, GNOME's
  ``nmcheck.gnome.org`` is used here). It also sends
  ``X-NetworkManager-Status: online``, the header NetworkManager accepts
  instead of the text (``HEADER_STATUS_ONLINE`` in ``nm-connectivity.c``).

How each device reads those answers through a captive network lives with
the gateway (:mod:`labkit.gateway._probes`).
"""

from __future__ import annotations

from ..core import Request, Response

__all__ = [
    "APPLE_SUCCESS",
    "FIREFOX_CANONICAL",
    "FIREFOX_SUCCESS",
    "NETWORKMANAGER_ONLINE",
    "NETWORKMANAGER_STATUS_HEADER",
    "PROBE_PATHS",
    "ProbeRoute",
    "WINDOWS_CONNECT_TEST",
    "WINDOWS_NCSI",
]

APPLE_SUCCESS = b"<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"
FIREFOX_CANONICAL = (
    b'<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>'
)
FIREFOX_SUCCESS = b"success\n"
NETWORKMANAGER_ONLINE = b"NetworkManager is online\n"
NETWORKMANAGER_STATUS_HEADER = ("x-networkmanager-status", "online")
WINDOWS_CONNECT_TEST = b"Microsoft Connect Test"
WINDOWS_NCSI = b"Microsoft NCSI"

_NO_CACHE = ("cache-control", "no-cache, no-store")
_HTML = ("content-type", "text/html")
_TEXT = ("content-type", "text/plain")

# path -> (status, extra header fields, content): what the probe host answers when online.
_ANSWERS: dict[str, tuple[int, tuple[tuple[str, str], ...], bytes]] = {
    "/generate_204": (204, (), b""),
    "/hotspot-detect.html": (200, (_HTML,), APPLE_SUCCESS),
    "/connecttest.txt": (200, (_TEXT,), WINDOWS_CONNECT_TEST),
    "/ncsi.txt": (200, (_TEXT,), WINDOWS_NCSI),
    "/canonical.html": (200, (_HTML,), FIREFOX_CANONICAL),
    "/success.txt": (200, (_TEXT,), FIREFOX_SUCCESS),
    "/check_network_status.txt": (200, (_TEXT, NETWORKMANAGER_STATUS_HEADER), NETWORKMANAGER_ONLINE),
}

#: Every path a probe host answers, in the order of the list above.
PROBE_PATHS = tuple(_ANSWERS)


class ProbeRoute:
    """The probe hosts' answers (served by the origin, i.e. "the internet")."""

    def __call__(self, request: Request) -> Response:
        answer = _ANSWERS.get(request.path)
        if answer is None:
            return Response(404, [_TEXT], b"not a probe URL\n")
        status, fields, content = answer
        return Response(status, [*fields, _NO_CACHE], content)
