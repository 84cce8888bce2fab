"""OlympiadBench, English text-only open-ended competition maths (OE_TO_maths_en_COMP):
hub `Hothan/OlympiadBench` (config OE_TO_maths_en_COMP, split train) or
`olympiadbench/test.jsonl` (Qwen2.5-Math's copy).

Both carry id, question, context, solution, final_answer (a list of strings),
is_multiple_answer, unit, answer_type and subfield. The gold is the list joined by ", ",
the form in which the grader compares unordered lists and lists of tuples; the unit is not
part of the gold (a response may state it: the grader strips a trailing unit).
"""

from typing import Any

from lm_eval_passk.tasks._common.dataset import (
    BenchmarkLoader,
    BenchmarkSource,
    Problem,
    fields_of,
)

FIELDS = ("subfield", "answer_type", "is_multiple_answer")  # for `report --by`


def gold_text(final_answer: list[str] | str) -> str:
    """The final answers as one gold: each item is an answer (or already a list of them)."""
    if isinstance(final_answer, str):
        return final_answer.strip()
    return ", ".join(item.strip() for item in final_answer if item and item.strip())


def to_problem(row: dict[str, Any], index: int) -> Problem:
    context = (row.get("context") or "").strip()
    question = row["question"]
    solution = row.get("solution") or ""
    return Problem(
        problem_id=f"olympiadbench-{row['id']}",
        problem=f"{context}\n\n{question}" if context else question,
        answer=gold_text(row["final_answer"]),
        solution="\n\n".join(solution) if isinstance(solution, list) else solution,
        fields=fields_of(row, FIELDS),
    )


SOURCE = BenchmarkSource(
    name="olympiadbench",
    hub_path="Hothan/OlympiadBench",
    hub_config="OE_TO_maths_en_COMP",
    hub_split="train",
    local_file="olympiadbench/test.jsonl",
    to_problem=to_problem,
)


load = BenchmarkLoader(SOURCE)
