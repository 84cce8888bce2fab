"""lm_eval_passk.adaptive against brute force: posterior means by exact Bayes over a small
prior, risks by enumerating every sequence of future samples, the estimator with
`unbiased=True` by exact fractions; the allocation's rules; and a seeded simulated study."""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import comb

import numpy as np
import pytest

from lm_eval_passk.adaptive import (
    Prior,
    allocate,
    estimate_curve,
    fit_prior,
    problem_estimates,
    problem_risk,
)
from lm_eval_passk.metrics import pass_at_k

SMALL = Prior(np.array([0.0, 0.2, 0.5, 0.9, 1.0]), np.array([0.3, 0.2, 0.1, 0.25, 0.15]))


def exact_posterior(prior: Prior, n: int, c: int) -> list[float]:
    """Bayes' rule term by term (with the binomial coefficient, which cancels)."""
    joint = [w * comb(n, c) * p**c * (1 - p) ** (n - c) for p, w in zip(prior.rates, prior.weights)]
    return [j / sum(joint) for j in joint]


def unbiased(n: int, c: int, k: int) -> float:
    return float(1 - Fraction(comb(n - c, k), comb(n, k)))


@pytest.mark.parametrize(("n", "c"), [(3, 0), (3, 3), (5, 2), (4, 1)])
def test_posterior_matches_bayes_rule(n: int, c: int) -> None:
    assert SMALL.posterior(n, c) == pytest.approx(exact_posterior(SMALL, n, c), abs=1e-12)


@pytest.mark.parametrize(("n", "c", "m"), [(2, 0, 5), (2, 1, 6), (3, 3, 7), (1, 0, 1), (4, 2, 4)])
@pytest.mark.parametrize("use_unbiased", [False, True])
def test_risk_matches_enumeration_of_every_future_sequence(n: int, c: int, m: int, use_unbiased: bool) -> None:
    """Expected squared error of the final estimate at each k, over the rate's posterior and
    all 2^(m - n) orders of the samples still to draw, each its own term."""
    ks = [1, 2, 3, 5, 8]
    post = exact_posterior(SMALL, n, c)
    expected = np.zeros(len(ks))
    for p, weight in zip(SMALL.rates, post):
        for future in itertools.product((0, 1), repeat=m - n):
            prob = weight * np.prod([p if x else 1 - p for x in future])
            if prob == 0:
                continue
            final_c = c + sum(future)
            after = exact_posterior(SMALL, m, final_c)
            for j, k in enumerate(ks):
                if use_unbiased and k <= m:
                    estimate = unbiased(m, final_c, k)
                else:
                    estimate = sum(w * (1 - (1 - q) ** k) for q, w in zip(SMALL.rates, after))
                expected[j] += prob * (estimate - (1 - (1 - p) ** k)) ** 2
    risk = problem_risk(SMALL, n, c, m, ks, unbiased=use_unbiased)
    assert risk == pytest.approx(expected, abs=1e-12)


def test_unbiased_estimates_are_chen_et_al_where_k_fits_and_bayes_beyond() -> None:
    counts = {"a": (6, 2), "b": (3, 0), "c": (4, 4), "d": (6, 5)}
    ks = [1, 2, 3, 4, 6, 10]
    values, _ = problem_estimates(counts, ks, unbiased=True)
    prior = fit_prior(counts)
    for row, (n, c) in enumerate(counts.values()):
        post = exact_posterior(prior, n, c)
        for j, k in enumerate(ks):
            want = unbiased(n, c, k) if k <= n else sum(w * (1 - (1 - p) ** k) for p, w in zip(prior.rates, post))
            assert values[row, j] == pytest.approx(want, abs=1e-9)
    curve = estimate_curve(counts, ks, unbiased=True)
    assert list(curve) == pytest.approx(values.mean(axis=0).tolist(), abs=1e-12)
    # k = 1..3 fit every problem; 4 exceeds b's 3 samples, 6 also c's 4; 10 exceeds all.
    assert curve.tail_share == [0, 0, 0, 0.25, 0.5, 1.0]
    assert curve.tail_ks == [4, 6, 10]
    assert all(lo <= v <= hi for lo, v, hi in zip(curve.low, curve, curve.high))


