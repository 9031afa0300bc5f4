"""Retry and backoff: schedules, the retry decision, a runner on an injected clock,
the same policy in tenacity, and the thundering-herd simulation."""

from ._herd import (
    HERD_SCENARIOS,
    RETRY_AFTER_FORMS,
    Contention,
    HerdResult,
    Outage,
    compare_retry_after,
    compare_schedules,
    compare_sizes,
    simulate_herd,
)
from ._policy import (
    IDEMPOTENT_METHODS,
    RETRY_STATUSES,
    Decision,
    RetryPolicy,
    parse_retry_after,
    refused_connect,
)
from ._runner import Attempt, RetryResult, arun, run
from ._schedules import SCHEDULES, Backoff
from ._tenacity import arun_tenacity, run_tenacity, tenacity_waits

__all__ = [
    "Attempt",
    "Backoff",
    "Contention",
    "Decision",
    "HERD_SCENARIOS",
    "HerdResult",
    "IDEMPOTENT_METHODS",
    "Outage",
    "RETRY_AFTER_FORMS",
    "RETRY_STATUSES",
    "RetryPolicy",
    "RetryResult",
    "SCHEDULES",
    "arun",
    "arun_tenacity",
    "compare_retry_after",
    "compare_schedules",
    "compare_sizes",
    "parse_retry_after",
    "refused_connect",
    "run",
    "run_tenacity",
    "simulate_herd",
    "tenacity_waits",
]
