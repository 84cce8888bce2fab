"""Adaptive sample budgets against fixed n: samples used and the pass@k curve's error.

For each rate distribution, a "real study" is simulated first (n_max samples per problem,
its per-problem rates c / n_max are the hidden truth, as when a real run's rates are reused);
then, per replicate, `allocate` and `estimate_curve` are driven round by round on those rates
and compared with a fixed n_max run of the same rates. Error = the largest gap over
k = 1..n_max between the estimated curve and the curve of the true rates, in points.

    PYTHONPATH=. python benchmarks/adaptive.py --replicates 40
    PYTHONPATH=. python benchmarks/adaptive.py --replicates 40 --unbiased   # Chen et al. where k <= n
    PYTHONPATH=. python benchmarks/adaptive.py --problems 30 --only aime_like

Baseline: fixed n = n_max, measured in the same run on the same rates.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from lm_eval_passk.adaptive import (
    DEFAULT_CALIBRATION,
    DEFAULT_RELATIVE_SD,
    DEFAULT_TARGET_SD,
    allocate,
    estimate_curve,
)
from lm_eval_passk.analysis.demo import success_rates
from lm_eval_passk.metrics import pass_at_k

Rates = Callable[[int, np.random.Generator], np.ndarray]


def _mix(parts: list[tuple[float, Callable[[np.random.Generator, int], np.ndarray]]]) -> Rates:
    def draw(problems: int, rng: np.random.Generator) -> np.ndarray:
        weights = np.array([w for w, _ in parts])
        which = rng.choice(len(parts), size=problems, p=weights / weights.sum())
        values = np.stack([part(rng, problems) for _, part in parts])
        return values[which, np.arange(problems)]

    return draw


def _zero(rng: np.random.Generator, size: int) -> np.ndarray:
    return np.zeros(size)


# Shapes after Yue et al. 2025 (Fig. accuracy histograms): a base model's rates spread over
# [0, 1]; its RL model's pile up at 1 and 0. Tuned on none of these but `synthetic_*`.
DISTRIBUTIONS: dict[str, Rates] = {
    # the two the defaults were chosen on
    "synthetic_base": _mix([(0.08, _zero), (0.92, lambda r, s: r.beta(0.7, 0.5, s))]),
    "synthetic_rl": _mix([
        (0.6, lambda r, s: r.beta(8, 0.4, s)), (0.2, _zero), (0.2, lambda r, s: r.beta(0.3, 3, s)),
    ]),
    # MATH500-like: an easy benchmark, few problems never solved
    "math500_base": _mix([
        (0.02, _zero), (0.18, lambda r, s: r.beta(0.5, 3, s)), (0.8, lambda r, s: r.beta(2.5, 0.8, s)),
    ]),
    "math500_rl": _mix([
        (0.03, _zero), (0.07, lambda r, s: r.beta(0.4, 2, s)), (0.9, lambda r, s: r.beta(6, 0.3, s)),
    ]),
    # a hard benchmark (AIME-like): most rates small, a third never solved
    "aime_like": _mix([(0.3, _zero), (0.5, lambda r, s: r.beta(0.3, 4, s)), (0.2, lambda r, s: r.beta(1, 1, s))]),
    # a logit-normal base model, no exact zeros
    "logit_normal": lambda n, r: 1 / (1 + np.exp(-r.normal(0.5, 2.5, n))),
    # the demo's two models (lm_eval_passk/analysis/demo.py)
    "demo_base": lambda n, r: success_rates(n, int(r.integers(1 << 30)))[0],
    "demo_rl": lambda n, r: success_rates(n, int(r.integers(1 << 30)))[1],
}


def _curve(rates: np.ndarray, ks: np.ndarray) -> np.ndarray:
    return (1.0 - (1.0 - rates[None, :]) ** ks[:, None]).mean(axis=1)


def adaptive_study(
    rates: np.ndarray, n_max: int, ks: np.ndarray, rng: np.random.Generator, unbiased: bool, **options: float
) -> tuple[np.ndarray, int, int]:
    """Drive allocate round by round on known rates; return the curve, samples and rounds."""
    counts = {i: (0, 0) for i in range(len(rates))}
    rounds = 0
    while True:
        more = allocate(counts, n_max, ks, unbiased=unbiased, **options)
        if not any(more.values()):
            break
        rounds += 1
        for i, extra in more.items():
            if extra:
                n, c = counts[i]
                counts[i] = (n + extra, c + int(rng.binomial(extra, rates[i])))
    curve = np.array(estimate_curve(counts, ks, unbiased=unbiased))
    return curve, sum(n for n, _ in counts.values()), rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicates", type=int, default=40)
    parser.add_argument("--problems", type=int, default=500)
    parser.add_argument("--n_max", type=int, default=128)
    parser.add_argument("--only", nargs="*", default=list(DISTRIBUTIONS), choices=list(DISTRIBUTIONS))
    parser.add_argument("--continuous", action="store_true", help="true rates as drawn, not a study's c / n_max")
    parser.add_argument("--unbiased", action="store_true", help="Chen et al.'s estimator where k <= n_i")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target_sd", type=float, default=DEFAULT_TARGET_SD)
    parser.add_argument("--relative_sd", type=float, default=DEFAULT_RELATIVE_SD)
    parser.add_argument("--calibration", type=float, default=DEFAULT_CALIBRATION)
    args = parser.parse_args()
    options = {"target_sd": args.target_sd, "relative_sd": args.relative_sd, "calibration": args.calibration}
    ks = np.arange(1, args.n_max + 1)
    print(
        f"{args.problems} problems, n_max {args.n_max}, {args.replicates} replicates; error = max over "
        f"k = 1..{args.n_max} of |estimate - truth| in points; fixed n = {args.n_max} is the baseline; {options}"
    )
    print(f"{'rates':<15}{'samples':>9}{'rounds':>8}{'median':>8}{'p90':>7}{'fixed med':>11}{'fixed p90':>11}{'s':>6}")
    for name in args.only:
        rng = np.random.default_rng([args.seed, list(DISTRIBUTIONS).index(name)])
        rates = DISTRIBUTIONS[name](args.problems, rng)
        if not args.continuous:
            rates = rng.binomial(args.n_max, rates) / args.n_max
        truth = _curve(rates, ks)
        start = time.perf_counter()
        errors, fixed_errors, used, rounds = [], [], [], []
        for _ in range(args.replicates):
            curve, samples, r = adaptive_study(rates, args.n_max, ks, rng, args.unbiased, **options)
            errors.append(100 * np.abs(curve - truth).max())
            used.append(samples / (args.n_max * len(rates)))
            rounds.append(r)
            correct = rng.binomial(args.n_max, rates)
            fixed = pass_at_k(args.n_max, correct[None, :], ks[:, None]).mean(axis=1)
            fixed_errors.append(100 * np.abs(fixed - truth).max())
        print(
            f"{name:<15}{np.mean(used):>8.1%}{np.mean(rounds):>8.1f}{np.median(errors):>8.2f}"
            f"{np.percentile(errors, 90):>7.2f}{np.median(fixed_errors):>11.2f}"
            f"{np.percentile(fixed_errors, 90):>11.2f}{time.perf_counter() - start:>6.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
