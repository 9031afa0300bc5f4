"""Real retry libraries against the lab (labkit.labs.retry_libraries), checked three ways.

- The run's facts against each library's documented behaviour, read from the installed library where it
  states it (a class constant, a signature default) and from its documentation otherwise.
- Notebook 03's committed table against a fresh run, so the notebook cannot drift from what the
  libraries really do.
- ``labkit retry-libraries``: JSON that parses, rows with every key, bad input refused with exit code 2.
"""

from __future__ import annotations

import inspect
import json
import math
import time
from pathlib import Path

import nbformat
import pytest

from labkit.cli import main
from labkit.labs import (
    LIBRARIES,
    LIBRARY_CASES,
    LIBRARY_CONFIGS,
    retry_libraries,
    retry_library_table,
    whole,
)

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"library", "config", "case", "attempts", "waits", "retry_after_honoured", "post_retried",
        "duplicate_orders", "final_status", "error", "on_511", "setup"}


@pytest.fixture(scope="module")
def matrix():
    started = time.perf_counter()
    sleep = time.sleep
    rows = retry_libraries()
    wall = time.perf_counter() - started
    assert time.sleep is sleep, "time.sleep was not restored"
    return {(r.library, r.config, r.case): r for r in rows}, wall


def row(matrix, library, config, case):
    return matrix[0][library, config, case]


# -- nothing really sleeps -------------------------------------------------------------------------

def test_the_whole_matrix_waits_on_the_virtual_clock(matrix):
    rows, wall = matrix
    assert len(rows) == len(LIBRARIES) * 2 * len(LIBRARY_CASES)
    virtual = sum(sum(r.waits) for r in rows.values())
    # Months of backoff (backoff's unbounded defaults) in a few seconds of real time.
    assert virtual > 1e6
    assert wall < 60, f"{wall:.1f} s of real time"
    assert wall < virtual / 10_000


def test_every_wait_is_recorded(matrix):
    for r in matrix[0].values():
        if r.library != "urllib3":  # urllib3 is counted by its waits; the others by their attempts
            assert len(r.waits) in (r.attempts - 1, r.attempts), r  # LabStopped: one wait, no attempt


# -- each library's documented behaviour, and what it did -------------------------------------------

def test_urllib3_defaults_as_documented():
    from urllib3.util import Retry

    assert Retry.DEFAULT.total == 3
    assert "POST" not in Retry.DEFAULT_ALLOWED_METHODS
    assert Retry().respect_retry_after_header is True
    assert not Retry().status_forcelist  # no status is retried unless named...
    assert Retry.RETRY_AFTER_STATUS_CODES == frozenset({413, 429, 503})  # ...or it carries Retry-After
    assert Retry().backoff_factor == 0


def test_httpx_retries_defaults_as_documented():
    from httpx_retries import Retry

    retry = Retry()
    assert retry.total == 10 and retry.backoff_factor == 0 and retry.backoff_jitter == 1.0
    assert retry.respect_retry_after_header is True
    assert set(retry.status_forcelist) == {429, 502, 503, 504}
    assert "POST" not in retry.allowed_methods


def test_tenacity_defaults_as_documented():
    import tenacity

    retrying = tenacity.Retrying()
    assert isinstance(retrying.wait, tenacity.wait_none)  # "don't wait between retries"
    assert retrying.stop is tenacity.stop_never  # "retry forever"


def test_stamina_defaults_as_documented():
    import stamina

    params = inspect.signature(stamina.retry).parameters
    assert params["on"].default is inspect.Parameter.empty  # "you *must* pass *on* explicitly"
    assert params["attempts"].default == 10 and params["timeout"].default == 45.0
    assert (params["wait_initial"].default, params["wait_max"].default, params["wait_jitter"].default) == (0.1, 5.0, 1.0)


def test_backoff_defaults_as_documented():
    import backoff

    params = inspect.signature(backoff.on_exception).parameters
    assert params["max_tries"].default is None and params["max_time"].default is None
    assert params["jitter"].default is backoff.full_jitter


