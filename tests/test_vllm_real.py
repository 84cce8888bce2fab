"""math500_passk and mathvista_passk through lm-eval's real vLLM backends on the real `vllm`.

Runs only where the real vllm package is installed, which the test environment is not (vLLM
0.33 needs torch 2.14 and a CUDA build). The README's one-liner installs `.[vllm]` into its
own virtual environment and runs this file there. Each test runs the real `lm_eval` CLI
through tests/vllm_real_engine.py, which replaces only `vllm.LLM`'s constructor (no engine
is started; the model config is vLLM's own) and its `generate` (no model runs): lm-eval's
`VLLM` and `VLLM_VLM` classes, vLLM's `SamplingParams`, `TokensPrompt`, `TextPrompt`,
tokenizer, chat-template resolution and the PIL images in `multi_modal_data` are all real.
Where tests/vllm_stub replaces all of vllm (and so once hid that `--model vllm-vlm` could not
import ray), this checks the packages a user's `pip install ".[vllm]"` brings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from conftest import FIXTURE_DATA, lm_eval_args, offline_env

try:
    REAL_VLLM = metadata.version("vllm")
except metadata.PackageNotFoundError:
    REAL_VLLM = None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        REAL_VLLM is None,
        reason="the real vllm package is not installed: run this file in a venv with "
        "`pip install -e \".[vllm]\"` (README, 'Running with vLLM')",
    ),
]

ENGINE = Path(__file__).resolve().parent / "vllm_real_engine.py"
N = 4
MAX_MODEL_LEN = 17000
# The protocol, as lm_eval_passk/tasks/_common/_passk_template_yaml writes it.
UNTIL = ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>"]


def run_through_real_vllm(model: str, model_dir: Path, task: str, data_dir: Path, work: Path, *extra: str) -> dict:
    """The real lm_eval CLI on the real vllm, engine replaced: the engine's log, the samples
    and the results."""
    log = work / "engine.jsonl"
    args = lm_eval_args(
        model, f"pretrained={model_dir},max_model_len={MAX_MODEL_LEN}", task,
        {"n": N, "data_dir": str(data_dir)}, work / "out", "--batch_size", "auto", *extra,
    )  # fmt: skip
    completed = subprocess.run(
        [sys.executable, str(ENGINE), str(log), *args], env=offline_env(work / "raw"), cwd=work,
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    (results_file,) = (work / "out").rglob("results_*.json")
    (samples_file,) = (work / "out").rglob(f"samples_{task}_*.jsonl")
    return {
        "inits": [r for r in records if r["event"] == "init"],
        "requests": [r for r in records if r["event"] == "request"],
        "samples": [json.loads(line) for line in samples_file.read_text().splitlines()],
        "results": json.loads(results_file.read_text()),
    }


def check_protocol_and_distinct_samples(run: dict, task: str, problems: int, kind: str) -> None:
    (init,) = run["inits"]  # one engine for the run, from --model_args
    assert init["kwargs"]["max_model_len"] == str(MAX_MODEL_LEN)
    assert len(run["requests"]) == problems * N  # one request per sample, not SamplingParams.n
    for request in run["requests"]:
        assert request["prompt_kind"] == kind
        assert request["n"] == 1
        assert request["temperature"] == 0.6 and request["top_p"] == 0.95
        assert request["max_tokens"] == 16384
        assert request["seed"] is None  # a per-request seed would make the n repeats identical
        assert set(UNTIL) <= set(request["stop"])
    assert len(run["samples"]) == problems
    for sample in run["samples"]:
        (responses,) = sample["resps"]
        assert len(responses) == N and len(set(responses)) == N
        assert sample["n_samples"] == N
        assert sample["n_correct"] == sum(f"\\boxed{{{sample['target']}}}" in text for text in responses)
    assert run["results"]["configs"][task]["passk"]["identical_fraction"] == 0.0


def test_math500_through_the_real_vllm_backend(tiny_model: Path, tmp_path: Path) -> None:
    run = run_through_real_vllm("vllm", tiny_model, "math500_passk", FIXTURE_DATA, tmp_path)
    check_protocol_and_distinct_samples(run, "math500_passk", problems=3, kind="tokens")


def test_mathvista_through_the_real_vllm_vlm_backend(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """`--model vllm-vlm` imports (ray included) and sends each problem's own image as a PIL
    image in a TextPrompt."""
    from test_mathvista_task import FREE_FORM_PIDS, make_data_dir
    from tiny_vlm import build_tiny_vlm

    model = build_tiny_vlm(tmp_path_factory.mktemp("tiny-vlm"))
    data_dir = make_data_dir(tmp_path_factory.mktemp("mathvista-data"))
    run = run_through_real_vllm("vllm-vlm", model, "mathvista_passk", data_dir, tmp_path, "--apply_chat_template")
    check_protocol_and_distinct_samples(run, "mathvista_passk", problems=len(FREE_FORM_PIDS), kind="text")
    assert {tuple(map(tuple, r["image_sizes"])) for r in run["requests"]} == {((48, 32),)}
    assert len({r["prompt_md5"] for r in run["requests"]}) == len(FREE_FORM_PIDS)
