"""Adaptive sample budgets: how many more samples each problem needs, and the pass@k curve
from unequal per-problem n (docs/ANALYSIS.md, "Adaptive sample budgets").

Pure numpy, no lm-eval import, deterministic. Beside metrics/ rather than in it: besides an
estimator it holds a sampling policy, and the round-to-round commands (lm_eval_passk/plan.py,
`lm-eval-passk adapt`) call it.

The model: problem i's samples are Bernoulli(p_i), and the p_i of a run's problems are draws
from one distribution g, fitted over all problems by maximum marginal likelihood on a grid of
rates (a nonparametric empirical-Bayes prior; EM). Problem i's estimate of pass@k is Chen
et al.'s unbiased estimator where it was sampled to the run's largest n (and k <= n), and
elsewhere the posterior mean of 1 - (1 - p)^k under g: for k > n_i the "tail estimate"; for
k <= n_i of a problem stopped early it replaces Chen et al.'s estimator, which stopping on
what was seen biases (a problem stopped after 8 of 8 right scores 1; docs/ANALYSIS.md).
`unbiased=True` uses Chen et al.'s wherever k <= n_i. A run with equal n gets exactly the
fixed-n estimate. A problem's risk at k is the posterior expected
squared error of its estimate; the curve's variance at k is the sum of risks over P^2.
`allocate` samples, round by round, the problems whose next batch lowers that variance most
per sample, until the largest variance over k meets the target.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lm_eval_passk.metrics import pass_at_k

Counts = Mapping[Hashable, tuple[int, int]]

# Default precision target: the standard deviation of the curve at every k, in probability
# units. 0.0027 keeps the median of the largest error over k = 1..128 under 0.5 points and
# its 90th percentile near 0.8 on 500 problems (0.0035 gave medians of 0.48 to 0.58;
# benchmarks/adaptive.py, docs/BENCHMARKS.md).
DEFAULT_TARGET_SD = 0.0027
# The first round's samples per problem: enough that a problem solved every time is seen
# as such, few enough that a third of a 128-sample budget is left for the rest.
DEFAULT_FIRST_ROUND = 8
# A problem's n at most doubles per round (8, 16, ..., 128: at most 5 rounds after the
# first): growth 4 (8, 32, 128) used 41% of the budget against 25% at the same target in
# simulation (docs/BENCHMARKS.md).
DEFAULT_GROWTH = 2
# The rates grid of the prior: 0, 1, and logit-spaced points between 1e-4 and 1 - 1e-4.
_GRID = np.concatenate([[0.0], 1.0 / (1.0 + np.exp(-np.linspace(-9.2, 9.2, 121))), [1.0]])
_EM_STEPS = 3000
# The allocation's risk is computed on at most this many k (geometric over the requested
# range): the curve is smooth in k, and 128 separate k would cost 10x for nothing.
_RISK_KS = 12
# The curve's sd need not go below 1.15 times the fixed-n_max design's (under the same prior):
# on fewer problems the absolute target is out of reach (fixed n's own sd scales as
# 1/sqrt(P)), and at 1.0 a 300-problem study sampled every problem to n_max.
DEFAULT_RELATIVE_SD = 1.15
# The share of never-solved problems sampled to n_max whatever their risk (see allocate).
DEFAULT_CALIBRATION = 0.25
# ... and at least this many of them (all if fewer): a quarter of 20 never-solved problems
# left the prior's mass near 0 to 5 deep problems, and pass@128 of the others off by 0.7 points.
MIN_CALIBRATION = 16


def _uniform(key: Hashable) -> float:
    """A fixed pseudo-random number in [0, 1) per problem id (sha256 of its repr)."""
    return int.from_bytes(hashlib.sha256(repr(key).encode()).digest()[:8], "big") / 2**64


@dataclass(frozen=True)
class Prior:
    """A distribution of per-problem rates on a grid: `weights[j]` is the mass at `rates[j]`."""

    rates: np.ndarray
    weights: np.ndarray

    def posterior(self, n: int, c: int) -> np.ndarray:
        """Posterior weights on the grid after c of n samples correct."""
        like = _likelihood(np.array([n]), np.array([c]), self.rates)[0]
        post = self.weights * like
        return post / post.sum()


def _likelihood(n: np.ndarray, c: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """(len(n), len(rates)) binomial likelihoods without the binomial coefficient."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(c[:, None] > 0, c[:, None] * np.log(rates[None, :]), 0.0)
        logq = np.where((n - c)[:, None] > 0, (n - c)[:, None] * np.log1p(-rates[None, :]), 0.0)
    log_like = logp + logq
    log_like = log_like - log_like.max(axis=1, keepdims=True)
    return np.exp(log_like)


