"""AMC 2023 (12A and 12B, 40 problems): hub `math-ai/amc23` (split test) or `amc23/test.jsonl`.

Both carry id, question (the local copy also problem), answer and url. The answer is
stored as a float (27.0): the gold is its integer text, "27".
"""

from typing import Any

from lm_eval_passk.tasks._common.dataset import (
    BenchmarkLoader,
    BenchmarkSource,
    Problem,
)


def answer_text(answer: Any) -> str:
    """The gold as written in the contest: an integral float 27.0 as "27"."""
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    return str(answer).strip()


def to_problem(row: dict[str, Any], index: int) -> Problem:
    return Problem(
        problem_id=f"amc23-{row.get('id', index)}",
        problem=row.get("problem") or row["question"],
        answer=answer_text(row["answer"]),
    )


SOURCE = BenchmarkSource(
    name="amc23",
    hub_path="math-ai/amc23",
    hub_split="test",
    local_file="amc23/test.jsonl",
    to_problem=to_problem,
)


load = BenchmarkLoader(SOURCE)
