"""The exercise's self-checks: the reference policy passes all, broken policies fail the right ones."""

import pytest

from labkit.labs import EXPERIMENTS, check_policy, run_experiment
from labkit.retry import Backoff, Decision, RetryPolicy


def failed(report):
    return set(report.loc[~report["passed"], "check"])


def test_the_reference_policy_passes_every_check():
    report = check_policy(RetryPolicy())
    assert len(report) == 14
    assert report["passed"].all(), report.loc[~report["passed"]].to_string()


def naive(outcome, *, attempt, **_):
    # Retries everything, at once: what the seed page itself warns clients not to assume
    # safe ("Immediate retries are always safe or effective.").
    code = getattr(outcome, "status_code", None)
    if code is not None and code < 400:
        return Decision("done")
    return Decision("retry", 0.0, "always") if attempt < 50 else Decision("stop")


def test_a_naive_policy_fails_the_checks_it_should():
    bad = failed(check_policy(naive))
    assert bad == {
        "Retry-After in seconds is honoured",
        "Retry-After as an HTTP-date is honoured",
        "429: waits as the rate limiter asks",
        "401: refresh the credentials once, then retry",
        "404 is not retried",
        "400 is not retried",
        "a lost POST reply is not retried blindly",
        "511: sign in to the network, then retry",
        "511 from the origin (POST): stop, no sign-in",
        "a server that keeps failing: give up, and back off",
    }


def test_ignoring_retry_after_is_caught():
    policy = RetryPolicy(backoff=Backoff(kind="constant", base=1.0, attempts=5), respect_retry_after=False)
    assert failed(check_policy(policy)) >= {"Retry-After in seconds is honoured"}


def test_tuples_are_accepted_and_garbage_is_a_failed_check():
    def as_tuple(outcome, *, attempt, **_):
        return ("done", 0.0, "") if getattr(outcome, "status_code", 500) < 400 else ("stop", 0.0, "no")
    report = check_policy(as_tuple)
    assert report.loc[report["check"] == "404 is not retried", "passed"].item()
    broken = check_policy(lambda outcome, **_: "retry")
    assert not broken["passed"].any()
    assert "must return a Decision" in broken["detail"].iloc[0]


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiment_runs_and_ends_well_under_the_default_policy(name):
    policy = RetryPolicy()
    if name == "outage":  # 30 s down: the default 5 attempts (~4 s of backoff) give up first
        assert not run_experiment(name, policy=policy, seed=1)[0].ok
        policy = RetryPolicy(backoff=Backoff(kind="exponential", base=1.0, cap=30.0, attempts=8))
    result, _ = run_experiment(name, policy=policy, seed=1)
    if name in ("lost order reply", "order still processing"):
        assert result.decision == "stop"  # POST without a key: not retried
        result, sim = run_experiment(name, policy=RetryPolicy(), idempotency_key=True)
        assert sim.client().get("/orders?key=lab").json()["count"] == 1
    if name == "511 from the origin":  # ends well: no sign-in, no repeat
        assert (result.decision, len(result.attempts)) == ("stop", 1)
        return
    if name == "portal lockout":  # ends well: the loop stops, the person waits
        assert (result.decision, result.status, len(result.attempts)) == ("stop", 429, 1)
        return
    assert result.ok, result.timeline


def test_unknown_experiment():
    with pytest.raises(ValueError, match="unknown experiment"):
        run_experiment("teapot")


def test_the_solution_in_notebook_03_passes():
    # Kept in step with the <details> solution of notebooks/03-retry-and-backoff.ipynb.
    import httpx

    import labkit
    from labkit.retry import IDEMPOTENT_METHODS, parse_retry_after

    def my_policy(outcome, *, attempt, method, idempotency_key, **context):
        safe = method in IDEMPOTENT_METHODS or idempotency_key
        if isinstance(outcome, httpx.TransportError):
            if safe and attempt < 5:
                return Decision("retry", min(30, 0.5 * 2 ** (attempt - 1)), "network error")
            return Decision("stop", 0.0, "not safe to repeat, or out of attempts")
        status = outcome.status_code
        if status < 400:
            return Decision("done", 0.0, "success")
        if status == 511:
            who = labkit.attribute(labkit.Exchange.build(status, list(outcome.headers.multi_items())))
            if who.generated_by == "origin":
                return Decision("stop", 0.0, "an origin's 511: a broken server, not a portal")
            if context["signed_in"]:
                return Decision("stop", 0.0, "still 511")
            return Decision("sign-in", 0.0, "sign in to the network")
        if status == 401:
            if context["refreshed"]:
                return Decision("stop", 0.0, "refused twice")
            return Decision("refresh", 0.0, "refresh once")
        if status in (408, 429, 500, 502, 503, 504) and safe and attempt < 5:
            wait = parse_retry_after(outcome.headers.get("retry-after"), now=context["now"])
            if wait is None:
                wait = min(30, 0.5 * 2 ** (attempt - 1))
            return Decision("retry", min(wait, 60), "transient")
        return Decision("stop", 0.0, "not worth repeating")

    report = check_policy(my_policy)
    assert report["passed"].all(), report.loc[~report["passed"]].to_string()
