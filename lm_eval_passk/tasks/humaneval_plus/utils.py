"""HumanEval+ (`evalplus/humanevalplus`, split `test`): HumanEval's 164 problems with
EvalPlus's tests; with `data_dir`, `<data_dir>/humaneval_plus/test.jsonl` in the hub's
schema (task_id, prompt, canonical_solution, entry_point, test)."""

from lm_eval_passk.tasks._common.dataset import BenchmarkLoader, BenchmarkSource
from lm_eval_passk.tasks._common.humaneval_schema import humaneval_problem

SOURCE = BenchmarkSource(
    name="humaneval_plus",
    hub_path="evalplus/humanevalplus",
    hub_split="test",
    local_file="humaneval_plus/test.jsonl",
    to_problem=humaneval_problem,
)

load = BenchmarkLoader(SOURCE, prompt_kind="function")
