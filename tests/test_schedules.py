"""Backoff schedules: bounds, cap, reproducibility (property tests), and the AWS formulas."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.retry import SCHEDULES, Backoff

bases = st.floats(min_value=0.001, max_value=10.0, allow_nan=False)
factors = st.floats(min_value=1.0, max_value=1000.0, allow_nan=False)
kinds = st.sampled_from(SCHEDULES)
seeds = st.integers(min_value=0, max_value=2**32)
retry_numbers = st.integers(min_value=0, max_value=200)


def make(kind, base, factor, attempts=12):
    return Backoff(kind=kind, base=base, cap=base * factor, attempts=attempts)


@settings(max_examples=200, deadline=None)
@given(kinds, bases, factors, seeds)
def test_every_delay_is_within_zero_and_cap(kind, base, factor, seed):
    backoff = make(kind, base, factor)
    for d in backoff.delays(seed=seed):
        assert 0.0 <= d <= backoff.cap


@settings(max_examples=200, deadline=None)
@given(kinds, bases, factors, seeds)
def test_same_seed_same_delays_and_attempts_minus_one_of_them(kind, base, factor, seed):
    backoff = make(kind, base, factor)
    first = backoff.delays(seed=seed)
    assert first == backoff.delays(seed=seed)
    assert len(first) == backoff.attempts - 1


@settings(max_examples=100, deadline=None)
@given(bases, factors, retry_numbers)
def test_exponential_is_base_times_two_to_the_n_capped(base, factor, n):
    backoff = make("exponential", base, factor)
    assert backoff.delay(n, random.Random(0)) == pytest.approx(min(backoff.cap, base * 2.0**n))


@settings(max_examples=100, deadline=None)
@given(bases, factors, seeds)
def test_exponential_never_shrinks_and_reaches_the_cap(base, factor, seed):
    backoff = make("exponential", base, factor, attempts=80)
    delays = backoff.delays(seed=seed)
    assert delays == sorted(delays)
    assert delays[-1] == pytest.approx(backoff.cap)


@settings(max_examples=100, deadline=None)
@given(bases, factors, retry_numbers, seeds)
def test_full_and_equal_jitter_ranges(base, factor, n, seed):
    t = min(base * factor, base * 2.0**n)
    full = make("full", base, factor).delay(n, random.Random(seed))
    equal = make("equal", base, factor).delay(n, random.Random(seed))
    assert 0.0 <= full <= t * (1 + 1e-12)
    assert t / 2 <= equal <= t * (1 + 1e-12)


@settings(max_examples=100, deadline=None)
@given(bases, factors, seeds)
def test_decorrelated_stays_between_base_and_three_times_previous(base, factor, seed):
    backoff = make("decorrelated", base, factor, attempts=40)
    previous = base
    for d in backoff.delays(seed=seed):
        assert min(base, backoff.cap) <= d <= min(backoff.cap, 3 * previous) * (1 + 1e-12)
        previous = d


@settings(max_examples=50, deadline=None)
@given(bases, factors, seeds)
def test_constant_is_base_every_time(base, factor, seed):
    assert set(make("constant", base, factor).delays(seed=seed)) == {base}


def test_jitter_actually_spreads_clients():
    # Different seeds (clients) must not share delays, or jitter does nothing.
    full = Backoff(kind="full", base=1, cap=60, attempts=6)
    rows = {tuple(full.delays(seed=s)) for s in range(50)}
    assert len(rows) == 50
    exp = Backoff(kind="exponential", base=1, cap=60, attempts=6)
    assert len({tuple(exp.delays(seed=s)) for s in range(50)}) == 1


def test_full_jitter_mean_is_half_the_exponential_delay():
    # Statistical sanity of the distribution (fixed seed, so deterministic).
    rng = random.Random(7)
    b = Backoff(kind="full", base=1, cap=64)
    samples = [b.delay(4, rng) for _ in range(20000)]
    assert sum(samples) / len(samples) == pytest.approx(8.0, rel=0.03)


def test_none_waits_nothing_and_constant_waits_base():
    # The article's "no backoff" retries at once; a fixed wait is "constant" ("fixed").
    assert Backoff(kind="none", base=2, attempts=4).delays() == [0.0, 0.0, 0.0]
    assert Backoff(kind="constant", base=2, attempts=4).delays() == [2, 2, 2]
    assert Backoff(kind="fixed").kind == "constant"
    assert SCHEDULES == ("none", "constant", "exponential", "full", "equal", "decorrelated")


@settings(max_examples=100, deadline=None)
@given(bases, factors, retry_numbers)
def test_the_articles_numbering_doubles_every_wait_below_the_cap(base, factor, n):
    # first_exponent=1: t = min(cap, base * 2**(n + 1)), the article's simulator
    # (it counts the failed attempt before computing the wait).
    zero = make("exponential", base, factor)
    article = Backoff(kind="exponential", base=base, cap=base * factor, first_exponent=1)
    assert article.delay(n, random.Random(0)) == pytest.approx(min(article.cap, base * 2.0 ** (n + 1)))
    doubled = min(zero.cap, 2 * zero.delay(n, random.Random(0)))
    assert article.delay(n, random.Random(0)) == pytest.approx(doubled)


def test_the_articles_numbering_leaves_the_others_alone():
    for kind in ("none", "constant", "decorrelated"):
        zero = Backoff(kind=kind, base=0.5, cap=30, attempts=8).delays(seed=4)
        assert Backoff(kind=kind, base=0.5, cap=30, attempts=8, first_exponent=1).delays(seed=4) == zero
    # full and equal draw from the doubled t: first wait within [0, 2 * base] and [base, 2 * base].
    rng = random.Random(1)
    full = [Backoff(kind="full", base=1, cap=64, first_exponent=1).delay(0, rng) for _ in range(2000)]
    equal = [Backoff(kind="equal", base=1, cap=64, first_exponent=1).delay(0, rng) for _ in range(2000)]
    assert max(full) <= 2 and max(full) > 1.9 and min(equal) >= 1 and max(equal) <= 2


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "fibonacci"}, "unknown schedule"),
        ({"base": 0}, "base must be > 0"),
        ({"base": float("nan")}, "base must be > 0"),
        ({"base": 2, "cap": 1}, "cap"),
        ({"attempts": 0}, "attempts"),
        ({"attempts": 2.5}, "attempts"),
        ({"first_exponent": -1}, "first_exponent"),
        ({"first_exponent": 0.5}, "first_exponent"),
    ],
)
def test_bad_parameters_get_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Backoff(**kwargs)


def test_table_has_one_column_per_client():
    frame = Backoff(kind="full", base=1, cap=10, attempts=4).table(clients=3, seed=1)
    assert list(frame.columns) == ["client 0", "client 1", "client 2"]
    assert list(frame.index) == [1, 2, 3]
    assert frame["client 1"].tolist() == Backoff(kind="full", base=1, cap=10, attempts=4).delays(seed=2)


def test_tenacity_builtin_waits_give_the_same_numbers():
    import tenacity

    from labkit.retry import tenacity_waits

    waits = tenacity_waits(base=0.5, cap=10)
    exp = Backoff(kind="exponential", base=0.5, cap=10, attempts=8).delays()
    const = Backoff(kind="constant", base=0.5, cap=10, attempts=8).delays()
    for n in range(7):
        state = tenacity.RetryCallState(None, None, (), {})
        state.attempt_number = n + 1  # tenacity counts the attempt that just failed
        assert waits["exponential"](state) == pytest.approx(exp[n])
        assert waits["constant"](state) == pytest.approx(const[n])
        assert 0 <= waits["full"](state) <= exp[n]