def fit_prior(counts: Counts) -> Prior:
    """The grid prior maximising the marginal likelihood of every problem's (n, c)."""
    pairs = [(n, c) for n, c in counts.values() if n > 0]
    if not pairs:
        return Prior(_GRID, np.full(len(_GRID), 1.0 / len(_GRID)))
    unique, weight = np.unique(np.array(pairs, dtype=np.int64), axis=0, return_counts=True)
    like = _likelihood(unique[:, 0], unique[:, 1], _GRID)
    share = weight / weight.sum()
    w = np.full(len(_GRID), 1.0 / len(_GRID))
    for _ in range(_EM_STEPS):
        marginal = like @ w
        w = w * (like.T @ (share / marginal))
        w = w / w.sum()
    return Prior(_GRID, w)


def _posterior_mean(post: np.ndarray, rates: np.ndarray, ks: np.ndarray) -> np.ndarray:
    """Posterior mean of 1 - (1 - p)^k for each k."""
    return (1.0 - (1.0 - rates[None, :]) ** ks[:, None]) @ post


@lru_cache(maxsize=4096)
def _unbiased_table(m: int, ks: tuple[int, ...]) -> np.ndarray:
    """U[c, j] = the unbiased pass@ks[j] from c of m correct (ks[j] <= m)."""
    c = np.arange(m + 1)
    return pass_at_k(np.full((m + 1, len(ks)), m), np.repeat(c[:, None], len(ks), 1), np.array(ks)[None, :])


@lru_cache(maxsize=1024)
def _binomial_pmf(trials: int, rates_bytes: bytes) -> np.ndarray:
    """(len(rates), trials + 1) binomial probabilities (rates as bytes: a cache key)."""
    rates = np.frombuffer(rates_bytes)
    x = np.arange(trials + 1)
    log_coef = np.array([math.lgamma(trials + 1) - math.lgamma(i + 1) - math.lgamma(trials - i + 1) for i in x])
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(x[None, :] > 0, x[None, :] * np.log(rates[:, None]), 0.0)
        logq = np.where((trials - x)[None, :] > 0, (trials - x)[None, :] * np.log1p(-rates[:, None]), 0.0)
    return np.exp(log_coef[None, :] + logp + logq)


@lru_cache(maxsize=256)
def _pass_table(ks: tuple[int, ...], rates_bytes: bytes) -> np.ndarray:
    """(len(ks), len(rates)) values of 1 - (1 - p)^k."""
    rates = np.frombuffer(rates_bytes)
    return 1.0 - (1.0 - rates[None, :]) ** np.array(ks)[:, None]


def problem_risk(
    prior: Prior, n: int, c: int, m: int, ks: Sequence[int], unbiased: bool = False
) -> np.ndarray:
    """Expected squared error at each k of one problem's estimate once it has m >= n samples,
    given c of its first n correct (the expectation over its rate's posterior and the
    m - n samples still to draw). `unbiased`: the estimate where k <= m is Chen et al.'s."""
    k_arr = np.asarray(ks, dtype=np.int64)
    rates = prior.rates
    post = prior.posterior(n, c) if n > 0 else prior.weights
    key = np.ascontiguousarray(rates, dtype=np.float64).tobytes()
    joint = post[:, None] * _binomial_pmf(m - n, key)  # (rates, future correct)
    risk = np.zeros(len(k_arr))
    f = _pass_table(tuple(int(k) for k in k_arr), key)  # (ks, rates)
    low = (k_arr <= m) & unbiased
    if low.any():
        table = _unbiased_table(m, tuple(int(k) for k in k_arr[low]))[c : c + m - n + 1]  # (future, ks)
        err = table.T[:, None, :] - f[low][:, :, None]  # (ks, rates, future)
        risk[low] = np.einsum("krf,rf->k", err**2, joint)
    high = ~low
    if high.any():
        marginal = joint.sum(axis=0)  # (future,)
        kept = marginal > 0
        cond = joint[:, kept] / marginal[kept]
        fh = f[high]  # (ks, rates)
        mean = fh @ cond  # (ks, future)
        second = (fh**2) @ cond
        risk[high] = (np.maximum(second - mean**2, 0.0) * marginal[kept]).sum(axis=1)
    return risk


def _ladder_risk(prior: Prior, n: int, c: int, rungs: np.ndarray, ks: np.ndarray, unbiased: bool) -> np.ndarray:
    """problem_risk at each rung of a ladder (repeated rungs computed once)."""
    top = int(rungs[-1])
    by_m = {
        int(m): problem_risk(prior, n, c, int(m), ks, unbiased or int(m) == top)
        for m in dict.fromkeys(rungs.tolist())
    }
    return np.array([by_m[int(m)] for m in rungs])


