"""The unbiased pass@k estimator against exact rational arithmetic."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest

from lm_eval_passk.metrics import pass_at_k, report_ks


def exact(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


@pytest.mark.parametrize("n", [1, 2, 7, 128, 1024, 4096])
def test_matches_exact_fractions_for_every_c(n: int) -> None:
    ks = report_ks(n)
    cs = np.arange(n + 1)
    got = pass_at_k(n, cs[:, None], np.array(ks)[None, :])
    assert got.shape == (n + 1, len(ks))
    step = 1 if n <= 1024 else 37  # exact binomials at n = 4096 are slow: sample the c axis
    for c in range(0, n + 1, step):
        for j, k in enumerate(ks):
            assert abs(got[c, j] - float(exact(n, c, k))) <= 1e-12, (n, c, k)


def test_small_cases_by_hand() -> None:
    # n=10, c=3: pass@1 = 3/10; pass@2 = 1 - C(7,2)/C(10,2) = 1 - 21/45 = 8/15.
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3, abs=1e-15)
    assert pass_at_k(10, 3, 2) == pytest.approx(8 / 15, abs=1e-15)
    assert pass_at_k(10, 3, 8) == 1.0  # n - c = 7 < 8: every 8-subset holds a correct one
    assert pass_at_k(10, 0, 10) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0


def test_vectorised_over_problems_and_broadcasting() -> None:
    n = np.array([8, 8, 16])
    c = np.array([0, 4, 1])
    got = pass_at_k(n, c, 2)
    expected = [float(exact(8, 0, 2)), float(exact(8, 4, 2)), float(exact(16, 1, 2))]
    assert got.tolist() == pytest.approx(expected, abs=1e-15)
    assert pass_at_k(n[:, None], c[:, None], np.array([1, 2])[None, :]).shape == (3, 2)


def test_tiny_values_keep_their_precision() -> None:
    # One correct sample in 1024: pass@1 = 1/1024 exactly, not lost to cancellation.
    assert pass_at_k(1024, 1, 1) == pytest.approx(1 / 1024, rel=1e-13)


@pytest.mark.parametrize(
    ("n", "c", "k", "message"),
    [
        (8, 2, 16, "exceeds the n = 8"),
        (8, 2, 0, "k must be >= 1"),
        (8, 9, 1, "0 <= c <= n"),
        (8, -1, 1, "0 <= c <= n"),
        (8, 2.5, 1, "c must hold integers"),
    ],
)
def test_bad_arguments_are_rejected_clearly(n, c, k, message) -> None:
    with pytest.raises(ValueError, match=message):
        pass_at_k(n, c, k)


def test_report_ks() -> None:
    assert report_ks(1) == [1]
    assert report_ks(8) == [1, 2, 4, 8]
    assert report_ks(100) == [1, 2, 4, 8, 16, 32, 64, 100]
    assert report_ks(1024)[-2:] == [512, 1024]
    with pytest.raises(ValueError):
        report_ks(0)
