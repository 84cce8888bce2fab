"""GSM8K: hub `openai/gsm8k` (config main) or `gsm8k/test.jsonl`; both have question/answer."""

from typing import Any

from lm_eval_passk.tasks._common.dataset import BenchmarkLoader, BenchmarkSource, Problem


def to_problem(row: dict[str, Any], index: int) -> Problem:
    # The gold answer is the text after "#### " in the reference solution.
    solution = row["answer"]
    gold = solution.split("####")[-1].strip().replace(",", "") if "####" in solution else ""
    return Problem(
        problem_id=f"gsm8k-test-{index}", problem=row["question"], answer=gold, solution=solution
    )


SOURCE = BenchmarkSource(
    name="gsm8k",
    hub_path="openai/gsm8k",
    hub_config="main",
    hub_split="test",
    local_file="gsm8k/test.jsonl",
    to_problem=to_problem,
)


load = BenchmarkLoader(SOURCE)
