"""Graders: response -> extracted answer -> Verdict. No lm-eval import, so usable from a
notebook, another harness, or a training loop as a verifiable reward.

    >>> from lm_eval_passk.grading import grade
    >>> grade("math500", "... so the answer is \\\\boxed{\\\\frac{1}{2}}", "0.5").correct
    True

The target is the gold answer string for the math benchmarks, a MathVista testmini record
for "mathvista", a code_generation_lite record for "livecodebench" and a HumanEval record
(`prompt`, `test`, `entry_point`) for "humaneval" (whose programs run in a sandbox:
docs/CODE.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lm_eval_passk.grading.code import grade_code_many, grade_humaneval_many
from lm_eval_passk.grading.config import grader_config
from lm_eval_passk.grading.math import MATH_TASKS, grade_math_many
from lm_eval_passk.grading.verdict import Verdict
from lm_eval_passk.grading.vision import grade_vision_many

__all__ = ["TASKS", "Verdict", "grade", "grade_many"]

TASKS = (*MATH_TASKS, "mathvista", "livecodebench", "humaneval")


def grade(
    task: str, response: str, target: Any, grader: str = "default", require_sandbox: bool = False
) -> Verdict:
    """Grade one response of benchmark `task` against its target (see the module doc)."""
    return grade_many(task, [response], [target], grader=grader, require_sandbox=require_sandbox)[0]


def grade_many(
    task: str | Sequence[str],
    responses: Sequence[str],
    targets: Sequence[Any],
    grader: str = "default",
    require_sandbox: bool = False,
) -> list[Verdict]:
    """Grade many responses in one deduplicated, parallel pass; `task` is one benchmark
    name or one per response; `grader` ("default", "strict" or "paper") applies to the
    math benchmarks (docs/GRADING.md); `require_sandbox` makes LiveCodeBench and HumanEval refuse
    to run programs without bubblewrap (docs/CODE.md)."""
    tasks = [task] * len(responses) if isinstance(task, str) else list(task)
    if not len(tasks) == len(responses) == len(targets):
        raise ValueError(
            f"grade_many: {len(tasks)} tasks, {len(responses)} responses and "
            f"{len(targets)} targets must have the same length"
        )
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        raise ValueError(f"unknown task {unknown[0]!r}; expected one of {', '.join(TASKS)}")
    config = grader_config(grader)
    graders = {
        "math": lambda rs, ts, names: grade_math_many(names, rs, ts, config),
        "mathvista": lambda rs, ts, names: grade_vision_many(rs, ts),
        "livecodebench": lambda rs, ts, names: grade_code_many(rs, ts, require_sandbox=require_sandbox),
        "humaneval": lambda rs, ts, names: grade_humaneval_many(rs, ts, require_sandbox=require_sandbox),
    }
    by_family: dict[str, list[int]] = {}
    for index, name in enumerate(tasks):
        by_family.setdefault("math" if name in MATH_TASKS else name, []).append(index)
    verdicts: dict[int, Verdict] = {}
    for family, indices in by_family.items():
        graded = graders[family](
            [responses[i] for i in indices], [targets[i] for i in indices], [tasks[i] for i in indices]
        )
        for index, verdict in zip(indices, graded):
            verdicts[index] = verdict
    return [verdicts[index] for index in range(len(responses))]
