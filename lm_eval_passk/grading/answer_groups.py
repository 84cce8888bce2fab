"""Partition extracted answers into classes of equal answers, by the grader's own equivalence.

Majority voting (maj@k) needs to know which answers are one vote: `\\frac12`, `1/2` and
`0.5` are one answer to the math grader, so they are one class here. Math answers are
compared with the comparison the math grader uses (equivalence.quick_equal, then
equivalence.equal_in_mode in the grading pool under the mode's timeout for the pairs
quick_equal leaves undecided); MathVista answers by MathVista's normalisation (vision.py)
and then exact strings, as its grader compares them; MathVision's free-form answers like
math answers, as its grader compares them. Code has no answer to vote on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lm_eval_passk.grading.config import MathGraderConfig, grader_config
from lm_eval_passk.grading.equivalence import (
    MAX_ANSWER_CHARS,
    numbers_equal,
    quick_equal,
)
from lm_eval_passk.grading.math import EQUAL_CHECK, MATH_BENCHMARKS
from lm_eval_passk.grading.normalize import normalize, parse_number
from lm_eval_passk.grading.pool import MATH_PRELOAD, Engine, Job, shared_engine
from lm_eval_passk.grading.vision import normalize as vision_normalize

CODE_BENCHMARKS = ("livecodebench", "humaneval", "humaneval_plus", "mbpp_plus")
# Symbolic comparisons per call at most: a problem with 100 distinct symbolic answers has
# 4,950 pairs. One took 8 ms on average (150 pairs like `\frac{3\sqrt{2}}{7}` against
# `\frac{5\sqrt{3}}{2}`, one core), so 200 cost about 1.6 s of a worker's time; a pair
# beyond this stays apart (two votes).
MAX_SYMBOLIC_PAIRS = 200
# quick_equal calls per call at most, about 0.6 s (~30 us each on answers like
# `\frac{3\sqrt{2}}{7}`): 800 distinct symbolic answers to one problem would otherwise
# take 318,000 calls, 28 s under a profiler. Answers are compared in the order given (most
# frequent first, from the analysis); once this is spent, each remaining answer is a class
# of its own normal form.
MAX_QUICK_PAIRS = 20_000


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def partition(
    distinct: Sequence[str],
    quick: Callable[[str, str], bool | None],
    decide: Callable[[list[tuple[str, str]]], list[bool]] | None = None,
) -> list[list[int]]:
    """Classes of indices into `distinct`: each answer joins the first class whose
    representative `quick` says it equals (at most MAX_QUICK_PAIRS calls); pairs `quick`
    leaves undecided (None) are handed to `decide` in one batch (at most
    MAX_SYMBOLIC_PAIRS), and merged if equal."""
    parent = list(range(len(distinct)))
    representatives: list[int] = []
    undecided: list[tuple[int, int]] = []
    budget = MAX_QUICK_PAIRS
    for i, answer in enumerate(distinct):
        for r in representatives[: max(budget, 0)]:
            budget -= 1
            outcome = quick(answer, distinct[r])
            if outcome:
                parent[i] = r
                break
            if outcome is None:
                undecided.append((i, r))
        else:
            representatives.append(i)
    pending = [(i, r) for i, r in undecided if _find(parent, i) != _find(parent, r)]
    if decide is not None and pending:
        pending = pending[:MAX_SYMBOLIC_PAIRS]
        for (i, r), equal in zip(pending, decide([(distinct[i], distinct[r]) for i, r in pending])):
            if equal:
                parent[_find(parent, i)] = _find(parent, r)
    classes: dict[int, list[int]] = {}
    for i in range(len(distinct)):
        classes.setdefault(_find(parent, i), []).append(i)
    return list(classes.values())


def _symbolic(config: MathGraderConfig, engine: Engine | None) -> Callable[[list[tuple[str, str]]], list[bool]]:
    def decide(pairs: list[tuple[str, str]]) -> list[bool]:
        jobs = [Job(EQUAL_CHECK, (a, b, config.name)) for a, b in pairs]
        outcomes = (engine or shared_engine(MATH_PRELOAD)).run(
            jobs, timeout=config.timeout_seconds, description="grouping answers (symbolic)"
        )
        return [o.status == "ok" and bool(o.value) for o in outcomes]  # a timeout: apart

    return decide


def _math_key(answer: str) -> str:
    """Answers with one normal form are equal without a comparison (quick_equal's first test)."""
    return answer.strip() if len(answer) > MAX_ANSWER_CHARS else normalize(answer)


def answer_classes(
    benchmark: str,
    answers: Sequence[str | None],
    target: Any = None,
    grader: str = "default",
    symbolic: bool = True,
    engine: Engine | None = None,
) -> list[list[int]] | None:
    """The responses' indices grouped into classes of equal answers; responses with no
    answer (None) are in no class. None for code benchmarks: there is no answer to vote
    on. `target` is the MathVista record (its answer type decides the normalisation);
    `symbolic` False leaves the pairs quick_equal cannot decide apart instead of asking
    sympy in the grading pool."""
    if benchmark in CODE_BENCHMARKS:
        return None
    if benchmark == "mathvista":
        keys = {a: vision_normalize(a, target) or a.strip() for a in answers if a is not None}
        distinct = list(dict.fromkeys(keys.values()))
        groups = [[i] for i in range(len(distinct))]
    elif benchmark in (*MATH_BENCHMARKS, "mathvision"):
        config = grader_config(grader)
        keys = {a: _math_key(a) for a in answers if a is not None}
        distinct = list(dict.fromkeys(keys.values()))
        # Compare normal forms' first raw spellings: quick_equal normalises again, so a
        # representative spelling is as good as any other of its form.
        spelling = {key: raw for raw, key in reversed(keys.items())}
        # Two plain numbers are what quick_equal ends up comparing with numbers_equal;
        # parsing each once makes grouping 1,000 numeric answers ~30x faster.
        numbers = {spelling[key]: parse_number(key) for key in distinct}

        def quick(a: str, b: str) -> bool | None:
            number_a, number_b = numbers[a], numbers[b]
            if number_a is not None and number_b is not None:
                return numbers_equal(number_a, number_b, config)
            return quick_equal(a, b, config)

        groups = partition(
            [spelling[key] for key in distinct], quick, _symbolic(config, engine) if symbolic else None
        )
    else:
        raise ValueError(f"answer_classes: unknown benchmark {benchmark!r}")
    class_of_key = {distinct[i]: number for number, group in enumerate(groups) for i in group}
    classes: list[list[int]] = [[] for _ in groups]
    for index, answer in enumerate(answers):
        if answer is not None:
            classes[class_of_key[keys[answer]]].append(index)
    return classes