def _risk_ks(ks: Sequence[int], n_max: int) -> np.ndarray:
    """At most _RISK_KS of the requested k, geometric over their range, always the ends."""
    ks_sorted = sorted({int(k) for k in ks if 1 <= k <= n_max}) or [1]
    if len(ks_sorted) <= _RISK_KS:
        return np.array(ks_sorted)
    picks = np.unique(np.round(np.geomspace(ks_sorted[0], ks_sorted[-1], _RISK_KS)).astype(int))
    return np.array(sorted({min(ks_sorted, key=lambda k: abs(k - p)) for p in picks}))


def allocate(
    counts: Counts,
    n_max: int,
    ks: Iterable[int] | None = None,
    *,
    target_sd: float = DEFAULT_TARGET_SD,
    relative_sd: float = DEFAULT_RELATIVE_SD,
    calibration: float = DEFAULT_CALIBRATION,
    first_round: int = DEFAULT_FIRST_ROUND,
    growth: int = DEFAULT_GROWTH,
    unbiased: bool = False,
) -> dict[Hashable, int]:
    """How many more samples each problem gets in the next round (0: enough; all 0: the
    study is done), from every problem's (n, c) so far ((0, 0) before the first round).

    The next round brings the curve's standard deviation at every k in `ks` (default
    1, 2, 4, ..., n_max) down to `target_sd`, or as close as n_max allows, choosing the
    problems whose next batch (n -> min(growth * n, n_max)) lowers the variance most per
    sample under the fitted prior. The variance need not go below `relative_sd`^2 times the
    fixed-n_max design's. A `calibration` share of the never-solved problems (at least
    MIN_CALIBRATION of them; 0 turns this off), chosen by a hash of the id, goes to n_max."""
    _check_counts(counts, n_max)
    if n_max < 1 or first_round < 1 or growth < 2 or target_sd <= 0:
        raise ValueError("allocate: n_max and first_round must be >= 1, growth >= 2, target_sd > 0")
    ids = list(counts)
    if not ids:
        return {}
    if any(counts[i][0] == 0 for i in ids):
        # Round 1 (or problems added later): everyone gets its first batch before any fit.
        return {i: (min(first_round, n_max) if counts[i][0] == 0 else 0) for i in ids}
    k_arr = _risk_ks(ks if ks is not None else [2**e for e in range(n_max.bit_length())] + [n_max], n_max)
    prior = fit_prior(counts)
    groups: dict[tuple[int, int], list[Hashable]] = {}
    for i in sorted(ids, key=_uniform):
        groups.setdefault(tuple(int(x) for x in counts[i]), []).append(i)
    keys = sorted(groups)
    # Per (n, c) group: its ladder of n (n, growth * n, ..., n_max, padded by repeating
    # n_max), the risk at each rung, and how many of its problems the plan puts on each.
    ladders = []
    for n, _ in keys:
        ladder = [n]
        while ladder[-1] < n_max:
            ladder.append(min(max(growth * ladder[-1], first_round), n_max))
        ladders.append(ladder)
    depth = max(len(ladder) for ladder in ladders)
    rungs = np.array([ladder + [ladder[-1]] * (depth - len(ladder)) for ladder in ladders])
    risk = np.array([_ladder_risk(prior, n, c, row, k_arr, unbiased) for (n, c), row in zip(keys, rungs)])
    on_rung = np.zeros((len(keys), depth), dtype=np.int64)
    on_rung[:, 0] = [len(groups[key]) for key in keys]
    # The calibration problems: a fixed pseudo-random share of the never-solved ones go to n_max,
    # so the prior's mass near p = 0 (which decides pass@k for k > n of the others) is fitted
    # on deep samples. They are their group's first members (the groups are in _uniform order).
    never = sorted((i for i in ids if int(counts[i][1]) == 0), key=_uniform)
    chosen = {i for i in never if _uniform(i) < calibration} | set(never[: MIN_CALIBRATION if calibration > 0 else 0])
    for row, (n, c) in enumerate(keys):
        if c == 0 and n < n_max:
            deep = sum(i in chosen for i in groups[(n, c)])  # a prefix of the group: lowest hashes
            on_rung[row, 0] -= deep
            on_rung[row, -1] += deep
    total = np.einsum("gr,grk->k", on_rung, risk)
    fixed = risk[:, -1, :].T @ on_rung.sum(axis=1)
    budget = np.maximum((target_sd * len(ids)) ** 2, relative_sd**2 * fixed)
    # Plan every problem's final n: greedily the move (a problem from one rung to a higher
    # one) that removes the most variance per sample over the k still above target. A jump
    # of several rungs is one move, since reaching k <= n may pay only at the last rung.
    # Then this round takes each planned problem one rung up; the next round plans again.
    step = rungs[:, None, :] - rungs[:, :, None]  # [group, from, to] samples
    upward = step > 0
    while (total > budget).any():
        excess = np.maximum(total - budget, 0.0)
        table = risk @ (excess / excess.sum())  # [group, rung]
        gain = table[:, :, None] - table[:, None, :]
        scores = np.where(upward & (on_rung[:, :, None] > 0), gain / np.maximum(step, 1), 0.0)
        g, a, b = np.unravel_index(int(np.argmax(scores)), scores.shape)
        if scores[g, a, b] <= 0:
            break
        on_rung[g, a] -= 1
        on_rung[g, b] += 1
        total += risk[g, b] - risk[g, a]
    more: dict[Hashable, int] = {}
    for row, key in enumerate(keys):
        planned = int(on_rung[row, 1:].sum())  # the group's first members are the planned ones
        for position, i in enumerate(groups[key]):
            more[i] = int(rungs[row, 1] - rungs[row, 0]) if position < planned else 0
    return more


