"""The captive portal's state, read the way notebooks 01 and 01b show it.

- :func:`device_rows`: what the portal knows about the devices a lesson used,
  in words a learner reads without the source at hand;
- :func:`probe_in_mode`: one detector's verdict while the gateway plays
  another mode, the mode restored afterwards;
- :func:`probe_table`: every detector of :data:`~labkit.gateway.DETECTORS`,
  captive and signed in: what it asks, what it expects, what it got, what it
  concludes, and where its rule is written.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from ..gateway import DETECTOR_RULES, DETECTORS, Gateway, Portal, ProbeResult, run_probes
from ..transport import InProcessTransport

__all__ = ["device_rows", "probe_in_mode", "probe_table"]

# An address no lesson gives a device, so asking never disturbs one.
PROBE_DEVICE = "127.0.0.251"


def device_rows(portal: Portal, devices: Iterable[str]) -> list[dict]:
    """One row per device in ``devices``: online or captive, and its sign-in record.

    :meth:`Portal.devices` lists only devices with a session or a wrong password
    on record, so a device that only ever got 511s (it never tried to sign in)
    is missing from it, and an expired session lingers until someone asks about
    it. Asking about each device by name shows them all alike. "Wrong passwords
    in a row" is the portal's lockout counter: a successful sign-in, or the end
    of a lockout, resets it to 0.
    """
    rows = []
    for device in devices:
        s = portal.state(device)
        rows.append({
            "device": device,
            "state": "captive" if s.captive else "online",
            "signed in as": s.user or "-",
            "seconds left": "-" if s.captive else s.seconds_remaining,
            "wrong passwords in a row": s.failed_attempts,
            "sign-in locked for (s)": s.locked_seconds_remaining or "-",
        })
    return rows


def probe_in_mode(gateway: Gateway, mode: str, detector: str = "android", *,
                  device: str = PROBE_DEVICE) -> ProbeResult:
    """What ``detector``'s probe concludes for a captive ``device`` while ``gateway`` is in ``mode``.

    ``device`` is signed out first, so it is captive; the gateway goes back to
    the mode it was in, even if the probe fails.
    """
    before = gateway.mode
    gateway.mode = mode
    try:
        gateway.portal.sign_out(device)
        with httpx.Client(transport=InProcessTransport(gateway, client=(device, 50002))) as client:
            return run_probes(client, detectors=(detector,))[0]
    finally:
        gateway.mode = before


def probe_table(gateway: Gateway, *, device: str = PROBE_DEVICE) -> list[dict]:
    """Two rows per detector of :data:`~labkit.gateway.DETECTORS`: captive, then signed in.

    "captive" is ``device`` signed out with the gateway in its current mode;
    "signed in" is ``device`` signed in with the portal's first account. Each
    row holds what the detector asks, the answer it expects when online (from
    :data:`~labkit.gateway.DETECTOR_RULES`: the probe host's exact answer),
    what it got through the gateway, its verdict and reason, and the source of
    its rule. ``device`` is signed out again afterwards, even if a probe fails.
    """
    portal = gateway.portal
    captive_state = f"captive ({gateway.mode})"
    seen = {}
    try:
        for state in (captive_state, "signed in"):
            portal.sign_out(device)
            if state == "signed in":
                portal.sign_in(device, *next(iter(portal.users.items())))
            with httpx.Client(transport=InProcessTransport(gateway, client=(device, 50003))) as client:
                seen[state] = run_probes(client)
    finally:
        portal.sign_out(device)
    rows = []
    for captive, online in zip(seen[captive_state], seen["signed in"]):
        for state, result in ((captive_state, captive), ("signed in", online)):
            rule = DETECTOR_RULES[result.probe]
            rows.append({
                "detector": DETECTORS[result.probe],
                "state": state,
                "asks": rule.url,
                "online answer": _expected(rule.online_status, rule.online_body),
                "got": result.answer,
                "verdict": result.verdict,
                "reason": result.reason,
                "rule from": rule.source,
            })
    return rows


def _expected(status: int, body: bytes) -> str:
    # The exact bytes, as Python writes them, so a newline or its absence shows.
    return f"{status}, no content" if not body else f"{status}, {body!r}"
