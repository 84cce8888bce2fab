"""Graders: response -> extracted answer -> Verdict. No lm-eval import, so usable from a
notebook, another harness, or a training loop as a verifiable reward.

    >>> from lm_eval_passk.grading import grade
    >>> grade("math500", "... so the answer is \\\\boxed{\\\\frac{1}{2}}", "0.5").correct
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from lm_eval_passk.grading.config import grader_config
from lm_eval_passk.grading.math import MATH_TASKS, grade_math_many
from lm_eval_passk.grading.verdict import Verdict

__all__ = ["TASKS", "Verdict", "grade", "grade_many"]

TASKS = MATH_TASKS


def grade(task: str, response: str, target: str, grader: str = "default") -> Verdict:
    """Grade one response of benchmark `task` against its gold answer `target`."""
    return grade_many(task, [response], [target], grader=grader)[0]


def grade_many(
    task: str | Sequence[str],
    responses: Sequence[str],
    targets: Sequence[str],
    grader: str = "default",
) -> list[Verdict]:
    """Grade many responses in one deduplicated, parallel pass; `task` is one benchmark
    name or one per response; `grader` is "default" or "paper" (docs/GRADING.md)."""
    tasks = [task] * len(responses) if isinstance(task, str) else list(task)
    if not len(tasks) == len(responses) == len(targets):
        raise ValueError(
            f"grade_many: {len(tasks)} tasks, {len(responses)} responses and "
            f"{len(targets)} targets must have the same length"
        )
    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        raise ValueError(f"unknown task {unknown[0]!r}; expected one of {', '.join(TASKS)}")
    return grade_math_many(tasks, list(responses), list(targets), grader_config(grader))
