"""`lm-eval-passk plan ... --format slurm --submit` and `lm-eval-passk status` (issue 23).

With stand-ins for Slurm's commands (always run): what is submitted, with which resources,
logs and dependency. On a real single-node Slurm cluster started by the test (skipped where
slurm-wlm is not installed): a 4-shard study of the tiny model submitted, run, merged by the
dependent job, a failed shard reported and resubmitted alone, a removed shard rerun alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from math import comb
from pathlib import Path

import pytest
from conftest import FIXTURE_DATA, offline_env
from slurm_cluster import missing, single_node_cluster, wait_for_queue

from lm_eval_passk.cli import main

VLLM_TP2 = ["--model", "vllm", "--model_args", "pretrained=Qwen/Qwen2.5-32B,tensor_parallel_size=2"]
DATA = ["--metadata", json.dumps({"data_dir": str(FIXTURE_DATA)})]

# Stand-ins for sbatch, squeue and scancel: each records its argv; sbatch answers the next job
# id (as --parsable does), squeue prints what the test put in $SQUEUE_OUT.
STUB = """#!{python}
import json, os, pathlib, sys
log = pathlib.Path(os.environ["STUB_LOG"])
with log.open("a") as record:
    record.write(json.dumps([pathlib.Path(sys.argv[0]).name, *sys.argv[1:]]) + "\\n")
name = pathlib.Path(sys.argv[0]).name
if name == "sbatch":  # job ids 101, 102, ... over the whole test
    ids = log.with_name("job-ids")
    ids.write_text(ids.read_text() + "x" if ids.exists() else "x")
    print(100 + len(ids.read_text()))
elif name == "squeue":
    print(os.environ.get("SQUEUE_OUT", ""), end="")
