"""Checks that the n samples of a problem really are independent draws."""

from __future__ import annotations

from collections.abc import Sequence

# Greedy decoding, a per-request seed or a cache hit make all n responses identical. A
# problem can legitimately get n identical short answers, so only flag a run where most
# problems do.
DEGENERATE_FRACTION = 0.5


def all_identical(responses: Sequence[str]) -> bool:
    """True when a problem's n >= 2 responses are all the same string."""
    return len(responses) >= 2 and len(set(responses)) == 1


def identical_fraction(responses_per_problem: Sequence[Sequence[str]]) -> float:
    """Fraction of problems whose responses are all identical."""
    if not responses_per_problem:
        return 0.0
    flags = [all_identical(responses) for responses in responses_per_problem]
    return sum(flags) / len(flags)


def sampling_is_degenerate(fraction_identical: float) -> bool:
    """Most problems got n identical responses: pass@k (k > 1) is meaningless."""
    return fraction_identical > DEGENERATE_FRACTION