def _check_counts(counts: Counts, n_max: int | None = None) -> None:
    for key, value in counts.items():
        try:
            n, c = (int(x) for x in value)
        except (TypeError, ValueError):
            raise ValueError(f"problem {key!r}: counts must be (n, c), got {value!r}") from None
        if n < 0 or not 0 <= c <= n:
            raise ValueError(f"problem {key!r}: counts (n={n}, c={c}) need 0 <= c <= n")
        if n_max is not None and n > n_max:
            raise ValueError(f"problem {key!r}: n = {n} already exceeds n_max = {n_max}")


class CurveEstimate(list):
    """pass@k per requested k (a list of floats), with `sd`, `low` and `high` (the 95%
    interval), and `tail_share`: per k, the fraction of problems with fewer than k samples,
    whose pass@k is extrapolated by the prior (0: every problem has k samples)."""

    ks: list[int]
    sd: list[float]
    low: list[float]
    high: list[float]
    tail_share: list[float]

    @property
    def tail_ks(self) -> list[int]:
        """The k whose estimate rests in part on the tail estimate."""
        return [k for k, share in zip(self.ks, self.tail_share) if share > 0]


def problem_estimates(counts: Counts, ks: Iterable[int], unbiased: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(problems x ks) matrices, in the order of `counts`: each problem's pass@k estimate
    (Chen et al.'s for the problems with the largest n, where k <= n; elsewhere the posterior
    mean under the prior fitted to all of `counts`; with `unbiased`, Chen et al.'s wherever
    k <= n) and its expected squared error."""
    _check_counts(counts)
    k_arr = np.array([int(k) for k in ks])
    if not len(k_arr) or k_arr.min() < 1:
        raise ValueError("estimate_curve: ks must be a non-empty list of k >= 1")
    pairs = np.array([(int(n), int(c)) for n, c in counts.values()], dtype=np.int64).reshape(-1, 2)
    if not len(pairs) or (pairs[:, 0] == 0).any():
        raise ValueError("estimate_curve: every problem needs at least one sample")
    prior = fit_prior(counts)
    unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
    values = np.zeros((len(unique), len(k_arr)))
    risks = np.zeros((len(unique), len(k_arr)))
    top = int(pairs[:, 0].max())
    for row, (n, c) in enumerate(unique.tolist()):
        values[row] = _posterior_mean(prior.posterior(n, c), prior.rates, k_arr)
        exact = unbiased or n == top
        low = (k_arr <= n) & exact
        if low.any():
            values[row, low] = pass_at_k(n, c, k_arr[low])
        risks[row] = problem_risk(prior, n, c, n, k_arr, exact)
    inverse = inverse.ravel()
    return values[inverse], risks[inverse]


def estimate_curve(counts: Counts, ks: Iterable[int], unbiased: bool = False) -> CurveEstimate:
    """pass@k for each k from unequal per-problem (n, c): the mean over problems of
    problem_estimates (Chen et al.'s estimator for the problems sampled to the largest n,
    the empirical-Bayes posterior mean for the others); with each k's sd and 95% interval."""
    k_list = [int(k) for k in ks]
    values, risks = problem_estimates(counts, k_list, unbiased)
    total = len(values)
    n = np.array([int(pair[0]) for pair in counts.values()])
    curve = CurveEstimate(float(v) for v in values.mean(axis=0))
    curve.ks = k_list
    curve.sd = [float(s) for s in np.sqrt(risks.sum(axis=0)) / total]
    curve.low = [max(0.0, v - 1.96 * s) for v, s in zip(curve, curve.sd)]
    curve.high = [min(1.0, v + 1.96 * s) for v, s in zip(curve, curve.sd)]
    curve.tail_share = [float((n < k).mean()) for k in k_list]
    return curve
