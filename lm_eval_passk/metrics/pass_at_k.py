"""The unbiased pass@k estimator (Chen et al. 2021) and the k values we report."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

# Rows per block of the product table: a few (256 x n) float arrays at a time, about
# 8 MB at n = 1024, whatever the input size (benchmarks/report_memory.py).
_BLOCK_ROWS = 256


def pass_at_k(n: ArrayLike, c: ArrayLike, k: ArrayLike) -> np.ndarray:
    """pass@k = 1 - C(n-c, k) / C(n, k), elementwise over broadcast arrays of n, c and k.

    The ratio of binomials is the product over i = n-c+1 .. n of (1 - k/i): every factor
    lies in [0, 1], so no huge intermediate appears at n = 1024 or beyond. When n - c < k
    one factor is exactly 0 and pass@k is exactly 1.
    """
    n_arr, c_arr, k_arr = (np.asarray(x) for x in (n, c, k))
    for name, arr in (("n", n_arr), ("c", c_arr), ("k", k_arr)):
        if arr.size and not np.all(np.equal(np.mod(arr, 1), 0)):
            raise ValueError(f"pass_at_k: {name} must hold integers, got {arr!r}")
    n_arr, c_arr, k_arr = np.broadcast_arrays(
        n_arr.astype(np.int64), c_arr.astype(np.int64), k_arr.astype(np.int64)
    )
    if np.any(k_arr < 1):
        raise ValueError(f"pass_at_k: k must be >= 1, got min k = {k_arr.min()}")
    if np.any(k_arr > n_arr):
        bad = np.argwhere(k_arr > n_arr)[0]
        raise ValueError(
            f"pass_at_k: k = {k_arr[tuple(bad)]} exceeds the n = {n_arr[tuple(bad)]} samples "
            "drawn; pass@k is only defined for k <= n"
        )
    if np.any((c_arr < 0) | (c_arr > n_arr)):
        raise ValueError("pass_at_k: c must satisfy 0 <= c <= n")

    # Few distinct (n, c, k) triples occur in practice (c <= n, a dozen k): compute each once.
    triples = np.stack([n_arr.ravel(), c_arr.ravel(), k_arr.ravel()], axis=1)
    unique, inverse = np.unique(triples, axis=0, return_inverse=True)
    values = np.empty(len(unique), dtype=np.float64)
    for start in range(0, len(unique), _BLOCK_ROWS):
        block = unique[start : start + _BLOCK_ROWS]
        values[start : start + len(block)] = _pass_at_k_block(*block.T)
    return values[inverse.ravel()].reshape(n_arr.shape)


def _pass_at_k_block(n: np.ndarray, c: np.ndarray, k: np.ndarray) -> np.ndarray:
    width = int(c.max(initial=0))
    if width == 0:
        return np.zeros(len(n))
    offset = np.arange(width)
    denominators = n[:, None] - offset[None, :]  # n, n-1, ..., n-c+1 (>= 1 where used)
    used = offset[None, :] < c[:, None]
    factors = np.where(used, 1.0 - k[:, None] / np.maximum(denominators, 1), 1.0)
    return 1.0 - np.clip(factors, 0.0, 1.0).prod(axis=1)


def report_ks(n: int) -> list[int]:
    """The k we report for n samples: 1, 2, 4, ... up to n, and n itself."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    ks = [1 << e for e in range(n.bit_length()) if 1 << e <= n]
    return ks if ks[-1] == n else [*ks, n]
