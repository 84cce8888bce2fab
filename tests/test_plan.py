"""`lm-eval-passk plan` (issue 13): every job is an `lm_eval` command lm-eval itself parses, with
its own seed and directory; the printed script and the Slurm script really run the jobs, skip
finished ones, and two planned shards through the real `lm_eval` draw different samples."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_DATA, SHARED_DATA, offline_env, run_lm_eval

from lm_eval_passk.cli import main
from lm_eval_passk.plan import LM_EVAL_DEFAULT_SEED
from lm_eval_passk.run_format import problem_id, read_rows, responses_of

VLLM_ARGS = ["--model", "vllm", "--model_args", "pretrained=Qwen/Qwen2.5-7B,max_model_len=18432"]


def plan(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["plan", *args]) == 0
    return capsys.readouterr().out


def lm_eval_namespace(argv: list[str]) -> Any:
    """lm-eval 0.4.13's own parsing of a job's arguments (`lm_eval ARGS` inserts `run`)."""
    from lm_eval._cli import HarnessCLI

    return HarnessCLI()._parser.parse_args(["run", *argv])


def jobs_and_merge(script: str) -> tuple[list[list[str]], list[str]]:
    """The lm_eval argv of every guarded job line, and the merge argv, of a printed plan."""
    jobs, commands = [], []
    for line in script.splitlines():
        if not line or line.startswith("#") or line == "set -eu":
            continue
        tokens = shlex.split(line)
        commands.append(tokens)
        if "||" in tokens:
            guard = tokens[: tokens.index("||")]
            assert guard[:2] == ["[", "-n"] and guard[-1] == "]"
            command = tokens[tokens.index("||") + 1 :]
            assert command[0] == "lm_eval"
            jobs.append(command[1:])
    merges = [tokens for tokens in commands if tokens[:2] == ["lm-eval-passk", "merge"]]
    assert len(merges) == 1 and commands.index(merges[0]) > commands.index(next(t for t in commands if "||" in t))
    assert merges[0][-1] == ">/dev/null"  # it prints the partial directory; the script echoes the final one
    return jobs, merges[0][:-1]


def test_every_job_parses_as_lm_eval_arguments_with_its_own_seed_and_directory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = plan(capsys, "aime24_passk", "--n", "1024", "--shards", "16", *VLLM_ARGS, "--output_path", "runs/aime 24")
    argvs, merge = jobs_and_merge(script)
    jobs = [lm_eval_namespace(argv) for argv in argvs]
    assert len(jobs) == 16
    engine_seeds = [job.model_args["seed"] for job in jobs]
    assert len(set(engine_seeds)) == 16 and LM_EVAL_DEFAULT_SEED not in engine_seeds
    # --seed N seeds python, numpy, torch and few-shot alike, and matches the engine's seed
    assert [job.seed for job in jobs] == [[seed] * 4 for seed in engine_seeds]
    assert sum(job.metadata["n"] for job in jobs) == 1024
    assert {job.metadata["n"] for job in jobs} == {64}
    directories = [job.output_path for job in jobs]
    assert len(set(directories)) == 16 and directories[3] == "runs/aime 24/shard-003"
    for job in jobs:
        assert job.tasks == ["aime24_passk"] and job.model == "vllm" and job.log_samples
        assert job.model_args["pretrained"] == "Qwen/Qwen2.5-7B" and job.batch_size == "auto"
        assert "shard" not in job.metadata
    assert merge == ["lm-eval-passk", "merge", *directories, "--out", "runs/aime 24/merged.partial"]


def test_a_remainder_goes_to_the_first_shards(capsys: pytest.CaptureFixture[str]) -> None:
    argvs, _ = jobs_and_merge(plan(capsys, "gsm8k_passk", "--n", "10", "--shards", "4", *VLLM_ARGS))
    assert [lm_eval_namespace(argv).metadata["n"] for argv in argvs] == [3, 3, 2, 2]


def test_problem_shards_are_crossed_with_sample_shards(capsys: pytest.CaptureFixture[str]) -> None:
    script = plan(
        capsys, "aime24_passk", "--n", "12", "--shards", "3", "--problem_shards", "2", *VLLM_ARGS,
        "--metadata", json.dumps({"data_dir": str(FIXTURE_DATA)}),
    )  # fmt: skip
    jobs = [lm_eval_namespace(argv) for argv in jobs_and_merge(script)[0]]
    assert len(jobs) == 6
    assert len({job.seed[0] for job in jobs}) == 6  # a seed per job, not per sample shard
    assert len({job.output_path for job in jobs}) == 6
    pairs = [(job.metadata["shard"], job.metadata["n"]) for job in jobs]
    assert sorted(pairs) == sorted((f"{i}/2", 4) for i in (1, 2) for _ in range(3))
    for problem_shard in ("1/2", "2/2"):  # every problem gets all n samples
        assert sum(n for shard, n in pairs if shard == problem_shard) == 12
    assert {job.metadata["data_dir"] for job in jobs} == {str(FIXTURE_DATA)}


def test_hf_gets_lm_evals_seed_only_and_code_tasks_the_unsafe_code_flag(capsys: pytest.CaptureFixture[str]) -> None:
    script = plan(capsys, "livecodebench_passk", "--n", "4", "--shards", "2", "--model", "hf",
                  "--model_args", "pretrained=/models/tiny", "--extra", "--device cuda:0 --batch_size 8")  # fmt: skip
    jobs = [lm_eval_namespace(argv) for argv in jobs_and_merge(script)[0]]
    assert [job.model_args for job in jobs] == [{"pretrained": "/models/tiny"}] * 2  # HFLM takes no seed
    assert [job.seed[2] for job in jobs] == [10_000, 10_001]  # torch's seed drives hf sampling
    assert all(job.confirm_run_unsafe_code and job.batch_size == "8" and job.device == "cuda:0" for job in jobs)


def test_api_models_get_a_request_seed_per_job(capsys: pytest.CaptureFixture[str]) -> None:
    """A served model draws each job's samples from the `seed=` of its --model_args (the
    repeats' seeds derive from it), so every job gets its own, and no batch size is added."""
    script = plan(capsys, "math500_passk", "--n", "8", "--shards", "2", "--model", "local-completions",
                  "--model_args", "model=M,base_url=http://127.0.0.1:8000/v1/completions,num_concurrent=64")  # fmt: skip
    argvs = jobs_and_merge(script)[0]
    jobs = [lm_eval_namespace(argv) for argv in argvs]
    assert [job.model_args["seed"] for job in jobs] == [10_000, 10_001]
    assert all(job.model_args["num_concurrent"] == 64 for job in jobs)
    assert not any("--batch_size" in argv for argv in argvs)  # batched, repeats share a seed


