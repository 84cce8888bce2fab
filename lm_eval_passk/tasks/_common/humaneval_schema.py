"""Rows in HumanEval's schema (task_id, prompt, canonical_solution, test, entry_point) as
problems: shared by humaneval_passk (`openai/openai_humaneval`) and humaneval_plus_passk
(`evalplus/humanevalplus`, the same schema with EvalPlus's longer `test`)."""

from __future__ import annotations

from typing import Any

from lm_eval_passk.tasks._common.dataset import Problem

# The record the humaneval grader runs (grading/code/humaneval.py); the task id names it.
RECORD_FIELDS = ("task_id", "prompt", "test", "entry_point")


def humaneval_problem(row: dict[str, Any], index: int) -> Problem:
    """The problem is the completion prompt (signature and docstring), verbatim; the gold
    is the test code, in the record; the canonical solution is kept as the solution."""
    return Problem(
        problem_id=str(row["task_id"]),
        problem=row["prompt"],
        answer="",  # a function task's gold is its test code, in the record
        solution=row.get("canonical_solution") or "",
        record={field: row[field] for field in RECORD_FIELDS},
    )
