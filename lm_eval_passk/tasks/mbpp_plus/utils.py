"""MBPP+ (`evalplus/mbppplus`, split `test`, EvalPlus v0.2.0): 378 problems; with
`data_dir`, `<data_dir>/mbpp_plus/test.jsonl` in the hub's schema (task_id, code, prompt,
source_file, test_imports, test_list, test)."""

from typing import Any

from lm_eval_passk.grading.code.mbpp import mbpp_plus_entry_point, mbpp_plus_prompt
from lm_eval_passk.tasks._common.dataset import (
    BenchmarkLoader,
    BenchmarkSource,
    Problem,
)

# What the grader needs of a row (grading/code/mbpp.py turns it into a HumanEval record).
RECORD_FIELDS = ("task_id", "prompt", "code", "test_imports", "test_list", "test")


def to_problem(row: dict[str, Any], index: int) -> Problem:
    """The problem is EvalPlus's completion prompt (a docstring with the task and MBPP's
    first assert); the gold is the test code, in the record; `code` is the solution."""
    record = {field: row[field] for field in RECORD_FIELDS}
    record["entry_point"] = mbpp_plus_entry_point(row)  # fails here, naming the row, if unclear
    return Problem(
        problem_id=f"Mbpp/{row['task_id']}",
        problem=mbpp_plus_prompt(row),
        answer="",  # a function task's gold is its test code, in the record
        solution=row["code"],
        record=record,
    )


SOURCE = BenchmarkSource(
    name="mbpp_plus",
    hub_path="evalplus/mbppplus",
    hub_split="test",
    local_file="mbpp_plus/test.jsonl",
    to_problem=to_problem,
)

load = BenchmarkLoader(SOURCE, prompt_kind="function")
