"""The portal widgets display what labkit.gateway computes; they hold no logic."""

import time

import pytest

from labkit import Simulator, VirtualClock

pytest.importorskip("ipywidgets")

from labkit.widgets import PortalModes, SignInForm  # noqa: E402


def test_sign_in_form_posts_the_portal_form():
    sim = Simulator(clock=VirtualClock(), name="test-widget-signin")
    client = sim.client(device="127.0.0.2", gateway=True)
    form = SignInForm(client)
    assert repr(form) == "SignInForm()"
    form.password.value = "nope"
    result = form.submit()
    assert result.status == 403 and not result.online
    assert form.out.outputs[-1]["text"].startswith("403: Unknown user or wrong password")
    form.password.value = "letmein"
    form.sign_in.click()  # the button does what submit() does
    assert not sim.gateway.portal.state("127.0.0.2").captive
    assert form.out.outputs[-1]["text"] == "200: online for 3600 s\n"
    assert len(form.out.outputs) == 1, "each answer replaces the previous one"
    form.sign_out.click()
    assert sim.gateway.portal.state("127.0.0.2").captive


def test_portal_modes_switches_the_gateway_and_shows_the_survey():
    sim = Simulator(clock=VirtualClock(start=time.time()), name="test-widget-modes")
    modes = PortalModes(sim.gateway)
    assert repr(modes) == "PortalModes(mode='rfc6585')"
    assert modes.out.outputs[0]["text"].startswith("mode rfc6585:")
    modes.mode.value = "cacheable"
    assert sim.gateway.mode == "cacheable"
    assert modes.out.outputs[0]["text"].startswith("mode cacheable:")
    assert len(modes.out.outputs) == 2  # the heading and one table, not an accumulating log
    rows = modes.show("spoof")
    assert sim.gateway.mode == "spoof" and modes.mode.value == "spoof"
    assert rows == modes.rows
    assert {r.client for r in rows} == {"browser", "API client", "Android probe", "Apple probe", "Chromium probe",
                                       "Firefox probe", "NetworkManager probe", "Windows probe", "shared cache"}
    assert {r.status for r in rows} == {200}


def test_sign_in_form_shows_a_dead_client_instead_of_failing_silently():
    sim = Simulator(clock=VirtualClock(), name="test-widget-closed")
    client = sim.client(device="127.0.0.2", gateway=True)
    form = SignInForm(client)
    client.close()
    form.password.value = "letmein"
    assert form.submit() is None
    assert form.out.outputs[-1]["text"].startswith("no answer: RuntimeError")
