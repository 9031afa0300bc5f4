"""The probe hosts' side of connectivity checks: what "the internet" answers.

Each detector fetches a known plain-HTTP URL and compares the answer with
what that host serves when nothing is in the way:

* Android's NetworkMonitor and Chromium's captive-portal detector:
  ``/generate_204`` answers 204 with no content;
* Apple: ``/hotspot-detect.html`` answers a page saying "Success";
* Firefox: ``/canonical.html`` answers exactly the text of the
  ``captivedetect.canonicalContent`` preference (a meta refresh to Mozilla's
  captive-portal help page; the older ``success.txt`` with "success" is its
  predecessor);
* NetworkManager: ``/check_network_status.txt`` answers "NetworkManager is
  online" (``NM_CONFIG_DEFAULT_CONNECTIVITY_RESPONSE`` in
  NetworkManager/NetworkManager ``src/core/nm-config.h``; the URL itself is a
  distribution setting, GNOME's ``nmcheck.gnome.org`` is used here).

How each device reads those answers through a captive network lives with
the gateway (:mod:`labkit.gateway._probes`).
"""

from __future__ import annotations

from ..core import Request, Response

__all__ = ["APPLE_SUCCESS", "FIREFOX_CANONICAL", "NETWORKMANAGER_ONLINE", "ProbeRoute"]

APPLE_SUCCESS = b"<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"
FIREFOX_CANONICAL = (
    b'<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>'
)
NETWORKMANAGER_ONLINE = b"NetworkManager is online\n"

_NO_CACHE = ("cache-control", "no-cache, no-store")


class ProbeRoute:
    """The probe hosts' answers (served by the origin, i.e. "the internet")."""

    def __call__(self, request: Request) -> Response:
        if request.path == "/generate_204":
            return Response(204, [_NO_CACHE])
        if request.path == "/hotspot-detect.html":
            return Response(200, [("content-type", "text/html"), _NO_CACHE], APPLE_SUCCESS)
        if request.path == "/canonical.html":
            return Response(200, [("content-type", "text/html"), _NO_CACHE], FIREFOX_CANONICAL)
        if request.path == "/check_network_status.txt":
            return Response(200, [("content-type", "text/plain"), _NO_CACHE], NETWORKMANAGER_ONLINE)
        return Response(404, [("content-type", "text/plain")], b"not a probe URL\n")
