"""Retry and backoff: schedules, the retry decision, a runner on an injected clock,
the same policy in tenacity, and the thundering-herd simulation."""

from ._checks import Check, check_policy
from ._experiments import EXPERIMENTS, Experiment, run_experiment
from ._herd import SCENARIOS, HerdResult, compare_schedules, herd_over_http, simulate_herd
from ._policy import (
    IDEMPOTENT_METHODS,
    RETRY_STATUSES,
    Decision,
    RetryPolicy,
    parse_retry_after,
)
from ._runner import Attempt, RetryResult, arun, run
from ._schedules import SCHEDULES, Backoff
from ._tenacity import arun_tenacity, run_tenacity, tenacity_waits

__all__ = [
    "Attempt",
    "Backoff",
    "Check",
    "Decision",
    "EXPERIMENTS",
    "Experiment",
    "HerdResult",
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "RetryPolicy",
    "RetryResult",
    "SCENARIOS",
    "SCHEDULES",
    "arun",
    "arun_tenacity",
    "check_policy",
    "compare_schedules",
    "herd_over_http",
    "parse_retry_after",
    "run",
    "run_experiment",
    "run_tenacity",
    "simulate_herd",
    "tenacity_waits",
]
