"""humaneval_passk, humaneval_plus_passk and mbpp_plus_passk: the loaders, and runs through
the real `lm_eval` CLI and lm-eval's vLLM backend, with the stand-in engine of
tests/vllm_stub answering each problem by its prompt (a byte-level tokenizer lets it read
the prompt back), graded in the real sandbox.

HumanEval comes from ../shared/data (skipped where that is absent): its 164 canonical
solutions must score pass@1 = 1.0 and `return None` stubs 0.0. HumanEval+ and MBPP+ come
from small fixtures written in the hub schemas (tests/fixtures/data/{humaneval_plus,
mbpp_plus}/test.jsonl), each problem answered once right and once wrong."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURE_DATA, SHARED_DATA, lm_eval_args, offline_env, run_lm_eval

from lm_eval_passk.grading import grade
from lm_eval_passk.tasks._common.prompts import RESPONSE_PREFIXES, RESPONSE_STOPS

TASKS_DIR = Path(__file__).resolve().parent.parent / "lm_eval_passk" / "tasks"
STUB_DIR = Path(__file__).resolve().parent / "vllm_stub"
HUMANEVAL_FILE = SHARED_DATA / "humaneval" / "HumanEval.jsonl.gz"
STUB = "    return None\n"


def loader(folder: str):
    spec = importlib.util.spec_from_file_location(f"{folder}_utils", TASKS_DIR / folder / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load


def fixture_rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURE_DATA / name / "test.jsonl").open()]


@pytest.fixture(scope="module")
def byte_model(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model's files with a byte-level tokenizer, which round-trips every prompt."""
    from tiny_model import byte_level_tokenizer

    directory = tmp_path_factory.mktemp("byte-model") / "model"
    shutil.copytree(tiny_model, directory)
    for stale in directory.glob("tokenizer*"):
        stale.unlink()
    byte_level_tokenizer().save_pretrained(directory)
    return directory


def run_tasks(
    model: Path, work: Path, tasks: str, metadata: dict, answers: dict[str, list[str]]
) -> dict:
    """One `lm_eval` run whose stand-in engine answers each prompt from `answers`."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "answers.json").write_text(json.dumps(answers))
    env = offline_env(work / "raw", extra_pythonpath=STUB_DIR)
    env.update(VLLM_STUB_ANSWERS=str(work / "answers.json"), VLLM_STUB_LOG=str(work / "stub.jsonl"))
    args = lm_eval_args(
        "vllm", f"pretrained={model},max_model_len=20000", tasks, metadata, work / "out",
        "--batch_size", "auto", "--confirm_run_unsafe_code",
    )  # fmt: skip
    run_lm_eval(args, env=env, cwd=work)
    (results,) = (work / "out").rglob("results_*.json")
    rows = {
        task: [json.loads(line) for line in next((work / "out").rglob(f"samples_{task}_*.jsonl")).open()]
        for task in tasks.split(",")
    }
    requests = [json.loads(line) for line in (work / "stub.jsonl").open()]
    return {"results": json.loads(results.read_text())["results"], "rows": rows, "requests": requests}


# Loaders


def test_humaneval_plus_loader_reads_the_hub_schema() -> None:
    docs = loader("humaneval_plus")(data_dir=str(FIXTURE_DATA))["test"]
    rows = fixture_rows("humaneval_plus")
    assert docs["problem_id"] == [row["task_id"] for row in rows]
    assert docs["passk_prompt"] == [row["prompt"] for row in rows]  # code-complete: verbatim
    record = json.loads(docs[0]["passk_record"])
    assert record == {field: rows[0][field] for field in ("task_id", "prompt", "test", "entry_point")}


def test_mbpp_plus_loader_reads_the_hub_schema() -> None:
    docs = loader("mbpp_plus")(data_dir=str(FIXTURE_DATA))["test"]
    assert docs["problem_id"] == ["Mbpp/2", "Mbpp/3", "Mbpp/4"]
    # EvalPlus's completion prompt: the task and MBPP's first assert, in a docstring.
    assert docs[0]["passk_prompt"] == (
        '"""\nWrite a function to find the shared elements from the given two lists.\n'
        "assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))\n"
        '"""\n'
    )
    records = [json.loads(record) for record in docs["passk_record"]]
    # `assert set(similar_elements(...))`: the entry point is the function, not `set`.
    assert [r["entry_point"] for r in records] == ["similar_elements", "is_not_prime", "heap_queue_largest"]


def test_instruct_prompt_and_its_response_prefix_grade_a_fenced_program() -> None:
    docs = loader("mbpp_plus")(data_dir=str(FIXTURE_DATA), prompt="code-instruct")["test"]
    assert docs[1]["passk_prompt"].startswith("Please provide a self-contained Python script")
    assert "```\n\"\"\"\nWrite a python function to identify non-prime numbers." in docs[1]["passk_prompt"]
    row = fixture_rows("mbpp_plus")[1]
    prefix = RESPONSE_PREFIXES["code-instruct"]
    assert grade("mbpp_plus", prefix + row["code"] + "\n```\nDone.", row).correct
    assert not grade("mbpp_plus", prefix + "def is_not_prime(n):\n    return False\n```", row).correct


def test_a_function_task_refuses_a_math_prompt() -> None:
    with pytest.raises(ValueError, match="valid prompts: code-complete, code-instruct"):
        from lm_eval_passk.tasks._common.options import check_prompt_fits

        check_prompt_fits("humaneval_passk", "boxed", loader("humaneval").prompt_kind)


