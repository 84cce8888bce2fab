"""Graders: response -> extracted answer -> Verdict. No lm-eval import, so usable from a
notebook, another harness, or a training loop as a verifiable reward.

    >>> from lm_eval_passk.grading import grade
    >>> grade("math500", "... so the answer is \\\\boxed{\\\\frac{1}{2}}", "0.5").correct
    True

The target is the gold answer string for the math benchmarks, a MathVista testmini record
for "mathvista", a MathVision record for "mathvision", a code_generation_lite record for
"livecodebench", a HumanEval record (`prompt`, `test`, `entry_point`) for "humaneval" and
"humaneval_plus" (EvalPlus's HumanEval+, the same schema) and an `evalplus/mbppplus` row for
"mbpp_plus" (whose programs run in a sandbox: docs/CODE.md). Each benchmark family has one
grader in GRADERS, all of one signature;
a Verdict's reason is one of REASONS, its particulars in `detail`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lm_eval_passk.grading.code import grade_code_many, grade_humaneval_many
from lm_eval_passk.grading.code.mbpp import mbpp_plus_problem
from lm_eval_passk.grading.config import grader_config
from lm_eval_passk.grading.math import MATH_BENCHMARKS, grade_math_many
from lm_eval_passk.grading.verdict import REASONS, Reason, Verdict
from lm_eval_passk.grading.vision import grade_mathvision_many, grade_vision_many

__all__ = [
    "BENCHMARKS",
    "GRADERS",
    "REASONS",
    "Grader",
    "GradingOptions",
    "Reason",
    "Verdict",
    "family",
    "grade",
    "grade_many",
]

BENCHMARKS = (
    *MATH_BENCHMARKS, "mathvista", "mathvision", "livecodebench", "humaneval", "humaneval_plus",
    "mbpp_plus",
)


@dataclass(frozen=True)
class GradingOptions:
    """How to grade, the same for every benchmark: `grader` ("default", "strict" or
    "paper") is the math grading mode (docs/GRADING.md); `require_sandbox` makes the code
    benchmarks refuse to run programs without bubblewrap (docs/CODE.md)."""

    grader: str = "default"
    require_sandbox: bool = False

    def __post_init__(self) -> None:
        grader_config(self.grader)  # an unknown grader fails here, whatever the benchmark


# A benchmark family's grader: (responses, targets, benchmark of each, options) -> verdicts.
Grader = Callable[[Sequence[str], Sequence[Any], Sequence[str], GradingOptions], list[Verdict]]


def _grade_math(
    responses: Sequence[str], targets: Sequence[Any], benchmarks: Sequence[str], options: GradingOptions
) -> list[Verdict]:
    return grade_math_many(benchmarks, responses, targets, grader_config(options.grader))


def _grade_mathvista(
    responses: Sequence[str], targets: Sequence[Any], benchmarks: Sequence[str], options: GradingOptions
) -> list[Verdict]:
    return grade_vision_many(responses, targets)


def _grade_mathvision(
    responses: Sequence[str], targets: Sequence[Any], benchmarks: Sequence[str], options: GradingOptions
) -> list[Verdict]:
    return grade_mathvision_many(responses, targets, grader_config(options.grader))


def _grade_livecodebench(
    responses: Sequence[str], targets: Sequence[Any], benchmarks: Sequence[str], options: GradingOptions
) -> list[Verdict]:
    return grade_code_many(responses, targets, require_sandbox=options.require_sandbox)


def _grade_humaneval(
    responses: Sequence[str], targets: Sequence[Any], benchmarks: Sequence[str], options: GradingOptions
) -> list[Verdict]:
    # HumanEval+ shares HumanEval's record; an MBPP+ row becomes one (grading/code/mbpp.py).
    records = [
        mbpp_plus_problem(target) if benchmark == "mbpp_plus" else target
        for target, benchmark in zip(targets, benchmarks)
    ]
    return grade_humaneval_many(responses, records, require_sandbox=options.require_sandbox)


# One grader per family; the math benchmarks share one (they differ only in extraction).
GRADERS: dict[str, Grader] = {
    "math": _grade_math,
    "mathvista": _grade_mathvista,
    "mathvision": _grade_mathvision,
    "livecodebench": _grade_livecodebench,
    "humaneval": _grade_humaneval,
}
# Benchmarks graded by another benchmark's grader (programs checked by test code).
_FAMILIES = {"humaneval_plus": "humaneval", "mbpp_plus": "humaneval"}


def family(benchmark: str) -> str:
    """The key of `benchmark`'s grader in GRADERS."""
    return "math" if benchmark in MATH_BENCHMARKS else _FAMILIES.get(benchmark, benchmark)


def grade(
    benchmark: str,
    response: str,
    target: Any,
    grader: str = "default",
    require_sandbox: bool = False,
) -> Verdict:
    """Grade one response of `benchmark` against its target (see the module doc)."""
    return grade_many(
        benchmark, [response], [target], grader=grader, require_sandbox=require_sandbox
    )[0]


def grade_many(
    benchmark: str | Sequence[str],
    responses: Sequence[str],
    targets: Sequence[Any],
    grader: str = "default",
    require_sandbox: bool = False,
) -> list[Verdict]:
    """Grade many responses in one deduplicated, parallel pass per benchmark family;
    `benchmark` is one name from BENCHMARKS or one per response; `grader` and
    `require_sandbox` as in GradingOptions."""
    benchmarks = [benchmark] * len(responses) if isinstance(benchmark, str) else list(benchmark)
    if not len(benchmarks) == len(responses) == len(targets):
        raise ValueError(
            f"grade_many: {len(benchmarks)} benchmarks, {len(responses)} responses and "
            f"{len(targets)} targets must have the same length"
        )
    unknown = sorted(set(benchmarks) - set(BENCHMARKS))
    if unknown:
        raise ValueError(
            f"unknown benchmark {unknown[0]!r}; expected one of {', '.join(BENCHMARKS)}"
        )
    options = GradingOptions(grader, require_sandbox)
    by_family: dict[str, list[int]] = {}
    for index, name in enumerate(benchmarks):
        by_family.setdefault(family(name), []).append(index)
    verdicts: dict[int, Verdict] = {}
    for key, indices in by_family.items():
        graded = GRADERS[key](
            [responses[i] for i in indices],
            [targets[i] for i in indices],
            [benchmarks[i] for i in indices],
            options,
        )
        for index, verdict in zip(indices, graded):
            verdicts[index] = verdict
    return [verdicts[index] for index in range(len(responses))]