def test_stopped_problems_get_the_bayes_mean_and_the_deepest_chen_et_al() -> None:
    """Problems below the run's largest n: the posterior mean under the fitted prior at every
    k; problems at the largest n (here 32): Chen et al.'s estimator where k <= 32."""
    counts = {f"p{i}": pair for i, pair in enumerate([(8, 0), (8, 8), (16, 3), (8, 1), (32, 0), (8, 8), (32, 5)])}
    prior = fit_prior(counts)
    ks = [1, 4, 16, 32, 64]

    def bayes(n: int, c: int, k: int) -> float:
        return sum(w * (1 - (1 - p) ** k) for p, w in zip(prior.rates, exact_posterior(prior, n, c)))

    want = np.mean(
        [[unbiased(n, c, k) if n == 32 and k <= 32 else bayes(n, c, k) for k in ks] for n, c in counts.values()],
        axis=0,
    )
    curve = estimate_curve(counts, ks)
    assert list(curve) == pytest.approx(want.tolist(), abs=1e-9)
    assert curve.tail_ks == [16, 32, 64]  # the 8-sample problems need the prior from k = 16


def test_a_run_with_equal_n_gets_exactly_the_fixed_n_estimate() -> None:
    counts = {f"p{i}": (16, c) for i, c in enumerate([0, 1, 5, 16, 16, 9, 0, 3])}
    ks = [1, 2, 4, 8, 16]
    want = [float(sum(1 - Fraction(comb(16 - c, k), comb(16, k)) for _, c in counts.values()) / 8) for k in ks]
    assert list(estimate_curve(counts, ks)) == pytest.approx(want, abs=1e-12)


def test_fitted_prior_beats_other_priors_on_marginal_likelihood() -> None:
    rng = np.random.default_rng(3)
    rates = rng.beta(0.5, 0.5, 200)
    counts = {i: (16, int(rng.binomial(16, p))) for i, p in enumerate(rates)}

    def log_marginal(prior: Prior) -> float:
        return sum(
            np.log(sum(w * comb(n, c) * p**c * (1 - p) ** (n - c) for p, w in zip(prior.rates, prior.weights)))
            for n, c in counts.values()
        )

    fitted = fit_prior(counts)
    assert fitted.weights.sum() == pytest.approx(1.0)
    best = log_marginal(fitted)
    for other in (np.full(len(fitted.rates), 1 / len(fitted.rates)), rng.dirichlet(np.ones(len(fitted.rates)))):
        assert best > log_marginal(Prior(fitted.rates, other))


def test_first_round_then_nothing_beyond_n_max_and_deterministic() -> None:
    ids = [f"q{i}" for i in range(20)]
    assert allocate(dict.fromkeys(ids, (0, 0)), 64) == dict.fromkeys(ids, 8)
    assert allocate(dict.fromkeys(ids, (0, 0)), 4) == dict.fromkeys(ids, 4)
    done = {i: (64, j % 65) for j, i in enumerate(ids)}
    assert allocate(done, 64) == dict.fromkeys(ids, 0)
    rng = np.random.default_rng(0)
    counts = {i: (8, int(rng.integers(0, 9))) for i in ids}
    first = allocate(counts, 64)
    reordered = allocate(dict(reversed(list(counts.items()))), 64)
    assert first == reordered
    # Growth 2: a problem's next batch doubles its n, within n_max.
    assert set(first.values()) <= {0, 8}
    with pytest.raises(ValueError, match="exceeds n_max"):
        allocate({"a": (65, 1)}, 64)
    with pytest.raises(ValueError, match="0 <= c <= n"):
        allocate({"a": (8, 9)}, 64)


