"""HumanEval (`openai/openai_humaneval`, split `test`): 164 problems; with `data_dir`,
`<data_dir>/humaneval/HumanEval.jsonl.gz` (openai/human-eval's file, the same schema)."""

from lm_eval_passk.tasks._common.dataset import BenchmarkLoader, BenchmarkSource
from lm_eval_passk.tasks._common.humaneval_schema import humaneval_problem

SOURCE = BenchmarkSource(
    name="humaneval",
    hub_path="openai/openai_humaneval",
    hub_split="test",
    local_file="humaneval/HumanEval.jsonl.gz",
    to_problem=humaneval_problem,
)

load = BenchmarkLoader(SOURCE, prompt_kind="function")