# Runs through lm_eval


@pytest.mark.skipif(not HUMANEVAL_FILE.is_file(), reason=f"{HUMANEVAL_FILE} is absent")
@pytest.mark.parametrize(("answer", "expected"), [("canonical", 1.0), ("stub", 0.0)])
def test_humaneval_from_data_dir_end_to_end(
    byte_model: Path, tmp_path: Path, answer: str, expected: float
) -> None:
    from lm_eval_passk.jsonl import json_lines

    problems = [row for _, row in json_lines(HUMANEVAL_FILE)]
    answers = {p["prompt"]: [p["canonical_solution"] if answer == "canonical" else STUB] for p in problems}
    run = run_tasks(byte_model, tmp_path, "humaneval_passk", {"n": 1, "data_dir": str(SHARED_DATA)}, answers)
    result = run["results"]["humaneval_passk"]
    assert result["pass@1,passk"] == expected
    rows = run["rows"]["humaneval_passk"]
    assert len(rows) == 164 and sum(row["n_correct"] for row in rows) == 164 * expected
    # Each problem was answered with its own solution: the verdict's program is prompt + it.
    by_id = {p["task_id"]: p for p in problems}
    for row in rows:
        (verdicts,) = row["filtered_resps"]
        problem = by_id[row["doc"]["problem_id"]]
        if answer == "canonical":
            assert json.loads(verdicts[0])["answer"] == problem["prompt"] + problem["canonical_solution"]
    # The base-model prompt's stops reached the engine.
    assert set(RESPONSE_STOPS["code-complete"]) <= set(run["requests"][-1]["sampling_params"]["stop"])


def test_evalplus_fixtures_end_to_end(byte_model: Path, tmp_path: Path) -> None:
    """Each problem answered once right and once wrong (n = 2): c = 1 for every problem."""
    humaneval_plus, mbpp_plus = fixture_rows("humaneval_plus"), fixture_rows("mbpp_plus")
    mbpp_prompts = loader("mbpp_plus")(data_dir=str(FIXTURE_DATA))["test"]["passk_prompt"]
    answers = {row["prompt"]: [row["canonical_solution"], STUB] for row in humaneval_plus}
    wrong = [  # MBPP+ answers are whole functions (the prompt is a docstring)
        "def similar_elements(a, b):\n    return tuple(set(a) | set(b))\n",
        "def is_not_prime(n):\n    return n % 2 == 0\n",
        "def heap_queue_largest(nums, n):\n    return sorted(nums)[:n]\n",
    ]
    for prompt, row, bad in zip(mbpp_prompts, mbpp_plus, wrong):
        answers[prompt] = [row["code"], bad]
    run = run_tasks(
        byte_model, tmp_path, "humaneval_plus_passk,mbpp_plus_passk",
        {"n": 2, "data_dir": str(FIXTURE_DATA)}, answers,
    )  # fmt: skip
    for task in ("humaneval_plus_passk", "mbpp_plus_passk"):
        rows = run["rows"][task]
        assert len(rows) == 3
        for row in rows:
            (verdicts,) = row["filtered_resps"]
            assert [json.loads(v)["correct"] for v in verdicts] == [True, False], (task, row["doc"]["problem_id"])
        result = run["results"][task]
        assert (result["pass@1,passk"], result["pass@2,passk"]) == (0.5, 1.0)


def test_passk_code_group_is_indexed_and_needs_confirmation(tiny_model: Path, tmp_path: Path) -> None:
    """lm_eval finds the group (and its tasks) and refuses it, before loading the model,
    without --confirm_run_unsafe_code."""
    args = lm_eval_args(
        "hf", f"pretrained={tiny_model}", "passk_code", {"n": 1}, tmp_path / "out", "--device", "cpu"
    )
    refused = run_lm_eval(args, env=offline_env(tmp_path / "raw"), cwd=tmp_path, expect_failure=True)
    log = refused.stdout + refused.stderr
    assert "runs model-written programs" in log and "--confirm_run_unsafe_code" in log
    assert "not found" not in log.lower()


def test_instruct_prompt_end_to_end(byte_model: Path, tmp_path: Path) -> None:
    """`code-instruct`: the model's turn opens with EvalPlus's response prefix (a python
    fence), the answer closes the fence, and the prefix is graded with it; no completion
    stops are added."""
    rows = fixture_rows("mbpp_plus")
    prompts = loader("mbpp_plus")(data_dir=str(FIXTURE_DATA))["test"]["passk_prompt"]
    answers = {prompt: [row["code"] + "\n```\n"] for prompt, row in zip(prompts, rows)}
    run = run_tasks(
        byte_model, tmp_path, "mbpp_plus_passk",
        {"n": 1, "data_dir": str(FIXTURE_DATA), "prompt": "code-instruct"}, answers,
    )  # fmt: skip
    assert run["results"]["mbpp_plus_passk"]["pass@1,passk"] == 1.0
    request = run["requests"][-1]
    assert not set(RESPONSE_STOPS["code-complete"]) & set(request["sampling_params"]["stop"])
    # The prompt lm-eval built ends in the response prefix (lm-eval's gen_prefix).
    (row, *_) = run["rows"]["mbpp_plus_passk"]
    assert json.dumps(RESPONSE_PREFIXES["code-instruct"])[1:-1] + '"' in json.dumps(row["arguments"])
