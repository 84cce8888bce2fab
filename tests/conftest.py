"""Shared fixtures: a tiny random model, the fixture data, and a runner for the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
FIXTURE_DATA = TESTS_DIR / "fixtures" / "data"
SHARED_DATA = TESTS_DIR.parent.parent / "shared" / "data"
MATH_TASKS = ("gsm8k_passk", "math500_passk", "aime24_passk", "minerva_math_passk")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


def offline_env(raw_dir: Path, extra_pythonpath: Path | None = None) -> dict[str, str]:
    """The environment for a CLI subprocess: offline, raw responses into `raw_dir`."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        LM_EVAL_PASSK_RAW_DIR=str(raw_dir),
    )
    if extra_pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(extra_pythonpath), *filter(None, [env.get("PYTHONPATH")])]
        )
    return env


def lm_eval_args(
    model: str, model_args: str, tasks: str, metadata: dict, out: Path, *extra: str
) -> list[str]:
    """The arguments every test run shares: model, tasks, our metadata, output with samples."""
    import json

    return [
        "--model", model,
        "--model_args", model_args,
        "--tasks", tasks,
        "--metadata", json.dumps(metadata),
        "--output_path", str(out),
        "--log_samples",
        *extra,
    ]  # fmt: skip


def run_lm_eval(
    args: list[str], env: dict[str, str], cwd: Path, expect_failure: bool = False
) -> subprocess.CompletedProcess:
    """Run the real `lm_eval` command line; fail with its output when it fails (or, with
    `expect_failure`, when it does not)."""
    script = Path(sys.executable).with_name("lm_eval")  # the console script users run
    command = [str(script)] if script.exists() else [sys.executable, "-m", "lm_eval"]
    command += args
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    if (result.returncode != 0) != expect_failure:
        pytest.fail(f"lm_eval exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


MATH_RUN_N = 8


@pytest.fixture(scope="session")
def math_run(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One real `lm_eval` run of the four math tasks (n = 8, fixture data), shared by the
    tests that check what it writes and the tests that analyse it."""
    import json

    work = tmp_path_factory.mktemp("math-run")
    result = run_lm_eval(
        lm_eval_args(
            "hf", f"pretrained={tiny_model},dtype=float32", ",".join(MATH_TASKS),
            {"n": MATH_RUN_N, "data_dir": str(FIXTURE_DATA)}, work / "out",
            "--batch_size", "8", "--device", "cpu",
        ),
        env=offline_env(work / "raw"),
        cwd=work,
    )  # fmt: skip
    (results_file,) = (work / "out").rglob("results_*.json")
    samples = {
        task: [json.loads(line) for line in next((work / "out").rglob(f"samples_{task}_*.jsonl")).open()]
        for task in MATH_TASKS
    }
    return {
        "out": work / "out",
        "results": json.loads(results_file.read_text()),
        "samples": samples,
        "raw": sorted((work / "raw").glob("*.jsonl")),
        "log": result.stdout + result.stderr,
    }