# (library, config, case) -> what the run must show, and why.
FACTS = [
    # urllib3: retries a status only if status_forcelist names it, or it is 413/429/503 with Retry-After.
    ("urllib3", "defaults", "flaky", dict(attempts=1, final_status=503)),
    ("urllib3", "recommended", "flaky", dict(attempts=1, final_status=503)),
    # respect_retry_after_header defaults to True; both forms parsed (parse_retry_after).
    ("urllib3", "defaults", "ratelimit", dict(waits=[10.0], retry_after_honoured=True, final_status=200)),
    ("urllib3", "defaults", "unavailable-seconds", dict(waits=[45.0], retry_after_honoured=True, final_status=200)),
    ("urllib3", "defaults", "unavailable-date", dict(retry_after_honoured=True, final_status=200, attempts=2)),
    ("urllib3", "recommended", "unavailable-date", dict(retry_after_honoured=True, final_status=200, attempts=2)),
    # DEFAULT_ALLOWED_METHODS excludes POST: never retried, one order.
    ("urllib3", "defaults", "post", dict(attempts=1, post_retried=False, duplicate_orders=0)),
    ("urllib3", "recommended", "post", dict(attempts=1, post_retried=False, duplicate_orders=0)),
    ("urllib3", "defaults", "511", dict(attempts=1, final_status=511, on_511="not retried: returned the 511")),
    # httpx-retries: 503 is in its default status list; backoff_factor 0 means no wait.
    ("httpx-retries", "defaults", "flaky", dict(attempts=3, waits=[0.0, 0.0], final_status=200)),
    ("httpx-retries", "defaults", "ratelimit", dict(waits=[10.0], retry_after_honoured=True, final_status=200)),
    ("httpx-retries", "defaults", "unavailable-date", dict(retry_after_honoured=True, final_status=200, attempts=2)),
    ("httpx-retries", "recommended", "unavailable-seconds", dict(waits=[45.0], retry_after_honoured=True)),
    ("httpx-retries", "defaults", "post-idempotency-key", dict(attempts=1, post_retried=False, duplicate_orders=0)),
    ("httpx-retries", "recommended", "511", dict(attempts=1, final_status=511)),
    # tenacity: retry forever on any exception, no wait.
    ("tenacity", "defaults", "flaky", dict(attempts=3, waits=[0.0, 0.0], final_status=200)),
    ("tenacity", "defaults", "511", dict(attempts=25, retry_after_honoured=None, final_status=None)),
    ("tenacity", "defaults", "unavailable-seconds", dict(attempts=25, retry_after_honoured=False)),
    ("tenacity", "recommended", "511", dict(attempts=7, final_status=None)),  # stop_after_attempt(7)
    # stamina: retries on the exceptions named in on=, whatever the method; 10 attempts by default.
    ("stamina", "defaults", "post", dict(attempts=2, post_retried=True, duplicate_orders=1, final_status=201)),
    ("stamina", "defaults", "post-idempotency-key", dict(attempts=2, post_retried=True, duplicate_orders=0)),
    ("stamina", "defaults", "511", dict(attempts=10, final_status=None)),
    ("stamina", "recommended", "unavailable-date", dict(attempts=3, retry_after_honoured=False)),
    # backoff: expo with jitter=None waits 1, 2, 4, ...; max_tries=8 is eight calls.
    ("backoff", "recommended", "flaky", dict(waits=[1.0, 2.0], final_status=200)),
    ("backoff", "recommended", "511", dict(attempts=8, waits=[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0])),
    ("backoff", "defaults", "post", dict(post_retried=True, duplicate_orders=1)),
    ("backoff", "defaults", "511", dict(attempts=25, final_status=None)),
]


@pytest.mark.parametrize("library, config, case, expected", FACTS,
                         ids=[f"{lib}-{cfg}-{case}" for lib, cfg, case, _ in FACTS])
def test_fact(matrix, library, config, case, expected):
    got = row(matrix, library, config, case).to_dict()
    assert {k: got[k] for k in expected} == expected


def test_the_date_form_is_waited_out_to_the_second(matrix):
    # urllib3 and httpx-retries measure the date against the wall clock, which the lab's clock leads
    # by less than a second (the module's docstring): the wait is 45 s and that fraction.
    for library in ("urllib3", "httpx-retries"):
        for config in ("defaults", "recommended"):
            waits = row(matrix, library, config, "unavailable-date").waits
            assert len(waits) == 1 and 45 <= waits[0] < 46, (library, config, waits)


def test_only_function_retriers_resend_a_post(matrix):
    for r in matrix[0].values():
        if r.case in ("post", "post-idempotency-key"):
            function_level = r.library in ("tenacity", "stamina", "backoff")
            assert r.post_retried is function_level, r
            assert r.duplicate_orders == (1 if function_level and r.case == "post" else 0), r


def test_no_library_honours_what_it_never_reads(matrix):
    for r in matrix[0].values():
        if r.case in ("ratelimit", "unavailable-seconds", "unavailable-date"):
            assert r.retry_after_honoured is (r.library in ("urllib3", "httpx-retries")), r
        else:
            assert r.retry_after_honoured is None