def test_a_loose_target_stops_and_a_tight_one_samples_every_problem_below_n_max() -> None:
    rng = np.random.default_rng(1)
    counts = {i: (8, int(rng.binomial(8, p))) for i, p in enumerate(rng.beta(0.5, 0.5, 100))}
    assert not any(allocate(counts, 128, target_sd=0.2, calibration=0.0).values())
    tight = allocate(counts, 128, target_sd=1e-6, relative_sd=1e-6)
    assert tight == dict.fromkeys(counts, 8)
    middle = allocate(counts, 128, target_sd=0.01, relative_sd=1e-6)
    assert 0 < sum(middle.values()) < sum(tight.values())


def test_solved_every_time_is_cheaper_than_never_solved() -> None:
    """Problems right in 8 of 8 add next to nothing to the curve's variance at any k; the
    never-solved ones decide the tail: a limited budget goes to the latter first."""
    counts = {f"easy{i}": (8, 8) for i in range(60)} | {f"hard{i}": (8, 0) for i in range(30)}
    counts |= {f"mid{i}": (8, 1 + i % 6) for i in range(60)}
    more = allocate(counts, 128, target_sd=0.01, calibration=0.0)
    easy = [more[i] for i in counts if i.startswith("easy")]
    hard = [more[i] for i in counts if i.startswith("hard")]
    assert sum(hard) > 0 and sum(easy) < sum(hard)


def test_calibration_share_of_never_solved_goes_deep_even_when_the_target_is_met() -> None:
    counts = {f"p{i}": (8, 8) for i in range(80)} | {f"z{i}": (8, 0) for i in range(40)}
    without = allocate(counts, 128, target_sd=0.5, calibration=0.0)
    assert not any(without.values())
    with_share = allocate(counts, 128, target_sd=0.5, calibration=0.25)
    deep = [i for i, extra in with_share.items() if extra]
    assert all(i.startswith("z") for i in deep)
    # A quarter of 40 by a hash of the id (about 10), raised to the minimum of 16.
    assert len(deep) == 16
    assert allocate(counts, 128, target_sd=0.5, calibration=0.25) == with_share  # a fixed choice
    few = {f"p{i}": (8, 8) for i in range(80)} | {f"z{i}": (8, 0) for i in range(5)}
    assert {i for i, extra in allocate(few, 128, target_sd=0.5).items() if extra} == {f"z{i}" for i in range(5)}


def simulate(rates: np.ndarray, n_max: int, seed: int) -> tuple[float, float, float]:
    """An adaptive study on known rates; (largest error over k in points, share of the fixed
    budget used, largest error of one fixed-n run of the same rates)."""
    rng = np.random.default_rng(seed)
    counts = {i: (0, 0) for i in range(len(rates))}
    while any((more := allocate(counts, n_max)).values()):
        for i, extra in more.items():
            if extra:
                counts[i] = (counts[i][0] + extra, counts[i][1] + int(rng.binomial(extra, rates[i])))
    ks = np.arange(1, n_max + 1)
    truth = (1 - (1 - rates[None, :]) ** ks[:, None]).mean(axis=1)
    error = 100 * np.abs(np.array(estimate_curve(counts, ks)) - truth).max()
    fixed = pass_at_k(n_max, rng.binomial(n_max, rates)[None, :], ks[:, None]).mean(axis=1)
    used = sum(n for n, _ in counts.values()) / (n_max * len(rates))
    return error, used, 100 * np.abs(fixed - truth).max()


def test_a_simulated_study_uses_a_fraction_of_the_budget_for_a_curve_near_fixed_n() -> None:
    """U-shaped rates (an RL model's): most solved nearly always, some never. Seeded, so the
    numbers are fixed; the bounds are loose multiples of what benchmarks/adaptive.py measures
    over many replicates (docs/BENCHMARKS.md)."""
    rng = np.random.default_rng(7)
    rates = np.where(rng.random(300) < 0.7, rng.beta(8, 0.4, 300), rng.beta(0.3, 3, 300))
    rates = rng.binomial(128, rates) / 128
    error, used, fixed_error = simulate(rates, 128, seed=8)
    assert used < 0.6
    assert error < max(1.5, 3 * fixed_error)
