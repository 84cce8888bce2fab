"""AIME 2024 I + II: hub `HuggingFaceH4/aime_2024` (split train) or `aime24/test.jsonl`.

Both carry id, problem, solution and answer; some local answers are zero-padded ("025"),
which the grader compares numerically.
"""

from typing import Any

from lm_eval_passk.tasks._common.dataset import BenchmarkLoader, BenchmarkSource, Problem


def to_problem(row: dict[str, Any], index: int) -> Problem:
    return Problem(
        problem_id=f"aime24-{row['id']}",
        problem=row["problem"],
        answer=str(row["answer"]).strip(),
        solution=row.get("solution") or "",
    )


SOURCE = BenchmarkSource(
    name="aime24",
    hub_path="HuggingFaceH4/aime_2024",
    hub_split="train",
    local_file="aime24/test.jsonl",
    to_problem=to_problem,
)


load = BenchmarkLoader(SOURCE)
