"""Checks that the n samples of a problem really are independent draws."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


# The duplicate guard. Two jobs run with the same command draw the same samples (lm-eval's
# vLLM backend seeds every engine with 1234 unless --model_args sets `seed`, and gives every
# data-parallel worker that same seed), and merging them, or a --use_cache hit, makes one
# draw count as several. A short answer (\boxed{2}) legitimately repeats; a chain of
# thought sampled at temperature 0.6 essentially never repeats to the character. So only
# responses longer than LONG_RESPONSE_CHARS count, and the run is suspect when more than
# DUPLICATE_WARNING_FRACTION of them repeat: then pass@k at large k rests on fewer
# independent draws than n says.
LONG_RESPONSE_CHARS = 200  # characters (len of the generated text), strictly more is long
# The natural rate is about 0, so 5% is far above chance yet low enough to catch a partial
# duplication: 16 shards of 8 samples merged with one shard taken twice is 8 repeats in
# 136 responses, 5.9%.
DUPLICATE_WARNING_FRACTION = 0.05


@dataclass(frozen=True)
class DuplicateCount:
    """One problem's long responses, and how many of them repeat an earlier one exactly.
    The field names are the keys of a problem's entry in the results' passk block."""

    long_responses: int  # responses longer than LONG_RESPONSE_CHARS characters
    repeated_responses: int  # long responses whose exact text already occurred among them


def count_duplicates(responses: Sequence[str]) -> DuplicateCount:
    """Among a problem's responses longer than 200 characters: how many there are, and how
    many are not the first occurrence of their text (k copies of one text count k - 1)."""
    long = [response for response in responses if len(response) > LONG_RESPONSE_CHARS]
    return DuplicateCount(long_responses=len(long), repeated_responses=len(long) - len(set(long)))


def repeated_fraction(counts: Iterable[DuplicateCount]) -> float:
    """Repeated long responses over long responses, summed over the given counts; 0 when
    none is long. Counts of different problems (ranks or shards that split the problems)
    pool exactly; shards that split one problem's n samples must be counted again on its
    merged responses, since a repeat across shards is in neither shard's count."""
    long, repeated = 0, 0
    for count in counts:
        long += count.long_responses
        repeated += count.repeated_responses
    return repeated / long if long else 0.0


def duplicate_fraction(responses: Sequence[str]) -> float:
    """The fraction of one problem's long responses (over 200 characters) that exactly
    repeat another of its responses; 0 when none is long."""
    return repeated_fraction([count_duplicates(responses)])


def pooled_duplicate_fraction(responses_per_problem: Iterable[Sequence[str]]) -> float:
    """The run's duplicate fraction: repeats counted within each problem, pooled over all
    problems' long responses (total repeated / total long)."""
    # Pooled rather than a mean of per-problem fractions: a problem the model answers
    # briefly may have 2 long responses, and one repeat there (50%) would move the mean as
    # much as 64 repeats among a problem's 128; pooled, every long response weighs the
    # same, and the number reads as "the share of long draws that are copies".
    return repeated_fraction(count_duplicates(responses) for responses in responses_per_problem)


def sampling_is_duplicated(fraction_repeated: float) -> bool:
    """More than 5% of long responses repeat: samples were likely drawn twice."""
    return fraction_repeated > DUPLICATE_WARNING_FRACTION