def test_the_plan_module_imports_nothing_of_lm_eval() -> None:
    probe = "import sys, lm_eval_passk.plan; print(sorted(m for m in sys.modules if m.split('.')[0] in ('lm_eval', 'torch', 'numpy')))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n", "8", "--shards", "0"], "--shards must be a positive integer"),
        (["--n", "2", "--shards", "3"], "--n (2) must be at least --shards (3)"),
        (["--n", "8", "--problem_shards", "-1"], "--problem_shards must be a positive integer"),
        (["--n", "8", "--shards", "2", "--base_seed", "1233"], "include 1234"),
        (["--n", "8", "--base_seed", str(2**32)], "--base_seed: seeds"),
        (["--n", "8", "--model_args", "pretrained=x,seed=7"], "--model_args sets seed"),
        (["--n", "8", "--model_args", "pretrained=x,data_parallel_size=4"], "data_parallel_size=4"),
        (["--n", "8", "--metadata", '{"n": 3}'], "--metadata 'n' is set by the plan"),
        (["--n", "8", "--metadata", "[1]"], "--metadata must be a JSON object"),
        (["--n", "8", "--extra", "--log_samples --output_path=x"], "--extra --output_path is set by the plan"),
        (["--n", "8", "--extra=--seed"], "--extra --seed is set by the plan"),
    ],
)
def test_bad_plans_are_refused_naming_the_option(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["plan", "aime24_passk", "--model", "vllm", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


# A stand-in for `lm_eval` and `lm-eval-passk` on PATH: records its argv, and as lm_eval does
# when a run finishes, writes OUTPUT/<model>/results_<time>.json.
STUB = """#!{python}
import json, os, pathlib, sys
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps([pathlib.Path(sys.argv[0]).name, *sys.argv[1:]]) + "\\n")
for flag in ("--output_path", "--out"):  # lm_eval's run, or merge's merged run
    if flag in sys.argv:
        out = pathlib.Path(sys.argv[sys.argv.index(flag) + 1]) / "stub__model"
        out.mkdir(parents=True, exist_ok=True)
        (out / "results_2026-01-01T00-00-00.json").write_text("{{}}")
"""


def stub_env(
    tmp_path: Path, base: dict[str, str], names: tuple[str, ...] = ("lm_eval", "lm-eval-passk")
) -> dict[str, str]:
    """`base` with stubs of `names` first on PATH, then this interpreter's scripts (the real
    `lm_eval` for a name not stubbed)."""
    bin_dir = tmp_path / "stub-bin"
    bin_dir.mkdir()
    for name in names:
        (bin_dir / name).write_text(STUB.format(python=sys.executable))
        (bin_dir / name).chmod(0o755)
    path = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), base["PATH"]])
    return base | {"PATH": path, "STUB_LOG": str(tmp_path / "calls.jsonl")}