"""


def lm_eval_passk(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """The real `lm-eval-passk` command line, as users run it."""
    script = Path(sys.executable).with_name("lm-eval-passk")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "lm_eval_passk.cli"]
    return subprocess.run([*command, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip


@pytest.fixture
def stub_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Stand-ins for Slurm's commands first on PATH, for the CLI run in this process (main():
    the task index it checks plans against is then built once, not once per command)."""
    bin_dir = tmp_path / "stub-bin"
    bin_dir.mkdir()
    for name in ("sbatch", "squeue", "scancel"):
        (bin_dir / name).write_text(STUB.format(python=sys.executable))
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), os.environ["PATH"]]))
    monkeypatch.setenv("STUB_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.delenv("SQUEUE_OUT", raising=False)
    return dict(os.environ)


def cli(args: list[str], capsys: pytest.CaptureFixture[str], squeue: str = "") -> tuple[int, str, str]:
    """`lm-eval-passk ARGS` in this process, with `squeue` printing `squeue`."""
    os.environ["SQUEUE_OUT"] = squeue
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def calls(env: dict[str, str]) -> list[list[str]]:
    log = Path(env["STUB_LOG"])
    recorded = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    log.unlink(missing_ok=True)
    return recorded


def test_submit_sends_the_array_with_the_backends_gpus_logs_per_shard_throttle_and_the_merge_after_it(
    stub_slurm: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "runs" / "big"
    args = ["plan", "aime24_passk", "--n", "1024", "--shards", "4", *VLLM_TP2, *DATA, "--output_path", str(out),
            "--format", "slurm", "--submit", "--sbatch-args", "--partition=gpu --time=24:00:00", "--max_running", "3"]  # fmt: skip
    status, stdout, stderr = cli(args, capsys)
    assert status == 0, stderr
    array, merge = calls(stub_slurm)
    script = out / "plan.sbatch"
    assert array == [
        "sbatch", "--parsable", "--array=0-3%3", f"--output={out}/logs/shard-%3a.log", "--open-mode=append",
        "--gres=gpu:2", "--partition=gpu", "--time=24:00:00", str(script),
    ]  # fmt: skip
    assert merge == [
        "sbatch", "--parsable", "--job-name=passk-aime24_passk-merge", f"--output={out}/logs/merge.log",
        "--open-mode=append", "--dependency=afterok:101", "--partition=gpu", "--time=24:00:00",
        f"--wrap=bash {script} merge",
    ]  # fmt: skip
    assert "array job 101: 4 of 4 shard(s)" in stdout and "Slurm job 102: the merge" in stdout
    # The submitted script is the printed one, with absolute paths.
    assert cli(args[: args.index("--submit")], capsys)[1] == script.read_text()
    record = [json.loads(line) for line in (out / "submissions.jsonl").read_text().splitlines()]
    assert [(r["array_job"], r["indexes"], r["merge_job"]) for r in record] == [("101", [0, 1, 2, 3], "102")]


def test_resubmission_sends_only_the_shards_without_results_and_cancels_a_merge_left_waiting(
    stub_slurm: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "runs"
    args = ["plan", "aime24_passk", "--n", "8", "--shards", "4", "--model", "hf", "--model_args", "pretrained=m",
            *DATA, "--extra", "--device cpu", "--output_path", str(out), "--format", "slurm", "--submit"]  # fmt: skip
    assert cli(args, capsys)[0] == 0
    first = calls(stub_slurm)
    assert not any(arg.startswith("--gres") for call in first for arg in call)  # hf on the CPU: no GPU
    for shard in ("shard-001", "shard-003"):
        (out / shard / "m").mkdir(parents=True)
        (out / shard / "m" / "results_2026-01-01T00-00-00.json").write_text("{}")

    # The first merge still waits on an array that failed: cancelled, and a new one submitted.
    status, stdout, stderr = cli(args, capsys, squeue="102|N/A|PENDING|DependencyNeverSatisfied\n")
    assert status == 0, stderr
    squeue, scancel, array, merge = calls(stub_slurm)
    assert squeue[0] == "squeue" and scancel == ["scancel", "102"]
    assert "--array=0,2" in array and "--dependency=afterok:103" in merge
    assert "2 of 4 shard(s) (array 0,2); 2 already had results" in stdout

    # A shard still running: nothing is submitted twice.
    status, stdout, stderr = cli(args, capsys, squeue="103|2|RUNNING|None\n")
    assert status == 2 and stdout == ""
    assert "Slurm job(s) 103 of this plan are still queued or running" in stderr
    assert [call[0] for call in calls(stub_slurm)] == ["squeue"]


def test_submit_options_need_format_slurm_submit_and_a_user_gpu_option_replaces_the_default(
    stub_slurm: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["plan", "aime24_passk", "--n", "8", *VLLM_TP2, *DATA, "--output_path", str(tmp_path / "r")]
    status, _, stderr = cli([*base, "--submit"], capsys)
    assert status == 2 and "go with --format slurm --submit" in stderr
    assert cli([*base, "--format", "slurm", "--max_running", "2"], capsys)[0] == 2
    assert calls(stub_slurm) == []
    status, _, stderr = cli([*base, "--format", "slurm", "--submit", "--sbatch-args=--gpus=a100:2"], capsys)
    assert status == 0, stderr
    array, merge = calls(stub_slurm)
    assert "--gpus=a100:2" in array and not any(arg.startswith("--gres") for arg in array)
    assert not any(arg.startswith(("--gpus", "--gres")) for arg in merge)


def test_status_of_a_folder_nothing_was_submitted_from_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"lm-eval-passk: error: {tmp_path}: no submissions.jsonl: nothing was submitted here with "
        "`lm-eval-passk plan ... --format slurm --submit`\n"
    )


# The real scheduler -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    if reason := missing():
        pytest.skip(reason)
    with single_node_cluster(tmp_path_factory.mktemp("slurm")) as env:
        yield env


def merged_counts(run: Path, task: str) -> tuple[dict[str, tuple[int, int]], dict[str, float]]:
    """Per problem (n, c) from a run's results, and its pass@k values."""
    (results_file,) = run.glob("*/results_*.json")
    results = json.loads(results_file.read_text())
    problems = results["configs"][task]["passk"]["problems"]
    values = {key.split(",")[0]: value for key, value in results["results"][task].items() if key.startswith("pass@")}
    return {pid: (p["n_samples"], p["n_correct"]) for pid, p in problems.items()}, values


@pytest.mark.skipif(missing() is not None, reason=str(missing()))
def test_a_study_submitted_to_slurm_is_run_merged_reported_and_resubmitted_shard_by_shard(
    slurm_env: dict[str, str], tiny_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "study"
    env = offline_env(tmp_path / "raw") | {"SLURM_CONF": slurm_env["SLURM_CONF"]}
    args = [
        "plan", "math500_passk", "--n", "8", "--shards", "4", "--model", "hf",
        "--model_args", f"pretrained={tiny_model},dtype=float32", *DATA,
        "--extra", "--limit 4 --gen_kwargs max_gen_toks=16 --device cpu --batch_size 8",
        "--output_path", str(out), "--format", "slurm", "--submit",
    ]  # fmt: skip

    # 1. Shard 2 cannot start (its log path is taken by a directory): the other three run, the
    # merge waits for ever, and `status` says which shard failed.
    (out / "logs" / "shard-002.log").mkdir(parents=True)
    submitted = lm_eval_passk(args, env, tmp_path)
    assert submitted.returncode == 0, submitted.stderr
    assert "4 of 4 shard(s)" in submitted.stdout and "afterok" in submitted.stdout
    queue = wait_for_queue(env, lambda out: "RUNNING" not in out and "|Dependency\n" not in out
                           and all("_" not in line.split("|")[0] for line in out.splitlines()))  # fmt: skip
    assert queue.count("\n") == 1 and "PENDING|DependencyNeverSatisfied" in queue
    status = lm_eval_passk(["status", str(out)], env, tmp_path)
    assert status.returncode == 0, status.stderr
    lines = {line.split()[0]: line for line in status.stdout.splitlines()[:-1]}
    assert [lines[f"shard-00{i}"].split()[1] for i in range(4)] == ["done", "done", "failed", "done"]
    assert "FAILED" in lines["shard-002"] and f"log {out}/logs/shard-002.log" in lines["shard-002"]
    assert "merge" in lines and lines["merge"].split()[1] == "pending" and "DependencyNeverSatisfied" in lines["merge"]
    assert status.stdout.splitlines()[-1] == "4 shard(s): 3 done, 1 failed; merge pending"
    assert not (out / "merged").exists()

    # 2. The same command again: only shard 2 is submitted, the stale merge is cancelled and a
    # new one runs after it.
    (out / "logs" / "shard-002.log").rmdir()
    again = lm_eval_passk(args, env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "1 of 4 shard(s) (array 2); 3 already had results" in again.stdout
    wait_for_queue(env, lambda out: out == "")
    counts, values = merged_counts(out / "merged", "math500_passk")
    assert len(counts) == 3 and {n for n, _ in counts.values()} == {8}  # the fixture's 3 problems
    shard_c: dict[str, int] = {}
    for shard in range(4):
        for pid, (n, c) in merged_counts(out / f"shard-00{shard}", "math500_passk")[0].items():
            assert n == 2
            shard_c[pid] = shard_c.get(pid, 0) + c
    assert {pid: c for pid, (_, c) in counts.items()} == shard_c
    for k in (1, 2, 4, 8):  # exact: the unbiased estimator over the summed counts
        exact = sum(1 - Fraction(comb(8 - c, k), comb(8, k)) for c in shard_c.values()) / len(shard_c)
        assert values[f"pass@{k}"] == pytest.approx(float(exact), abs=1e-12)
    status = lm_eval_passk(["status", str(out)], env, tmp_path).stdout
    assert status.splitlines()[-1] == "4 shard(s): 4 done; merge done"

    # 3. One shard's results removed: only that shard reruns (same seed, same draws) and the
    # merge is redone over it with the same figures.
    for result in (out / "shard-001").glob("*/results_*.json"):
        result.unlink()
    third = lm_eval_passk(args, env, tmp_path)
    assert third.returncode == 0, third.stderr
    assert "1 of 4 shard(s) (array 1)" in third.stdout
    wait_for_queue(env, lambda out: out == "")
    assert merged_counts(out / "merged", "math500_passk") == (counts, values)
    assert (out / "logs" / "shard-001.log").read_text().count("started on") == 2  # both attempts
    assert "replacing the previous merge" in (out / "logs" / "merge.log").read_text()
