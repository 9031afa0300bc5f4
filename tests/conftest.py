import pytest


@pytest.fixture
def anyio_backend():
    # Async tests use anyio's pytest plugin (installed with httpx) on asyncio.
    return "asyncio"


# -- Nothing in the suite really sleeps for backoff or expiry (issue 5) ----------
# Tests wait through a VirtualClock. This guard makes a real time.sleep or
# asyncio.sleep of 0.05 s or more, on the test's own thread, fail the test. Shorter
# sleeps stay allowed (LoopbackServer.start polls every 2 ms), and so do server
# threads (uvicorn's loop ticks with asyncio.sleep(0.1)). Browser tests, which
# wait for a real Chromium, and tests marked allow_sleep are exempt.
# (Code that did `from time import sleep` at import time bypasses this.)
import asyncio as _asyncio
import sys as _sys
import threading as _threading
import time as _time

MAX_REAL_SLEEP = 0.05


class RealSleepInTest(AssertionError):
    """A test slept for real: wait through a VirtualClock instead."""


def pytest_configure(config):
    config.addinivalue_line("markers", "allow_sleep: this test may really sleep (exempt from the no-sleep guard)")


@pytest.fixture(autouse=True)
def _no_real_sleep(request, monkeypatch):
    if request.node.get_closest_marker("allow_sleep") or request.node.get_closest_marker("browser"):
        yield
        return
    real_sleep, real_asleep = _time.sleep, _asyncio.sleep
    guarded = _threading.current_thread()

    def check(seconds):
        # Only labkit's and the tests' own waits count: the standard library polls
        # with short sleeps of its own (subprocess.wait backs off up to 0.05 s).
        caller = _sys._getframe(2).f_globals.get("__name__", "")
        if not (caller.startswith("labkit") or caller.startswith("test") or caller == "conftest"):
            return
        if seconds >= MAX_REAL_SLEEP and _threading.current_thread() is guarded:
            raise RealSleepInTest(
                f"a test slept {seconds!r} s for real; use a VirtualClock (labkit.VirtualClock) "
                "so backoff and expiry take no time"
            )

    def sleep(seconds):
        check(seconds)
        return real_sleep(seconds)

    def asleep(delay, result=None):
        check(delay)  # at call time, so the caller's frame is the one judged
        return real_asleep(delay, result)

    monkeypatch.setattr(_time, "sleep", sleep)
    monkeypatch.setattr(_asyncio, "sleep", asleep)
    yield


# -- Notebook 05 runs real clients: Chromium, curl, wget, ... ------------------------
# Its committed table was measured with every client present, so where one is
# missing nbval would fail on a difference that says nothing about labkit. It
# counts as a browser test (it launches Chromium): `-m "not browser"` leaves it
# out, and it is skipped, with the missing clients named, where one is absent.
# (This hook sees every collected item, notebooks included.)
REAL_CLIENTS_NOTEBOOK = "05-real-clients.ipynb"


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    notebook = [item for item in items if item.path.name == REAL_CLIENTS_NOTEBOOK]
    if not notebook:
        return
    from labkit.labs import missing_clients

    missing = missing_clients()
    for item in notebook:
        item.add_marker(pytest.mark.browser)
        if missing:
            item.add_marker(pytest.mark.skip(
                reason=f"not installed here: {', '.join(missing)} (make test installs them as root)"))
