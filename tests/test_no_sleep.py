"""The suite never really sleeps for backoff: the conftest guard makes sure of it."""

import asyncio
import time

import pytest

from conftest import MAX_REAL_SLEEP, RealSleepInTest
from labkit import RealClock, Simulator, VirtualClock
from labkit.retry import Backoff, RetryPolicy, run


def test_time_sleep_of_backoff_length_fails_the_test():
    with pytest.raises(RealSleepInTest, match="VirtualClock"):
        time.sleep(1.0)


def test_asyncio_sleep_of_backoff_length_fails_the_test():
    with pytest.raises(RealSleepInTest):
        asyncio.run(asyncio.sleep(0.5))


def test_tiny_sleeps_stay_allowed_for_server_polling():
    started = time.perf_counter()
    time.sleep(0.001)
    asyncio.run(asyncio.sleep(0.001))
    assert time.perf_counter() - started < MAX_REAL_SLEEP


def test_a_runner_on_the_real_clock_would_be_caught():
    # The guard catches the mistake this issue is about: backoff on a real clock.
    sim = Simulator(clock=VirtualClock(), name="no-sleep-real")
    policy = RetryPolicy(backoff=Backoff(kind="constant", base=1.0, attempts=3))
    with pytest.raises(RealSleepInTest):
        run(sim.client(), "GET", "/flaky?fail=1&key=real", policy=policy, clock=RealClock())


def test_a_minute_of_virtual_backoff_takes_milliseconds():
    clock = VirtualClock()
    sim = Simulator(clock=clock, name="no-sleep-virtual")
    policy = RetryPolicy(backoff=Backoff(kind="exponential", base=4.0, cap=32.0, attempts=5))
    started = time.perf_counter()
    result = run(sim.client(), "GET", "/flaky?fail=4&key=minute", policy=policy, clock=clock)
    wall = time.perf_counter() - started
    assert result.ok and result.elapsed == 4 + 8 + 16 + 32
    assert clock.slept == 60.0
    assert wall < 0.5, f"{wall:.3f} s of real time for a virtual minute"


@pytest.mark.allow_sleep
def test_allow_sleep_marker_exempts_a_test():
    time.sleep(MAX_REAL_SLEEP)  # would raise without the marker
