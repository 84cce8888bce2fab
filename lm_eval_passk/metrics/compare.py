"""Base-versus-RL comparisons of pass@k curves (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping

# Yue et al. 2025: the sampling efficiency gap is base pass@256 minus RL pass@1.
DELTA_SE_K = 256


def crossover_k(base: Mapping[int, float], rl: Mapping[int, float]) -> int | None:
    """Smallest k reported for both at which the base model's pass@k is at least the RL
    model's; None if the RL model stays ahead at every k."""
    for k in sorted(set(base) & set(rl)):
        if base[k] >= rl[k]:
            return k
    return None


def delta_se(base: Mapping[int, float], rl: Mapping[int, float]) -> tuple[int, float]:
    """(k used, base pass@k - RL pass@1) with k = 256, or the base's largest k below it."""
    k = max(key for key in base if key <= DELTA_SE_K)
    return k, base[k] - rl[1]