def test_stamina_timeout_never_applied(matrix):
    # stamina's timeout (45 s) runs on time.monotonic, which virtual waits do not move: the rows are
    # what stamina would do only while its waits stay under it, as they did here.
    for r in matrix[0].values():
        if r.library == "stamina":
            assert sum(r.waits) < 45, r


def test_stamina_waits_within_its_documented_bounds(matrix):
    # min(wait_max, wait_initial * 2**(n - 1) + uniform(0, wait_jitter)), n = 1 for the first retry.
    waits = row(matrix, "stamina", "defaults", "511").waits
    for n, wait in enumerate(waits, start=1):
        low = min(5.0, 0.1 * 2 ** (n - 1))
        assert low <= wait <= min(5.0, low + 1.0), (n, wait)


def test_runs_repeat_exactly():
    first = retry_libraries(libraries=["stamina", "backoff"], cases=["flaky"])
    again = retry_libraries(libraries=["stamina", "backoff"], cases=["flaky"])
    assert first == again


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match="unknown library 'requests'.*urllib3"):
        retry_libraries(libraries=["requests"])
    with pytest.raises(ValueError, match="unknown case"):
        retry_libraries(cases="nope")


def test_every_config_names_its_source():
    assert set(LIBRARY_CONFIGS) == {(lib, cfg) for lib in LIBRARIES for cfg in ("defaults", "recommended")}
    for config in LIBRARY_CONFIGS.values():
        assert config.setup and config.source


# -- notebook 03 shows what the libraries do --------------------------------------------------------

def _cell_text(cell_id: str) -> str:
    nb = nbformat.read(ROOT / "notebooks" / "03-retry-and-backoff.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    return "".join(o["data"]["text/plain"] for o in cell.outputs if o["output_type"] == "execute_result")


def test_notebook_table_is_what_the_libraries_do(matrix):
    rows = list(matrix[0].values())
    assert _cell_text("a3c51b13") == repr(whole(retry_library_table(rows)))


def test_notebook_reading_matches_the_run(matrix):
    nb = nbformat.read(ROOT / "notebooks" / "03-retry-and-backoff.ipynb", as_version=4)
    text = " ".join(next(c for c in nb.cells if c.get("id") == "a3c51b14").source.split())
    rows = matrix[0]
    # "stamina gave up after 10 attempts, under 25 s of waiting"
    r = row(matrix, "stamina", "defaults", "unavailable-seconds")
    assert "stamina gave up after 10 attempts, under 25 s" in text and r.attempts == 10 and sum(r.waits) < 25
    # "backoff got its 200 ... after 6 retries that came too early (defaults) or 5 (recommended)"
    for config, early in (("defaults", 6), ("recommended", 5)):
        r = rows["backoff", config, "unavailable-seconds"]
        came_back = [sum(r.waits[:i + 1]) for i in range(len(r.waits))]
        assert sum(t < 45 for t in came_back) == early and r.final_status == 200
    assert "after 6 retries that came too early (defaults) or 5 (recommended)" in text
    # "tenacity's recommended set-up 7, backoff's 8"
    assert rows["tenacity", "recommended", "511"].attempts == 7 and rows["backoff", "recommended", "511"].attempts == 8
    assert "tenacity's recommended set-up 7, backoff's 8" in text


def test_notebook_configs_table_is_the_configs():
    text = _cell_text("a3c51b11")
    for config in LIBRARY_CONFIGS.values():
        assert config.setup in text and config.source in text


# -- the command ------------------------------------------------------------------------------------

def test_cli_json(capsys):
    assert main(["retry-libraries", "--json", "--library", "urllib3", "--case", "511", "--case", "flaky"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["rows"]) == 4
    for r in doc["rows"]:
        assert set(r) == KEYS
    assert {r["case"] for r in doc["rows"]} == {"511", "flaky"}


def test_cli_text(capsys):
    assert main(["retry-libraries", "--library", "httpx-retries", "--case", "post", "--config", "defaults"]) == 0
    out = capsys.readouterr().out
    assert "httpx-retries" in out and "RemoteProtocolError" in out and "duplicate orders" in out


@pytest.mark.parametrize("argv", [["--library", "requests"], ["--case", "teapot"], ["--config", "best"]])
def test_cli_bad_input_exits_2(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(["retry-libraries", *argv])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_no_wait_is_nan_or_negative(matrix):
    for r in matrix[0].values():
        assert all(math.isfinite(w) and w >= 0 for w in r.waits), r
