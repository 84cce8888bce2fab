"""livecodebench_passk: the loader, and a run through the real `lm_eval` CLI and lm-eval's
vLLM backend (with the stand-in `vllm` module of tests/vllm_stub returning scripted
programs), graded in the real sandbox."""

from __future__ import annotations

import importlib.util
import json
from fractions import Fraction
from math import comb
from pathlib import Path

import pytest
from conftest import FIXTURE_DATA, lm_eval_args, offline_env, run_lm_eval

from lm_eval_passk.grading import grade

TASK_DIR = Path(__file__).resolve().parent.parent / "lm_eval_passk" / "tasks" / "livecodebench"
STUB_DIR = Path(__file__).resolve().parent / "vllm_stub"
N = 6
PROGRAMS = [  # what the stand-in engine answers, in turn
    "Here it is:\n```python\nprint(2)\n```",
    "```python\nx = int(input())\nprint(2 * x)\n```",
    "```python\nclass Solution:\n    def two(self) -> int:\n        return 2\n```",
    "```python\nprint(3)\n```",
    "```python\nimport os\nprint(os.environ.get('LCB_TEST_SECRET', 'none'))\n```",
    "I am not sure how to solve this.",
]


def loader():
    spec = importlib.util.spec_from_file_location("lcb_utils", TASK_DIR / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_default_window_and_release() -> None:
    docs = loader().load(data_dir=str(FIXTURE_DATA), release="release_v1")["test"]
    # fx000's contest (2024-05-01) is before the default window 2024-08-01 .. 2025-01-31.
    assert docs["problem_id"] == ["lcb-fx001", "lcb-fx002", "lcb-fx003"]
    wider = loader().load(data_dir=str(FIXTURE_DATA), release="release_v1", start_date="2024-01-01")["test"]
    assert len(wider) == 4


def test_prompt_is_the_benchmarks_own() -> None:
    docs = loader().load(data_dir=str(FIXTURE_DATA), release="release_v1")["test"]
    stdin_prompt, functional_prompt = docs[0]["passk_prompt"], docs[2]["passk_prompt"]
    assert stdin_prompt.startswith("You will be given a question (problem specification)")
    assert "Question: Print the integer 2." in stdin_prompt
    assert "Read the inputs from stdin" in stdin_prompt and "# YOUR CODE HERE" in stdin_prompt
    assert "You will use the following starter code" in functional_prompt
    assert "def two(self) -> int:" in functional_prompt
    record = json.loads(docs[0]["passk_record"])
    assert record["question_id"] == "fx001" and "private_test_cases" in record


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"release": "release_v9"}, "'release' must be one of"),
        ({"start_date": "2024/08/01"}, "'start_date' must be a date YYYY-MM-DD"),
    ],
)
def test_bad_metadata(metadata: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        loader().load(data_dir=str(FIXTURE_DATA), **metadata)


def test_missing_release_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "livecodebench").mkdir()
    (tmp_path / "livecodebench" / "test.jsonl").write_text((FIXTURE_DATA / "livecodebench" / "test.jsonl").read_text())
    with pytest.raises(FileNotFoundError, match=r"livecodebench/test2\.jsonl"):
        loader().load(data_dir=str(tmp_path), release="release_v2")


@pytest.fixture(scope="module")
def lcb_run(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("lcb")
    (work / "programs.json").write_text(json.dumps(PROGRAMS))
    env = offline_env(work / "raw", extra_pythonpath=STUB_DIR)
    env.update(VLLM_STUB_RESPONSES=str(work / "programs.json"), VLLM_STUB_LOG=str(work / "stub.jsonl"))
    env["LCB_TEST_SECRET"] = "do-not-leak"
    args = lm_eval_args(
        "vllm", f"pretrained={tiny_model},max_model_len=17000", "livecodebench_passk",
        {"n": N, "data_dir": str(FIXTURE_DATA), "release": "release_v1"}, work / "out",
        "--batch_size", "auto",
    )  # fmt: skip
    refused = run_lm_eval(args, env=env, cwd=work, expect_failure=True)
    run_lm_eval([*args, "--confirm_run_unsafe_code"], env=env, cwd=work)
    (results,) = (work / "out").rglob("results_*.json")
    (samples,) = (work / "out").rglob("samples_livecodebench_passk_*.jsonl")
    return {
        "refused": refused.stdout + refused.stderr,
        "results": json.loads(results.read_text()),
        "rows": [json.loads(line) for line in samples.open()],
    }


def test_running_code_needs_confirmation(lcb_run: dict) -> None:
    assert "confirm_run_unsafe_code" in lcb_run["refused"]


def test_every_program_is_graded_in_the_sandbox(lcb_run: dict) -> None:
    rows = lcb_run["rows"]
    assert len(rows) == 3
    correct_total = 0
    for row in rows:
        (responses,) = row["resps"]
        (verdicts,) = row["filtered_resps"]
        assert len(responses) == N
        record = json.loads(row["doc"]["passk_record"])
        decoded = [json.loads(v) for v in verdicts]
        # The task's verdicts are the grader's, recomputed here in-process.
        assert [v["correct"] for v in decoded] == [grade("livecodebench", r, record).correct for r in responses]
        assert row["n_correct"] == sum(v["correct"] for v in decoded)
        correct_total += row["n_correct"]
        for response, verdict in zip(responses, decoded):
            if "LCB_TEST_SECRET" in response or "not sure" in response:
                assert not verdict["correct"]
    assert 0 < correct_total < 3 * N


def test_pass_at_k_is_the_estimator_over_logged_counts(lcb_run: dict) -> None:
    counts = [row["n_correct"] for row in lcb_run["rows"]]
    results = lcb_run["results"]["results"]["livecodebench_passk"]
    for k in (1, 2, 4, 6):
        expected = sum(1 - Fraction(comb(N - c, k), comb(N, k)) for c in counts) / len(counts)
        assert results[f"pass@{k},passk"] == pytest.approx(float(expected), abs=1e-12)
