"""Bad --metadata and missing flags through the real `lm_eval` CLI (issue 12): each is refused
in one line naming what to change, before the model loads, and a good run still passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURE_DATA, lm_eval_args, offline_env, run_lm_eval

MODEL_LOADED = "Initializing hf model"  # lm-eval's log line as it starts loading the weights


def lm_eval(tiny_model: Path, work: Path, tasks: str, metadata: dict, *extra: str, fail: bool) -> str:
    args = lm_eval_args(
        "hf", f"pretrained={tiny_model},dtype=float32", tasks, metadata, work / "out",
        "--limit", "1", "--batch_size", "2", "--device", "cpu", *extra,
    )  # fmt: skip
    result = run_lm_eval(args, env=offline_env(work / "raw"), cwd=work, expect_failure=fail)
    return result.stdout + result.stderr


def refusal(log: str) -> str:
    """The one line the CLI ends with, after checking that nothing heavy ran first."""
    assert MODEL_LOADED not in log
    assert "Traceback" not in log
    (line,) = [line for line in log.splitlines() if line.startswith("lm-eval-passk: ")]
    return line


def test_a_misspelt_key_is_refused_before_the_model_loads(tiny_model: Path, tmp_path: Path) -> None:
    log = lm_eval(tiny_model, tmp_path, "gsm8k_passk", {"n": 2, "data-dir": str(FIXTURE_DATA)}, fail=True)
    line = refusal(log)
    assert "'data-dir'" in line
    assert "valid keys: data_dir, grader, n, problems, prompt, require_sandbox" in line


def test_a_prompt_for_another_kind_of_task_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    metadata = {"n": 2, "data_dir": str(FIXTURE_DATA), "prompt": "code"}
    line = refusal(lm_eval(tiny_model, tmp_path, "gsm8k_passk", metadata, fail=True))
    assert "'code' does not fit gsm8k_passk, a math task; valid prompts: boxed, qwen-boxed, easyr1, answer-only" in line


def test_code_tasks_ask_for_the_unsafe_code_flag_before_anything_else(tiny_model: Path, tmp_path: Path) -> None:
    # No data_dir: without the early check the hub would be tried (and retried) first.
    line = refusal(lm_eval(tiny_model, tmp_path, "livecodebench_passk", {"n": 2}, fail=True))
    assert "livecodebench_passk runs model-written programs" in line
    assert "--confirm_run_unsafe_code" in line


def test_a_group_is_checked_task_by_task(tiny_model: Path, tmp_path: Path) -> None:
    line = refusal(lm_eval(tiny_model, tmp_path, "passk_paper", {"n": 2}, fail=True))
    assert "livecodebench_passk" in line and "--confirm_run_unsafe_code" in line


def test_data_lacking_the_default_release_is_named(tiny_model: Path, tmp_path: Path) -> None:
    # Found by the loader, after the model: the early check reads no data.
    metadata = {"n": 2, "data_dir": str(FIXTURE_DATA)}
    log = lm_eval(tiny_model, tmp_path, "livecodebench_passk", metadata, "--confirm_run_unsafe_code", fail=True)
    assert "livecodebench release_v5 (the default) needs test.jsonl, test2.jsonl" in log
    assert """the files there make release_v1: pass --metadata '{"release": "release_v1"}'""" in log


def test_good_options_and_model_args_pass(tiny_model: Path, tmp_path: Path) -> None:
    # pretrained and dtype reach the tasks' metadata too (lm-eval merges --model_args in),
    # as do the YAML's version and lm-eval's config_source: none of them is refused.
    metadata = {"n": 2, "data_dir": str(FIXTURE_DATA), "release": "release_v1"}
    log = lm_eval(tiny_model, tmp_path, "gsm8k_passk,livecodebench_passk", metadata, "--confirm_run_unsafe_code", fail=False)
    assert MODEL_LOADED in log


def test_keys_for_other_harness_tasks_are_left_to_them(caplog: pytest.LogCaptureFixture) -> None:
    from lm_eval_passk.tasks._common.preflight import PassKTaskFacts, check_run

    gsm8k = PassKTaskFacts("gsm8k_passk", {"version": 1.0}, ("n", "data_dir"), unsafe_code=False, prompt_kind="math")
    check_run([gsm8k], {"max_seq_lengths": [4096]}, confirm_run_unsafe_code=False, only_ours=False)
    assert "['max_seq_lengths'] not read by gsm8k_passk; left to the run's other tasks" in caplog.text
    with pytest.raises(ValueError, match="'max_seq_lengths' not read by gsm8k_passk; valid keys: data_dir, n"):
        check_run([gsm8k], {"max_seq_lengths": [4096]}, confirm_run_unsafe_code=False, only_ours=True)


def test_lm_evals_own_keys_are_not_refused() -> None:
    from lm_eval_passk.tasks._common.options import check_keys

    check_keys(["version", "config_source", "n"], ["n"], "gsm8k_passk")


def test_groups_are_expanded_and_other_tasks_noticed() -> None:
    from lm_eval.tasks._index import Entry, Kind

    from lm_eval_passk.tasks._common.preflight import TASKS_DIR, selected_tasks

    tasks = Path(TASKS_DIR)
    index = {
        "passk_code": Entry("passk_code", Kind.GROUP, tasks / "passk_paper.yaml", {"task": ["livecodebench_passk"]}),
        "livecodebench_passk": Entry(
            "livecodebench_passk", Kind.PY_TASK, tasks / "livecodebench" / "livecodebench_passk.yaml"
        ),
        "hellaswag": Entry("hellaswag", Kind.TASK, Path("/site-packages/lm_eval/tasks/hellaswag/hellaswag.yaml")),
    }
    (livecodebench,), only_ours = selected_tasks(["passk_code"], index)
    assert only_ours
    assert livecodebench.unsafe_code and livecodebench.metadata["prompt"] == "code"
    assert {"release", "start_date", "end_date", "data_dir"} <= set(livecodebench.keys)
    assert selected_tasks(["passk_code", "hellaswag"], index)[1] is False
    assert selected_tasks([{"task": "from_a_yaml_file"}], index) == ([], False)
