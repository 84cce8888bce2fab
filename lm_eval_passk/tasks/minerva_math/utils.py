"""Minerva Math (272 OCW problems): hub `math-ai/minervamath` or `minerva_math/test.jsonl`.

The hub copy has question/answer; the local copy (Qwen2.5-Math's) has problem/solution/idx
and no answer field: the gold answer is the last \\boxed{} of the solution.
"""

from typing import Any

from lm_eval_passk.grading.extract import last_boxed
from lm_eval_passk.tasks._common.dataset import (
    BenchmarkLoader,
    BenchmarkSource,
    Problem,
    fields_of,
)

FIELDS = ("type",)  # the course (Qwen2.5-Math's local copy has it); what `report --by` can group by


def to_problem(row: dict[str, Any], index: int) -> Problem:
    solution = row.get("solution") or ""
    answer = row["answer"] if "answer" in row else (last_boxed(solution) or "")
    problem = row["problem"] if "problem" in row else row["question"]
    return Problem(
        problem_id=f"minerva-{row.get('idx', index)}",
        problem=problem,
        answer=str(answer).strip(),
        solution=solution,
        fields=fields_of(row, FIELDS),
    )


SOURCE = BenchmarkSource(
    name="minerva_math",
    hub_path="math-ai/minervamath",
    hub_split="test",
    local_file="minerva_math/test.jsonl",
    to_problem=to_problem,
)


load = BenchmarkLoader(SOURCE)
