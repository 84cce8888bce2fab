"""Graders: response -> extracted answer -> Verdict. No lm-eval import."""

from __future__ import annotations

from collections.abc import Sequence

from lm_eval_passk.grading.math import MATH_TASKS, grade_math
from lm_eval_passk.grading.verdict import Verdict

__all__ = ["Verdict", "grade", "grade_many"]


def grade(task: str, response: str, target: str) -> Verdict:
    """Grade one response of benchmark `task` (gsm8k, math500, aime24, minerva_math)."""
    if task not in MATH_TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(MATH_TASKS)}")
    return grade_math(task, response, target)


def grade_many(
    task: str | Sequence[str], responses: Sequence[str], targets: Sequence[str]
) -> list[Verdict]:
    """Grade many responses; `task` is one benchmark name or one per response."""
    tasks = [task] * len(responses) if isinstance(task, str) else list(task)
    if not len(tasks) == len(responses) == len(targets):
        raise ValueError(
            f"grade_many: {len(tasks)} tasks, {len(responses)} responses and "
            f"{len(targets)} targets must have the same length"
        )
    # Identical (task, response, target) triples are graded once: at large k many repeat.
    cache: dict[tuple[str, str, str], Verdict] = {}
    verdicts = []
    for key in zip(tasks, responses, targets):
        if key not in cache:
            cache[key] = grade(*key)
        verdicts.append(cache[key])
    return verdicts
