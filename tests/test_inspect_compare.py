"""Scenarios and the comparison table; the seed page's misconfiguration; the widget."""

import pytest

from labkit import Simulator, VirtualClock, inspect
from labkit.core import Response, problem
from labkit.inspector import SCENARIOS, compare, inspect_handler, problems_of, run_scenario, seed_page_app, verdict


@pytest.fixture(scope="module")
def sim():
    return Simulator(clock=VirtualClock(), name="test-compare")


@pytest.fixture(scope="module")
def verdicts(sim):
    return {key: verdict(run_scenario(sim, key)) for key in SCENARIOS}


@pytest.mark.parametrize("key, row, expected", [
    ("401-basic", "who answers", "origin"),
    ("401-basic", "challenge", 'WWW-Authenticate: Basic realm="labkit", charset="UTF-8"'),
    ("401-bearer", "can a retry help?", "once, after refreshing the token"),
    ("407", "who answers", "gateway"),
    ("407", "challenge", 'Proxy-Authenticate: Basic realm="labkit-gateway", charset="UTF-8"'),
    ("511", "who answers", "gateway"),
    ("511", "challenge", "none (a link to the portal instead)"),
    ("511", "can a retry help?", "only after signing in to the network"),
    ("511", "findings", "0 error(s), 0 warning(s)"),
    ("511-origin", "who answers", "origin"),
    ("511-exception", "who answers", "origin"),
    ("511-exception", "challenge", "none, and no link"),
    ("511-cacheable", "may a cache store it?", "yes, wrongly (RFC 6585 forbids it)"),
    ("401-bare", "findings", "1 error(s), 0 warning(s)"),
])
def test_verdicts(verdicts, key, row, expected):
    assert verdicts[key][row] == expected


def test_every_scenario_states_a_fix_and_a_cache_answer(verdicts):
    for key, v in verdicts.items():
        assert v["what fixes it"] and v["may a cache store it?"], key
    assert verdicts["511"]["may a cache store it?"].startswith("no")
    assert verdicts["200-spoof"]["may a cache store it?"].startswith("yes")


def test_compare_is_a_dataframe_one_column_per_exchange(sim):
    df = compare({"a": run_scenario(sim, "401-basic"), "b": run_scenario(sim, "511")})
    assert list(df.columns) == ["a", "b"] and "can a retry help?" in df.index


def test_scenarios_restore_the_gateway_mode(sim):
    sim.gateway.mode = "redirect"
    run_scenario(sim, "407")
    assert sim.gateway.mode == "redirect"
    sim.gateway.mode = "rfc6585"
    with pytest.raises(ValueError, match="unknown scenario"):
        run_scenario(sim, "999")


def test_seed_page_app_answers_511_for_a_bug():
    ex = inspect_handler(seed_page_app)
    assert ex.status == 511
    ids = {f.id for f in inspect(ex)}
    assert {"511-from-origin", "511-without-link"} <= ids


def test_a_fixed_error_handler_passes():
    def fixed(request, exc):
        return problem(500, "Internal error; quote the request id when you report it.",
                       request_id=request.id or "req-1")

    ex = inspect_handler(fixed)
    assert ex.status == 500 and problems_of(ex) == []


@pytest.mark.parametrize("status, headers", [
    (511, [("content-type", "application/json")]),
    (503, [("content-type", "application/json")]),
    (500, [("content-type", "application/json"), ("cache-control", "max-age=60")]),
])
def test_half_fixes_are_still_flagged(status, headers):
    ex = inspect_handler(lambda request, exc: Response(status, list(headers), b'{"error": "x"}'))
    assert problems_of(ex)


def test_widget_shows_both_sides_and_the_table(sim):
    from labkit.widgets import CompareExchanges

    widget = CompareExchanges(sim, left="407", right="511-exception")
    left, right = widget.exchanges
    assert (left.status, right.status) == (407, 511)
    text = widget.right_out.outputs[0]["text"]
    assert "511-from-origin" in text and "< HTTP/1.1 511" in text
    widget.left.value = "401-bearer"
    widget.send.click()
    assert widget.exchanges[0].status == 401
    assert "invalid_token" in widget.left_out.outputs[0]["text"]
    assert widget.table.outputs and "text/html" in widget.table.outputs[0]["data"]
