"""maj@k (cons@k): the expected accuracy of a majority vote over k of a problem's n samples.

A problem's n responses fall into answer classes: the correct class (c responses), wrong
classes (counts m_1..m_r) and abstentions (a responses with no answer), n = c + sum m + a.
k responses are drawn without replacement, all k-subsets equally likely. Abstentions do
not vote; the class with the most votes wins, a tie between t + 1 classes is broken
uniformly at random (the correct class wins it with probability 1 / (t + 1)), and a
subset in which nobody votes scores 0. maj@k is the probability that the correct class
wins, averaged over the k-subsets. maj@1 = c / n; maj@n is 1 when the correct class is the
largest, 1 / (t + 1) when it ties t others, else 0.

Exact computation (`exact_maj_at_k`): condition on the correct class drawing j votes.
Every wrong class must draw at most j; a wrong class with fewer than j members always
does, so those classes and the abstentions are one binomial block. The classes with at
least j members go through a dynamic programme over the number of votes drawn so far.
The tie credit 1 / (t + 1) equals the integral over u in [0, 1] of (1 - u)^t, so each
tying class multiplies its tie term by (1 - u), and the integral over u (a polynomial of
degree <= the number of possible ties) is exact with Gauss-Legendre nodes. Counting
subsets with binomials C(m, x) overflows floats at n = 1024 (C(1024, 512) ~ 1e307), so
the weights are binomial probabilities b(m, x) = C(m, x) p^x (1 - p)^(m - x) with
p = k / n: drawing each response independently with probability p and conditioning on k
drawn gives the uniform k-subset, so maj@k = E[win; k drawn] / b(n, k). Every weight is
in [0, 1]; the division by b(n, k) >= 1 / (2 sqrt(n)) costs no precision.

When the programme would cost more than EXACT_BUDGET multiply-adds (many large classes
at a large k), `maj_at_k` switches to Monte Carlo: subsets drawn in batches until the
standard error is at most MC_TARGET_SE (0.001, a tenth of a point) and reported with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Multiply-adds of one exact maj@k (one problem, one k). benchmarks/majority.py: 3.1e8 took
# 0.31 s and Monte Carlo to 0.001 on the same problem 0.41 s; Monte Carlo was slower on
# every problem measured (1.3x to 43x), so it is only a bound on the time per (problem, k).
EXACT_BUDGET = 300_000_000
# Monte Carlo stops once its standard error is at most this: 0.1 points of accuracy.
MC_TARGET_SE = 0.001
# A score lies in [0, 1], so its variance is at most 1/4 and 250,000 draws always reach
# MC_TARGET_SE; drawing stops there whatever the estimate of the variance says.
MC_MAX_DRAWS = 250_000
# At least this many draws: when every draw scores alike (a sample standard error of 0),
# the rule of three still bounds the error by 3 / 3000 = MC_TARGET_SE at 95%.
MC_MIN_DRAWS = 3000
# Multivariate hypergeometric draws held at once (draws x classes integers): ~32 MB.
_MC_CELLS = 4_000_000
# A vote count j of the correct class whose weight b(c, j) is below this fraction of
# b(n, k) is skipped: it adds at most that much to maj@k, and the k skipped terms at most
# k * 1e-16 <= 1e-12 at n = 1024 (the tests hold exact values to 1e-9).
_NEGLIGIBLE = 1e-16


@dataclass(frozen=True)
class MajorityEstimate:
    """maj@k of one problem: the value, its Monte Carlo standard error (0 when exact)."""

    value: float
    se: float = 0.0
    exact: bool = True


def _check(correct: int, wrong: Sequence[int], abstain: int, k: int) -> int:
    n = correct + sum(wrong) + abstain
    if min(correct, abstain, *wrong, 0) < 0 or 0 in wrong:
        raise ValueError(f"maj_at_k: class counts must be positive, got {correct}, {list(wrong)}, {abstain}")
    if not 1 <= k <= n:
        raise ValueError(f"maj_at_k: k = {k} must lie in 1 .. n = {n}")
    return n


class _Binomials:
    """b(m, x) = C(m, x) p^x (1 - p)^(m - x) for m <= n, 0 < p < 1, from one table of
    log factorials (math.lgamma per element would dominate the programme's time)."""

    def __init__(self, n: int, p: float) -> None:
        self.log_factorial = np.array([math.lgamma(i + 1) for i in range(n + 1)])
        self.log_p, self.log_q = math.log(p), math.log1p(-p)
        self.cache: dict[int, np.ndarray] = {}

    def pmf(self, m: int, x: np.ndarray) -> np.ndarray:
        """b(m, x), 0 where x lies outside 0 .. m."""
        x = np.asarray(x)
        inside = (x >= 0) & (x <= m)
        xs = x[inside]
        out = np.zeros(x.shape)
        lf = self.log_factorial
        out[inside] = np.exp(lf[m] - lf[xs] - lf[m - xs] + xs * self.log_p + (m - xs) * self.log_q)
        return out

    def row(self, m: int) -> np.ndarray:
        """b(m, 0 .. m), computed once per m."""
        if m not in self.cache:
            self.cache[m] = self.pmf(m, np.arange(m + 1))
        return self.cache[m]


def _deterministic(correct: int, wrong: Sequence[int]) -> float:
    """maj@n: every response votes."""
    top = max(wrong, default=0)
    if correct == 0 or correct < top:
        return 0.0
    return 1.0 / (1 + sum(1 for m in wrong if m == correct))


@lru_cache(maxsize=1024)
def _tie_quadrature(ties: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes as (1 - u) for u in [0, 1], and weights summing to 1: exact for
    the integral of a polynomial of degree `ties` in u."""
    nodes, weights = np.polynomial.legendre.leggauss(ties // 2 + 1)
    return 1.0 - (nodes + 1.0) / 2.0, weights / 2.0


def _ties(big: int, j: int, k: int) -> int:
    """The most wrong classes that can tie the correct class's j votes among k draws."""
    return min(big, (k - j) // j)


def _vote_counts(correct: int, n: int, k: int, binomials: _Binomials) -> np.ndarray:
    """The correct class's vote counts j that carry weight, and their weights b(c, j)."""
    j = np.arange(1, min(correct, k) + 1)
    weights = binomials.row(correct)[j]
    keep = weights >= _NEGLIGIBLE * binomials.pmf(n, np.array([k]))[0]
    return np.stack([j[keep], weights[keep]])


def exact_cost(correct: int, wrong: Sequence[int], abstain: int, k: int) -> int:
    """Multiply-adds `exact_maj_at_k` would spend."""
    n = _check(correct, wrong, abstain, k)
    if k == n or k == 1 or correct == 0:
        return 0
    cost = 0
    for j in _vote_counts(correct, n, k, _Binomials(n, k / n))[0].astype(int).tolist():
        big = [m for m in wrong if m >= j]
        width = k - j + 1
        nodes = _ties(len(big), j, k) // 2 + 1
        cost += len(big) * (min(j, width - 1) + 1) * nodes * width
    return cost


def exact_maj_at_k(correct: int, wrong: Sequence[int], abstain: int, k: int) -> float:
    """maj@k exactly (in floats, to ~1e-12): see the module doc for the programme."""
    n = _check(correct, wrong, abstain, k)
    if correct == 0:
        return 0.0
    if k == n:
        return _deterministic(correct, wrong)
    if k == 1:
        return correct / n
    binomials = _Binomials(n, k / n)
    total = 0.0
    for j_float, weight in _vote_counts(correct, n, k, binomials).T:
        j = int(j_float)
        big = [m for m in wrong if m >= j]
        rest = abstain + sum(m for m in wrong if m < j)
        width = k - j + 1  # the other classes draw 0 .. k - j votes
        tie_scale, weights = _tie_quadrature(_ties(len(big), j, k))
        # table[node, s]: weight of the big classes so far drawing s votes in all, none
        # above j, each tie at j scaled by (1 - u).
        table = np.zeros((len(tie_scale), width))
        table[:, 0] = 1.0
        for m in big:
            terms = binomials.row(m)[: j + 1]
            if len(tie_scale) <= j:  # few nodes, long kernels: one C-level convolution per node
                kernels = np.tile(terms, (len(tie_scale), 1))
                kernels[:, j] *= tie_scale
                table = np.stack([np.convolve(row, kernel)[:width] for row, kernel in zip(table, kernels)])
                continue
            new = np.zeros_like(table)
            for x in range(min(j, width - 1) + 1):
                factor = terms[x] * (tie_scale[:, None] if x == j else 1.0)
                new[:, x:] += factor * table[:, : width - x]
            table = new
        others = binomials.pmf(rest, k - j - np.arange(width))  # the rest draws the remainder
        total += weight * float(weights @ (table @ others))
    return total / binomials.pmf(n, np.array([k]))[0]


def monte_carlo_maj_at_k(
    correct: int, wrong: Sequence[int], abstain: int, k: int, rng: np.random.Generator,
    target_se: float = MC_TARGET_SE,
) -> MajorityEstimate:
    """maj@k from random k-subsets, drawn until the standard error is at most `target_se`
    (or MC_MAX_DRAWS drawn). Each draw scores its expected tie-break credit, 1 / (t + 1),
    rather than a coin flip: the same mean with less variance."""
    _check(correct, wrong, abstain, k)
    counts = np.array([correct, *wrong, abstain], dtype=np.int64)
    batch = max(MC_MIN_DRAWS, _MC_CELLS // len(counts))
    total = total_squares = 0.0
    drawn = 0
    while drawn < MC_MAX_DRAWS:
        size = min(batch, MC_MAX_DRAWS - drawn)
        votes = rng.multivariate_hypergeometric(counts, k, size=size)[:, :-1]
        best = votes.max(axis=1)
        winners = (votes == best[:, None]).sum(axis=1)
        scores = np.where((votes[:, 0] == best) & (best > 0), 1.0 / winners, 0.0)
        total += scores.sum()
        total_squares += (scores**2).sum()
        drawn += size
        mean = total / drawn
        se = math.sqrt(max(total_squares / drawn - mean**2, 0.0) / (drawn - 1))
        if se <= target_se:
            break
    return MajorityEstimate(mean, se, exact=False)


def maj_at_k(
    correct: int, wrong: Sequence[int], abstain: int, k: int, rng: np.random.Generator | None = None
) -> MajorityEstimate:
    """maj@k of one problem: exact when it costs at most EXACT_BUDGET, else Monte Carlo
    with `rng` (default seed 0) and its standard error."""
    if exact_cost(correct, wrong, abstain, k) <= EXACT_BUDGET:
        return MajorityEstimate(exact_maj_at_k(correct, wrong, abstain, k))
    return monte_carlo_maj_at_k(correct, wrong, abstain, k, rng or np.random.default_rng(0))
