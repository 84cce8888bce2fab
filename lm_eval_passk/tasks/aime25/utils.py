"""AIME 2025 I + II: hub `math-ai/aime25` (split test) or `aime25/test.jsonl`.

Both carry problem and answer (an integer 0-999 as text); the local copy also carries
id, contest ("AIME 2025 I" / "AIME 2025 II") and number (1-15).
"""

from typing import Any

from lm_eval_passk.tasks._common.dataset import (
    BenchmarkLoader,
    BenchmarkSource,
    Problem,
    fields_of,
)

FIELDS = ("contest",)  # what `lm-eval-passk report --by` can group by


def to_problem(row: dict[str, Any], index: int) -> Problem:
    return Problem(
        problem_id=f"aime25-{row.get('id', index)}",
        problem=row["problem"],
        answer=str(row["answer"]).strip(),
        solution=row.get("solution") or "",
        fields=fields_of(row, FIELDS),
    )


SOURCE = BenchmarkSource(
    name="aime25",
    hub_path="math-ai/aime25",
    hub_split="test",
    local_file="aime25/test.jsonl",
    to_problem=to_problem,
)


load = BenchmarkLoader(SOURCE)
