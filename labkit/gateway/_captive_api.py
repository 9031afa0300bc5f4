"""The Captive Portal API (RFC 8908): a device asks the network about itself.

A device learns this resource's URI from the network (RFC 8910: DHCPv4
option 114, DHCPv6 option 103, IPv6 RA option 37), fetches it with
``Accept: application/captive+json`` and reads its state (RFC 8908 section 5)
instead of guessing from a probe. The real API MUST be served over HTTPS
(RFC 8908 section 4), and its user-portal-url "MUST be accessed over TLS"
(section 5); on loopback the lab uses plain HTTP for both, a simplification.
"""

from __future__ import annotations

import json

from ..core import Response
from ._portal import DeviceState

__all__ = ["CAPTIVE_JSON", "captive_document", "captive_response"]

# RFC 8908 section 8.1 registers this media type.
CAPTIVE_JSON = "application/captive+json"


def captive_document(
    state: DeviceState, *, user_portal_url: str, venue_info_url: str, can_extend: bool
) -> dict[str, object]:
    """The API's JSON for one device (keys from RFC 8908 section 5).

    ``captive`` is required; the portal URL is given while captive (the
    way out) and kept when online if the session can be extended there.
    ``seconds-remaining`` only makes sense for a running session.
    """
    doc: dict[str, object] = {"captive": state.captive}
    if state.captive or can_extend:
        doc["user-portal-url"] = user_portal_url
    doc["venue-info-url"] = venue_info_url
    if not state.captive:
        doc["seconds-remaining"] = state.seconds_remaining
        doc["can-extend-session"] = can_extend
    return doc


def captive_response(doc: dict[str, object]) -> Response:
    # The state is per device and changes any second: never share or store it
    # (RFC 8908 section 5: "private", or something stricter such as no-store;
    # no-store alone, since beside it "private" only draws a lint warning).
    return Response(
        200,
        [("content-type", CAPTIVE_JSON), ("cache-control", "no-store")],
        json.dumps(doc, indent=2).encode() + b"\n",
    )
