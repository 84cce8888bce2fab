"""Our tasks' generation kwargs reach vLLM's SamplingParams through lm-eval's vLLM backend.

What is real here:
- the `lm_eval` CLI, run in a subprocess (`python -m lm_eval --model vllm ...`);
- lm-eval's own vLLM backend, lm_eval/models/vllm_causallms.py (class VLLM): it turns each
  request's generation kwargs into a `vllm.SamplingParams`, tokenises the prompts, batches
  the requests and calls `LLM.generate`;
- our four tasks (gsm8k_passk, math500_passk, aime24_passk, minerva_math_passk) with their
  YAML generation kwargs, `--metadata` options, filter, grading and pass@k metrics, on the
  small fixture files (3 problems each);
- a tokenizer and config saved by tests/tiny_model.py, read with transformers.

What is a stand-in: only the `vllm` package (tests/vllm_stub, put first on PYTHONPATH of
the subprocess). Its SamplingParams keeps its kwargs and rejects names real vLLM rejects,
its LLM records the engine arguments, and LLM.generate logs every request (the
SamplingParams kwargs, prompt length, size of the call) to $VLLM_STUB_LOG and returns a
distinct canned text instead of running a model. So this checks what lm-eval would hand
a real vLLM engine, not what that engine does with it.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_DATA, MATH_TASKS, lm_eval_args, offline_env, run_lm_eval

pytestmark = pytest.mark.slow

STUB_DIR = Path(__file__).resolve().parent / "vllm_stub"
PROBLEMS_PER_TASK = 3  # lines in each tests/fixtures/data/*/test.jsonl
N = 8
MAX_MODEL_LEN = 17000

# The protocol, as lm_eval_passk/tasks/_common/_passk_template_yaml writes it.
TEMPERATURE = 0.6
TOP_P = 0.95
MAX_GEN_TOKS = 16384
UNTIL = ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>"]
TINY_MODEL_EOS = "</s>"  # tests/tiny_model.py; lm-eval adds the tokenizer's EOS to `stop`


class VLLMRun:
    """What one `lm_eval --model vllm` run left behind: the stub's log and lm-eval's output."""

    def __init__(self, model_dir: Path, work: Path, completed: subprocess.CompletedProcess):
        self.model_dir = model_dir
        self.completed = completed
        log = work / "vllm_stub_log.jsonl"
        records = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        self.inits = [r for r in records if r["event"] == "init"]
        self.requests = [r for r in records if r["event"] == "request"]
        self.output_dir = work / "out"

    def samples(self, task: str) -> list[dict[str, Any]]:
        files = sorted(self.output_dir.rglob(f"samples_{task}_*.jsonl"))
        assert len(files) == 1, f"expected one samples file for {task}, found {files}"
        return [json.loads(line) for line in files[0].read_text().splitlines() if line.strip()]

    def results(self) -> dict[str, Any]:
        files = sorted(self.output_dir.rglob("results_*.json"))
        assert len(files) == 1, f"expected one results file, found {files}"
        return json.loads(files[0].read_text())


@pytest.fixture(scope="module")
def vllm_run(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> VLLMRun:
    """Run the real lm_eval CLI once, for all four tasks, on the stand-in vllm package."""
    work = tmp_path_factory.mktemp("vllm_run")
    env = offline_env(work / "raw", extra_pythonpath=STUB_DIR)
    env["VLLM_STUB_LOG"] = str(work / "vllm_stub_log.jsonl")
    completed = run_lm_eval(
        lm_eval_args(
            "vllm", f"pretrained={tiny_model},max_model_len={MAX_MODEL_LEN}", ",".join(MATH_TASKS),
            {"n": N, "data_dir": str(FIXTURE_DATA)}, work / "out",
            "--batch_size", "auto",
        ),
        env=env,
        cwd=work,
    )  # fmt: skip
    return VLLMRun(tiny_model, work, completed)


def test_the_run_went_through_the_stand_in(vllm_run: VLLMRun) -> None:
    """run_lm_eval already failed the test on a non-zero exit; here: no real vllm was used."""
    assert vllm_run.inits, "the stand-in vllm.LLM was never built"


def test_engine_built_once_with_the_model_args(vllm_run: VLLMRun) -> None:
    """lm-eval builds one vllm.LLM, from --model_args, for all four tasks."""
    assert len(vllm_run.inits) == 1
    engine_args = vllm_run.inits[0]["kwargs"]
    assert engine_args["model"] == str(vllm_run.model_dir)
    assert engine_args["max_model_len"] == MAX_MODEL_LEN
    assert engine_args["tensor_parallel_size"] == 1


def test_one_request_per_sample(vllm_run: VLLMRun) -> None:
    """4 tasks x 3 problems x n=8 separate requests: repeats are not folded into
    SamplingParams.n, so each sample is its own request with its own random stream."""
    assert len(vllm_run.requests) == len(MATH_TASKS) * PROBLEMS_PER_TASK * N == 96
    for request in vllm_run.requests:
        assert request["sampling_params"].get("n", 1) == 1
        assert request["lora_request"] is None


def test_sampling_params_follow_the_protocol(vllm_run: VLLMRun) -> None:
    """Every SamplingParams carries the task YAML's temperature, top_p and max tokens, all
    our stop strings (plus the tokenizer's EOS), and no per-request seed."""
    assert vllm_run.requests
    for request in vllm_run.requests:
        params = request["sampling_params"]
        assert params["temperature"] == TEMPERATURE
        assert params["top_p"] == TOP_P
        assert params["max_tokens"] == MAX_GEN_TOKS
        assert params.get("seed") is None, params  # a seed would make all n repeats identical
        assert set(UNTIL) | {TINY_MODEL_EOS} <= set(params["stop"]), params["stop"]
        assert "do_sample" not in params  # the stand-in would also have raised on it
        # The prompt fits beside max_tokens in max_model_len, so lm-eval truncated nothing.
        assert 0 < request["prompt_tokens"] <= MAX_MODEL_LEN - MAX_GEN_TOKS


def test_requests_are_batched(vllm_run: VLLMRun) -> None:
    """With --batch_size auto, lm-eval hands vLLM all requests of a kwargs group in one
    generate call (vLLM schedules them itself), rather than one prompt per call."""
    prompts_per_call = {request["call"]: request["prompts_in_call"] for request in vllm_run.requests}
    assert sum(Counter(request["call"] for request in vllm_run.requests).values()) == sum(
        prompts_per_call.values()
    )
    # All four tasks share the same generation kwargs, so lm-eval sends one chunk of 96.
    assert prompts_per_call == {0: len(vllm_run.requests)}, prompts_per_call


def test_samples_keep_n_engine_responses_per_problem(vllm_run: VLLMRun) -> None:
    """Each task's samples file has its 3 problems with 8 responses each, which are exactly
    the texts the engine returned, and every response was graded."""
    engine_texts = Counter(request["text"] for request in vllm_run.requests)
    assert len(engine_texts) == len(vllm_run.requests)  # distinct per request
    logged = []
    for task in MATH_TASKS:
        samples = vllm_run.samples(task)
        assert len(samples) == PROBLEMS_PER_TASK
        for sample in samples:
            (responses,) = sample["resps"]  # one request per problem, repeated n times
            assert len(responses) == N
            assert len(set(responses)) == N
            (verdicts,) = sample["filtered_resps"]
            assert len(verdicts) == N
            assert sample["n_samples"] == N
            # Every fixture problem's answer is 2; the stand-in answers \boxed{2} or \boxed{3}.
            assert sample["n_correct"] == sum("\\boxed{2}" in text for text in responses)
            assert sample["identical_responses"] == 0.0
            logged += responses
    assert Counter(logged) == engine_texts


def test_results_record_the_protocol(vllm_run: VLLMRun) -> None:
    """results_*.json keeps n=8 and the task's generation kwargs for every task."""
    results = vllm_run.results()
    for task in MATH_TASKS:
        config = results["configs"][task]
        assert config["passk"]["n"] == N
        assert config["passk"]["sampling_degenerate"] is False
        gen_kwargs = config["generation_kwargs"]
        assert gen_kwargs["temperature"] == TEMPERATURE
        assert gen_kwargs["top_p"] == TOP_P
        assert gen_kwargs["max_gen_toks"] == MAX_GEN_TOKS
        assert gen_kwargs["until"] == UNTIL
        assert "seed" not in gen_kwargs
        assert results["results"][task]["n_samples,passk"] == N
