"""MATH500 (Lightman et al. split): hub `HuggingFaceH4/MATH-500` or `math500/test.jsonl`.

Both carry problem, solution, answer and unique_id (e.g. "test/precalculus/807.json").
"""

from typing import Any

from lm_eval_passk.tasks._common.dataset import (
    BenchmarkLoader,
    BenchmarkSource,
    Problem,
    fields_of,
)

FIELDS = ("level", "subject")  # what `lm-eval-passk report --by` can group by


def to_problem(row: dict[str, Any], index: int) -> Problem:
    return Problem(
        problem_id=row["unique_id"],
        problem=row["problem"],
        answer=str(row["answer"]),
        solution=row.get("solution") or "",
        fields=fields_of(row, FIELDS),
    )


SOURCE = BenchmarkSource(
    name="math500",
    hub_path="HuggingFaceH4/MATH-500",
    hub_split="test",
    local_file="math500/test.jsonl",
    to_problem=to_problem,
)


load = BenchmarkLoader(SOURCE)