def calls(env: dict[str, str]) -> list[list[str]]:
    log = Path(env["STUB_LOG"])
    recorded = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    log.unlink(missing_ok=True)
    return recorded


def bash(
    script: Path, env: dict[str, str], cwd: Path, timeout: int = 60, args: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script), *args], env=env, cwd=cwd, check=False, capture_output=True, text=True, timeout=timeout
    )


def test_the_printed_plan_runs_every_job_then_merges_and_a_rerun_redoes_only_the_missing_job(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = plan(capsys, "aime24_passk", "--n", "6", "--shards", "3", *VLLM_ARGS, "--output_path", "runs/a b")
    script = tmp_path / "plan.sh"
    script.write_text(text)
    env = stub_env(tmp_path, dict(os.environ))
    expected, merge = jobs_and_merge(text)

    assert bash(script, env, tmp_path).returncode == 0
    assert calls(env) == [["lm_eval", *argv] for argv in expected] + [merge]

    for result in (tmp_path / "runs/a b/shard-001").rglob("results_*.json"):
        result.unlink()  # job 1 crashed before writing its results
    rerun = bash(script, env, tmp_path)
    assert rerun.returncode == 0
    assert calls(env) == [["lm_eval", *expected[1]], merge]
    assert rerun.stderr == "replacing the previous merge in runs/a b/merged\n"  # one line
    assert rerun.stdout == "runs/a b/merged\n"
    assert not (tmp_path / "runs/a b/merged.partial").exists() and (tmp_path / "runs/a b/merged").is_dir()


def test_the_slurm_script_runs_only_its_array_index_and_skips_a_finished_job(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ("aime24_passk", "--n", "8", "--shards", "2", "--problem_shards", "2", *VLLM_ARGS, "--output_path", "runs/x",
            "--metadata", json.dumps({"data_dir": str(FIXTURE_DATA)}))  # fmt: skip
    expected, merge = jobs_and_merge(plan(capsys, *args))
    script = tmp_path / "plan.sbatch"
    script.write_text(plan(capsys, *args, "--format", "slurm"))
    # docs/SCALE.md runs the merge with `bash THIS_FILE merge`: tested below, once jobs have run
    assert subprocess.run(["bash", "-n", str(script)], check=False, capture_output=True).returncode == 0
    assert "#SBATCH --array=0-3\n" in script.read_text()
    env = stub_env(tmp_path, dict(os.environ))

    for index in (2, 0):
        assert bash(script, env | {"SLURM_ARRAY_TASK_ID": str(index)}, tmp_path).returncode == 0
        assert calls(env) == [["lm_eval", *expected[index]]]
    skipped = bash(script, env | {"SLURM_ARRAY_TASK_ID": "2"}, tmp_path)
    assert skipped.returncode == 0 and "skipped" in skipped.stderr
    assert calls(env) == []

    outside = bash(script, env | {"SLURM_ARRAY_TASK_ID": "4"}, tmp_path)
    assert outside.returncode == 2 and "not a job of this plan (0-3)" in outside.stderr
    unset = {key: value for key, value in env.items() if key != "SLURM_ARRAY_TASK_ID"}
    assert bash(script, unset, tmp_path).returncode != 0
    assert calls(env) == []

    for _ in range(2):  # `bash THIS_FILE merge`, again once merged: the merge is redone
        merged = bash(script, unset, tmp_path, args=("merge",))
        assert merged.returncode == 0 and merged.stdout == "runs/x/merged\n"
        assert calls(env) == [merge]
    assert "replacing the previous merge" in merged.stderr


def test_two_planned_shards_through_the_real_lm_eval_draw_different_samples(
    capsys: pytest.CaptureFixture[str], tiny_model: Path, tmp_path: Path
) -> None:
    text = plan(
        capsys, "aime24_passk", "--n", "6", "--shards", "2", "--model", "hf",
        "--model_args", f"pretrained={tiny_model},dtype=float32", "--output_path", str(tmp_path / "runs"),
        "--metadata", json.dumps({"data_dir": str(FIXTURE_DATA)}), "--extra", "--device cpu --batch_size 4",
    )  # fmt: skip
    env = offline_env(tmp_path / "raw")
    script = tmp_path / "plan.sh"
    script.write_text(text)
    result = bash(script, env, tmp_path, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.endswith(f"\n{tmp_path / 'runs/merged'}\n")  # after lm_eval's tables
    (merged_samples,) = (tmp_path / "runs/merged").rglob("samples_aime24_passk_*.jsonl")
    merged = {problem_id(row): responses_of(row) for row in read_rows(merged_samples)}
    assert {len(drawn) for drawn in merged.values()} == {6}
    # Issue 27: the finished script run again (as after a crash) skips both jobs and redoes
    # the merge, where the merge used to refuse its own earlier output.
    again = bash(script, env, tmp_path, timeout=900)
    assert again.returncode == 0, again.stderr
    assert "replacing the previous merge" in again.stderr and again.stderr.count("skipped") == 0
    (merged_samples,) = (tmp_path / "runs/merged").rglob("samples_aime24_passk_*.jsonl")
    assert {problem_id(row): responses_of(row) for row in read_rows(merged_samples)} == merged

    def responses(run: Path) -> dict[str, list[str]]:
        (samples,) = run.rglob("samples_aime24_passk_*.jsonl")
        return {problem_id(row): responses_of(row) for row in read_rows(samples)}

    first, second = responses(tmp_path / "runs/shard-000"), responses(tmp_path / "runs/shard-001")
    assert first.keys() == second.keys() and len(first) == 3
    assert all(len(drawn) == 3 for drawn in [*first.values(), *second.values()])
    # Distinct seeds, distinct draws: no problem got the same three responses in both shards.
    assert all(first[problem] != second[problem] for problem in first)

    # The control: job 0 again, same seed, another directory, draws exactly what job 0 drew,
    # so the difference above comes from the seeds.
    argv = jobs_and_merge(text)[0][0]
    argv[argv.index("--output_path") + 1] = str(tmp_path / "again")
    run_lm_eval(argv, env=offline_env(tmp_path / "raw"), cwd=tmp_path)
    assert responses(tmp_path / "again") == first


@pytest.mark.parametrize(
    ("task", "metadata", "problem_shards", "message"),
    [
        ("aime24_pask", {}, 1, "TASK: no task named 'aime24_pask' in lm-eval's index; did you mean aime24_passk"),
        ("aime24_passk", {"data-dir": "/data"}, 1, "--metadata key 'data-dir' not read by aime24_passk"),
        ("aime24_passk", {"data_dir": str(FIXTURE_DATA)}, 4,
         "--problem_shards 4: aime24_passk has 3 problem(s), so 1 problem shard(s) would be empty; use at most 3"),
        ("aime24_passk", {"data_dir": "/no/such/dir"}, 1, "--metadata 'data_dir': /no/such/dir is not a directory"),
    ],
)  # fmt: skip
def test_plan_checks_task_names_metadata_keys_and_problem_shards_before_writing_a_job(
    capsys: pytest.CaptureFixture[str], task: str, metadata: dict, problem_shards: int, message: str
) -> None:
    # Issue 27: each of these used to print a script whose every job would fail (or, for the
    # problem shards, run empty shards).
    args = ["plan", task, "--n", "8", "--model", "hf", "--metadata", json.dumps(metadata),
            "--problem_shards", str(problem_shards)]  # fmt: skip
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"lm-eval-passk: error: {message}") and captured.err.count("\n") == 1


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"real benchmark data not at {SHARED_DATA}")
def test_plan_refuses_more_problem_shards_than_aime24_has_problems(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["plan", "aime24_passk", "--n", "1024", "--shards", "16", "--problem_shards", "100", *VLLM_ARGS,
            "--metadata", json.dumps({"data_dir": str(SHARED_DATA)})]  # fmt: skip
    assert main(args) == 2
    assert "--problem_shards 100: aime24_passk has 30 problem(s)" in capsys.readouterr().err
    assert main([*args[:7], "30", *args[8:]]) == 0  # 30 shards of one problem each are fine
    assert capsys.readouterr().out.count("lm_eval --model") == 16 * 30


def test_an_empty_problem_shard_is_refused_in_one_line_before_the_model_loads(tmp_path: Path) -> None:
    # Issue 27: shard 4 of 4 of a 3-problem benchmark used to reach lm-eval's request
    # building with no documents and end in an IndexError, after the model had loaded.
    result = run_lm_eval(
        ["--model", "hf", "--model_args", f"pretrained={tmp_path / 'never-loaded'}", "--tasks", "aime24_passk",
         "--metadata", json.dumps({"data_dir": str(FIXTURE_DATA), "shard": "4/4"}), "--device", "cpu"],
        env=offline_env(tmp_path / "raw"), cwd=tmp_path, expect_failure=True,
    )  # fmt: skip
    expected = (
        "lm-eval-passk: --metadata 'shard' 4/4: aime24_passk has 3 problem(s), so problem shard 4 of 4 is "
        "empty; use at most 3 problem shards"
    )
    assert result.stderr.strip().splitlines()[-1] == expected
    assert "Traceback" not in result.stderr
