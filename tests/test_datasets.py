"""Loading benchmarks through `data_dir`, prompt choice, and clear errors on bad input."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
from conftest import FIXTURE_DATA, SHARED_DATA

from lm_eval_passk.tasks._common.dataset import DataError
from lm_eval_passk.tasks._common.options import read_options

TASKS_DIR = Path(__file__).resolve().parent.parent / "lm_eval_passk" / "tasks"
EXPECTED_SIZES = {
    "gsm8k": 1319, "math500": 500, "aime24": 30, "minerva_math": 272,
    "aime25": 30, "amc23": 40, "olympiadbench": 675,
}


def benchmark_module(name: str):
    """The benchmark folder's utils.py, loaded by path as lm-eval's `!function` does."""
    spec = importlib.util.spec_from_file_location(f"utils_{name}", TASKS_DIR / name / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_test_split(name: str, **metadata):
    return benchmark_module(name).load(**metadata)["test"]


@pytest.mark.parametrize("name", sorted(EXPECTED_SIZES))
def test_fixture_files_load(name: str) -> None:
    docs = load_test_split(name, data_dir=str(FIXTURE_DATA))
    assert len(docs) == 3
    assert all(doc["answer"] in ("2", "002") for doc in docs)
    assert all(doc["problem_id"] and doc["passk_prompt"] for doc in docs)
    assert benchmark_module(name).load.benchmark == name


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real benchmark files absent ({SHARED_DATA})")
@pytest.mark.parametrize("name", sorted(EXPECTED_SIZES))
def test_every_real_problem_loads_with_a_gold_answer(name: str) -> None:
    docs = load_test_split(name, data_dir=str(SHARED_DATA))
    assert len(docs) == EXPECTED_SIZES[name]
    assert len(set(docs["problem_id"])) == len(docs)
    for doc in docs:
        assert doc["problem"].strip() and doc["answer"].strip(), doc["problem_id"]


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real benchmark files absent ({SHARED_DATA})")
def test_real_gold_answers_look_right() -> None:
    aime = {d["problem_id"]: d["answer"] for d in load_test_split("aime24", data_dir=str(SHARED_DATA))}
    assert all(answer.isdigit() and int(answer) < 1000 for answer in aime.values())
    gsm8k = load_test_split("gsm8k", data_dir=str(SHARED_DATA))
    # Every GSM8K answer is an integer; the loader keeps the text after `####` without
    # thousands separators ("1,000" -> "1000"), so each must be a plain integer.
    not_integers = [answer for answer in gsm8k["answer"] if not re.fullmatch(r"-?\d+", answer)]
    assert not_integers == []
    math500 = load_test_split("math500", data_dir=str(SHARED_DATA))
    assert math500[0]["problem_id"].startswith("test/")
    aime25 = load_test_split("aime25", data_dir=str(SHARED_DATA))
    assert all(answer.isdigit() and int(answer) < 1000 for answer in aime25["answer"])
    # AMC23 stores its answers as floats (27.0): the gold is the integer's text.
    amc23 = load_test_split("amc23", data_dir=str(SHARED_DATA))
    assert all(re.fullmatch(r"-?\d+", answer) for answer in amc23["answer"])
    assert amc23[0]["answer"] == "27"


def test_qwen_boxed_prompt_carries_the_chat_markup() -> None:
    doc = load_test_split("math500", data_dir=str(FIXTURE_DATA), prompt="qwen-boxed")[0]
    assert doc["passk_prompt"].startswith("<|im_start|>system\nYou are a helpful assistant.")
    assert doc["problem"] in doc["passk_prompt"]
    assert doc["passk_prompt"].endswith("<|im_start|>assistant\n")
    default = load_test_split("math500", data_dir=str(FIXTURE_DATA))[0]["passk_prompt"]
    assert default == doc["problem"] + "\nPlease reason step by step, and put your final answer within \\boxed{}."


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "math500").mkdir()
    good = (FIXTURE_DATA / "math500" / "test.jsonl").read_text().splitlines()
    (tmp_path / "math500" / "test.jsonl").write_text("\n".join([good[0], good[1][:40], good[2]]))
    with pytest.raises(ValueError, match=r"math500/test\.jsonl, line 2: not valid JSON"):
        load_test_split("math500", data_dir=str(tmp_path))


def test_missing_field_names_file_line_and_field(tmp_path: Path) -> None:
    (tmp_path / "aime24").mkdir()
    (tmp_path / "aime24" / "test.jsonl").write_text(json.dumps({"id": 1, "problem": "p"}) + "\n")
    with pytest.raises(DataError, match=r"aime24/test\.jsonl, line 1: missing field 'answer'"):
        load_test_split("aime24", data_dir=str(tmp_path))


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"gsm8k/test\.jsonl"):
        load_test_split("gsm8k", data_dir=str(tmp_path))


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"n": 0}, "'n' must be a positive integer"),
        ({"n": "64"}, "'n' must be a positive integer"),
        ({"n": True}, "'n' must be a positive integer"),
        ({"prompt": "chatml"}, "'prompt' must be one of answer-only, boxed, code, code-complete, code-fence, code-instruct, easyr1, qwen-boxed"),
        ({"data_dir": "/no/such/dir"}, "is not a directory"),
    ],
)
def test_bad_metadata_is_rejected_clearly(metadata: dict, message: str) -> None:
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        read_options(metadata)
