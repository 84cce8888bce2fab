"""The duplicate guard: long responses that repeat exactly mean duplicated sampling (two
jobs with one seed merged, vLLM data parallelism with one seed, --use_cache hits)."""

from __future__ import annotations

import pytest

from lm_eval_passk.metrics.sampling import (
    DUPLICATE_WARNING_FRACTION,
    LONG_RESPONSE_CHARS,
    DuplicateCount,
    count_duplicates,
    duplicate_fraction,
    pooled_duplicate_fraction,
    repeated_fraction,
    sampling_is_duplicated,
)

LONG_A = "a" * 201
LONG_B = "b" * 300
LONG_C = "c" * 1000


def test_short_repeats_are_ignored() -> None:
    assert count_duplicates(["\\boxed{2}"] * 8) == DuplicateCount(0, 0)
    assert duplicate_fraction(["\\boxed{2}"] * 8) == 0.0
    # Short repeats beside long responses neither count as long nor as repeats.
    assert count_duplicates(["\\boxed{2}"] * 6 + [LONG_A, LONG_B]) == DuplicateCount(2, 0)


def test_exactly_200_characters_is_not_long() -> None:
    assert LONG_RESPONSE_CHARS == 200
    assert count_duplicates(["x" * 200] * 4) == DuplicateCount(0, 0)
    assert count_duplicates(["x" * 201] * 4) == DuplicateCount(4, 3)
    # Characters, not bytes: 150 two-byte characters (300 bytes in UTF-8) are not long.
    assert count_duplicates(["é" * 150] * 2) == DuplicateCount(0, 0)


def test_long_repeats_count_every_copy_after_the_first() -> None:
    responses = [LONG_A, LONG_B, LONG_A, LONG_C, LONG_A, LONG_B]
    # Six long responses, three distinct texts: A's 2nd and 3rd and B's 2nd repeat.
    assert count_duplicates(responses) == DuplicateCount(long_responses=6, repeated_responses=3)
    assert duplicate_fraction(responses) == 0.5


def test_all_unique_and_all_the_same() -> None:
    assert duplicate_fraction([LONG_A, LONG_B, LONG_C]) == 0.0
    assert duplicate_fraction([LONG_A] * 8) == 7 / 8
    assert duplicate_fraction([LONG_A]) == 0.0
    assert duplicate_fraction([]) == 0.0


def test_repeats_are_counted_within_a_problem_and_pooled_over_problems() -> None:
    problems = [
        [LONG_A, LONG_A],  # 2 long, 1 repeat
        [LONG_A, LONG_B, LONG_C, "short", "short"],  # LONG_A again, but another problem
        ["short"] * 4,  # no long response: adds nothing
    ]
    assert pooled_duplicate_fraction(problems) == 1 / 5
    # Pooled, not the mean of per-problem fractions (which would be (1/2 + 0) / 2).
    assert pooled_duplicate_fraction(problems) != pytest.approx(0.25)
    assert pooled_duplicate_fraction([]) == 0.0
    assert pooled_duplicate_fraction([["short"] * 3]) == 0.0


def test_pooling_counts_equals_pooling_responses() -> None:
    """What a merge does with the passk block's per-problem counts: the same number."""
    problems = [[LONG_A] * 3 + [LONG_B], [LONG_C, LONG_B], ["x" * 250] * 2 + ["short"]]
    counts = [count_duplicates(responses) for responses in problems]
    assert repeated_fraction(counts) == pooled_duplicate_fraction(problems) == 3 / 8


def test_more_than_five_percent_is_suspect() -> None:
    assert DUPLICATE_WARNING_FRACTION == 0.05
    assert not sampling_is_duplicated(0.0)
    assert not sampling_is_duplicated(0.05)  # exactly the threshold is not above it
    assert sampling_is_duplicated(8 / 136)  # one shard of 8 merged twice into 128 samples
    assert sampling_is_duplicated(0.5)  # two same-seed jobs merged
