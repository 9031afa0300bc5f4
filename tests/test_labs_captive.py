"""The portal's state as notebooks 01 and 01b show it: every device by name, and
tables whose rows say when their status was seen."""

import time

from labkit import Simulator, VirtualClock
from labkit.gateway import MODES
from labkit.labs import device_rows, probe_in_mode, survey_modes


def test_device_rows_show_a_device_that_never_tried_to_sign_in():
    sim = Simulator(name="test-device-rows")
    portal = sim.gateway.portal
    assert sim.client(device="127.0.0.3", gateway=True).get("http://news.test/").status_code == 511
    portal.sign_in("127.0.0.2", "guest", "letmein")
    try:
        portal.sign_in("127.0.0.4", "guest", "wrong")
    except ValueError:
        pass
    assert [d.device for d in portal.devices()] == ["127.0.0.2", "127.0.0.4"]  # 127.0.0.3 is not on record

    rows = {r["device"]: r for r in device_rows(portal, ["127.0.0.2", "127.0.0.3", "127.0.0.4"])}
    assert rows["127.0.0.3"]["state"] == "captive" and rows["127.0.0.3"]["wrong passwords in a row"] == 0
    assert rows["127.0.0.4"]["state"] == "captive" and rows["127.0.0.4"]["wrong passwords in a row"] == 1
    assert rows["127.0.0.2"] == {"device": "127.0.0.2", "state": "online", "signed in as": "guest",
                                 "seconds left": 3600, "wrong passwords in a row": 0, "sign-in locked for (s)": "-"}


def test_probe_in_mode_restores_the_mode():
    sim = Simulator(name="test-probe-in-mode")
    probe = probe_in_mode(sim.gateway, "redirect")
    assert (probe.probe, probe.status, probe.verdict) == ("android", 302, "portal")
    assert sim.gateway.mode == "rfc6585"
    assert probe_in_mode(sim.gateway, "rfc6585").verdict == "no internet"


def test_survey_modes_labels_the_row_seen_after_sign_in():
    sim = Simulator(clock=VirtualClock(start=time.time()), name="test-survey-modes")
    sim.gateway.mode = "spoof"
    by_mode = survey_modes(sim.gateway)
    assert list(by_mode) == list(MODES) and sim.gateway.mode == "spoof"
    labels = [r.label for r in by_mode["rfc6585"]]
    # Every row is for a captive device but the cache's, and its label says so.
    assert labels[-1] == "shared cache, after signing in"
    assert [r for r in by_mode["rfc6585"] if r.signed_in] == [by_mode["rfc6585"][-1]]
    assert {r.status for r in by_mode["rfc6585"] if not r.signed_in} == {511}
