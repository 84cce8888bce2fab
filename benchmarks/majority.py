"""maj@k: the exact programme against Monte Carlo to the same error, on problems that are
expensive for the programme (many answer classes, large k), with their cost estimates.

Baseline, measured in the same run: `monte_carlo_maj_at_k` to a standard error of 0.001,
which is what `maj_at_k` falls back to above EXACT_BUDGET. The ratio says how much faster
the exact value is; the largest cost that is still faster justifies EXACT_BUDGET.

    python benchmarks/majority.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from lm_eval_passk.metrics.majority import (
    EXACT_BUDGET,
    exact_cost,
    exact_maj_at_k,
    monte_carlo_maj_at_k,
)

# (name, correct, wrong class sizes, abstentions, k), n = 1024 or close to it.
CASES = [
    ("3 vs 300 classes of 3", 3, [3] * 300, 121, 800),
    ("4 vs 200 of 4 + 200 singletons", 4, [4] * 200 + [1] * 200, 20, 900),
    ("30 vs 30 classes of 30", 30, [30] * 30, 94, 900),
    ("20 vs 60 of 10 + 100 of 2", 20, [10] * 60 + [2] * 100, 204, 512),
    ("10 vs 602 classes, k=256", 10, [30, 20] + [2] * 100 + [1] * 500, 264, 256),
    ("100 vs 800 singletons, k=256", 100, [1] * 800, 124, 256),
    ("300 vs 243 classes, k=512", 300, [200, 100, 50] + [5] * 40 + [1] * 200, 74, 512),
]


def best_time(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"EXACT_BUDGET = {EXACT_BUDGET:.1e} multiply-adds; best of {args.repeats}")
    print(f"{'problem':34} {'cost':>9} {'exact s':>8} {'MC s':>7} {'MC/exact':>8} {'|exact-MC|/se':>13}")
    for name, correct, wrong, abstain, k in CASES:
        problem = (correct, wrong, abstain, k)  # timed right here, in this iteration
        exact = exact_maj_at_k(correct, wrong, abstain, k)
        estimate = monte_carlo_maj_at_k(correct, wrong, abstain, k, np.random.default_rng(0))
        exact_s = best_time(partial(exact_maj_at_k, correct, wrong, abstain, k), args.repeats)
        mc_s = best_time(
            lambda: monte_carlo_maj_at_k(*problem, np.random.default_rng(0)), args.repeats  # noqa: B023
        )
        z = abs(exact - estimate.value) / estimate.se if estimate.se else 0.0
        print(
            f"{name:34} {exact_cost(correct, wrong, abstain, k):9.2e} {exact_s:8.3f} {mc_s:7.3f} "
            f"{mc_s / exact_s:8.1f} {z:13.2f}"
        )


if __name__ == "__main__":
    main()
