"""Bootstrap confidence intervals over problems (numpy only)."""

from __future__ import annotations

import numpy as np


def resample_weights(problems: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples x problems) counts: how often each problem is drawn in each resample."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(problems, np.full(problems, 1.0 / problems), size=resamples)


def bootstrap_ci(
    per_problem: np.ndarray, weights: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the mean over problems, for each column of
    `per_problem` (problems x metrics), from resampling weights (resamples x problems)."""
    means = weights @ per_problem / per_problem.shape[0]
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail], axis=0)
    return low, high
