"""maj@k of a run: each problem's answers grouped into votes, and the summary's fields.

The answers are those the grader read from each response (logged in its verdict, or from
a regrade), tallied per problem as (answer, correct) counts while the samples stream by,
so identical strings are grouped once. Grouping uses the grader's equivalence
(grading.answer_groups); the estimator is metrics.majority.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lm_eval_passk.grading.answer_groups import CODE_BENCHMARKS, answer_classes
from lm_eval_passk.metrics.majority import MajorityEstimate, maj_at_k
from lm_eval_passk.run_format import GradedRow

NO_ANSWERS_NOTE = "no answers to vote on: {benchmark} responses are programs, graded by running tests"
NOT_LOGGED_NOTE = "no answers to vote on: the samples log no extracted answers"
UNKNOWN_NOTE = "no majority vote: the run does not say which grader's equivalence applies"


@dataclass(frozen=True)
class VoteCounts:
    """One problem's votes: the correct class's size, the wrong classes' sizes (largest
    first), the responses with no answer, and how many classes the grader split (some
    members graded correct, some wrong)."""

    correct: int
    wrong: tuple[int, ...]
    abstain: int
    inconsistent: int = 0


@dataclass
class AnswerTally:
    """(answer, correct) counts per problem, gathered row by row."""

    benchmark: str | None  # None: the run does not say which grader applies
    grader: str
    tallies: dict[str, Counter[tuple[str | None, bool]]] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)  # MathVista: the record per problem
    missing: bool = False  # some row logged no answers

    def add(self, row: GradedRow, target: Any = None) -> None:
        if len(row.answers) != len(row.correct):
            self.missing = True
            return
        self.tallies.setdefault(row.problem_id, Counter()).update(zip(row.answers, row.correct))
        self.targets.setdefault(row.problem_id, target)

    def note(self) -> str | None:
        """Why there is no maj@k, or None when there is one."""
        if self.benchmark is None:
            return UNKNOWN_NOTE
        if self.benchmark in CODE_BENCHMARKS:
            return NO_ANSWERS_NOTE.format(benchmark=self.benchmark)
        return NOT_LOGGED_NOTE if self.missing or not self.tallies else None

    def vote_counts(self) -> dict[str, VoteCounts]:
        """Each problem's votes; empty when there is a note instead."""
        if self.note() is not None or self.benchmark is None:
            return {}
        return {
            problem: group_votes(self.benchmark, tally, self.targets[problem], self.grader)
            for problem, tally in self.tallies.items()
        }


def group_votes(
    benchmark: str, tally: Counter[tuple[str | None, bool]], target: Any = None, grader: str = "default"
) -> VoteCounts:
    """One problem's votes from its (answer, correct) counts. Every response graded
    correct votes for the correct class (the grader found each equal to the gold); the
    other answers are grouped by the grader's equivalence; no answer is no vote. A class
    with answers graded both ways counts as inconsistent, and its wrong members stay wrong:
    the grader's verdict on each response stands."""
    # Most frequent first: they become the classes' representatives, and are compared
    # before grading.answer_groups' comparison budget runs out.
    answers = list(dict.fromkeys(answer for (answer, _), _count in tally.most_common()))
    classes = answer_classes(benchmark, answers, target, grader) or []
    correct = sum(count for (_, ok), count in tally.items() if ok)
    abstain = sum(count for (answer, ok), count in tally.items() if answer is None and not ok)
    wrong, inconsistent = [], 0
    for members in classes:
        graded_wrong = sum(tally.get((answers[i], False), 0) for i in members)
        inconsistent += bool(graded_wrong and any(tally.get((answers[i], True), 0) for i in members))
        if graded_wrong:
            wrong.append(graded_wrong)
    return VoteCounts(correct, tuple(sorted(wrong, reverse=True)), abstain, inconsistent)


def majority_fields(
    votes: dict[str, VoteCounts], note: str | None, ids: list[str], ks: list[int], seed: int = 0
) -> dict[str, Any]:
    """The summary's `maj_at_k` (mean over `ids`, k keys as strings; None with a note when
    there is nothing to vote on) and `majority` (abstentions, inconsistent classes, and for
    each k where some problem needed Monte Carlo: how many and the standard error of the
    mean)."""
    if note is not None:
        return {"maj_at_k": None, "majority": {"note": note}}
    rng = np.random.default_rng(seed)
    cache: dict[tuple[VoteCounts, int], MajorityEstimate] = {}
    curve: dict[str, float] = {}
    monte_carlo: dict[str, dict[str, float]] = {}
    for k in ks:
        estimates = []
        for problem in ids:
            counts = votes[problem]
            estimate = cache.get((counts, k)) or maj_at_k(counts.correct, counts.wrong, counts.abstain, k, rng)
            if estimate.exact:  # Monte Carlo draws afresh: the problems' errors stay independent
                cache[(counts, k)] = estimate
            estimates.append(estimate)
        curve[str(k)] = float(np.mean([e.value for e in estimates]))
        sampled = [e for e in estimates if not e.exact]
        if sampled:
            se = math.sqrt(sum(e.se**2 for e in sampled)) / len(ids)
            monte_carlo[str(k)] = {"problems": len(sampled), "se": se}
    chosen = [votes[problem] for problem in ids]
    return {
        "maj_at_k": curve,
        "majority": {
            "abstentions": sum(v.abstain for v in chosen),
            "inconsistent_classes": sum(v.inconsistent for v in chosen),
            "monte_carlo": monte_carlo,
        },
    }
