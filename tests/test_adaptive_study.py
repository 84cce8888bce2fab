"""An adaptive study in rounds through the real `lm_eval`: `lm-eval-passk adapt` writes each
round's jobs, a stand-in model of known per-problem rates (tests/rate_lm.py) answers them,
`merge` joins the rounds with unequal n per problem, and `report` reads the result."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import offline_env

from lm_eval_passk.adaptive import estimate_curve
from lm_eval_passk.cli import main
from lm_eval_passk.run_format import problem_id, read_rows

STAND_IN = Path(__file__).with_name("rate_lm.py")
# Never solved, rarely, sometimes, often, always: the allocation should tell them apart.
RATES = [0.0, 0.0, 0.0, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0]
N_MAX = 16


def write_benchmark(data_dir: Path) -> dict[str, float]:
    (data_dir / "math500").mkdir(parents=True)
    rows = [
        {
            "problem": f"Problem {i} (rate {rate}): what is $1 + 1$?", "solution": "", "answer": "2",
            "subject": "Algebra", "level": 1, "unique_id": f"test/algebra/{i}.json",
        }
        for i, rate in enumerate(RATES)
    ]  # fmt: skip
    (data_dir / "math500" / "test.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return {row["unique_id"]: rate for row, rate in zip(rows, RATES)}


def stand_in_env(tmp_path: Path) -> dict[str, str]:
    """`lm_eval` on PATH is the real CLI with the stand-in model registered."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "lm_eval"
    script.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(STAND_IN))} \"$@\"\n")
    script.chmod(0o755)
    env = offline_env(tmp_path / "raw")
    env["PATH"] = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), env["PATH"]])
    return env


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_a_study_in_rounds_through_lm_eval_is_merged_and_reported_as_adaptive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rates = write_benchmark(tmp_path / "data")
    env = stand_in_env(tmp_path)
    adapt = [
        "adapt", "math500_passk", "--n_max", str(N_MAX), "--first_round", "4", "--target_sd", "0.06",
        "--model", "passk-rate-stand-in", "--model_args", "pretrained=rate-stand-in",
        "--output_path", str(tmp_path / "study"), "--metadata", json.dumps({"data_dir": str(tmp_path / "data")}),
    ]  # fmt: skip
    scripts = []
    for _ in range(6):
        script = cli(capsys, *adapt)
        scripts.append(script)
        if "# study done" in script:
            break
        result = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "# study done" in scripts[-1], scripts[-1]
    assert 3 <= len(scripts) <= 6  # round 1, at least one adaptive round, then done
    # Round 1 draws every problem; later rounds name their problems in an ids file.
    assert '"problems"' not in scripts[0] and '"problems"' in scripts[1]
    seeds = [seed for script in scripts for seed in re.findall(r"--seed (\d+)", script)]
    assert len(seeds) >= 2 and len(seeds) == len(set(seeds))  # every job draws afresh

    merge = shlex.split(scripts[-1].strip().splitlines()[-1])
    assert merge[:2] == ["lm-eval-passk", "merge"]
    cli(capsys, *merge[1:])
    merged = tmp_path / "study" / "merged"

    # Per problem: n is the sum of what each round's ids files gave it; the stand-in's known
    # rates show through (never-solved at 0, always-solved at n).
    given = dict.fromkeys(rates, 4)
    for ids_file in sorted((tmp_path / "study").glob("round-*/n*.ids")):
        for pid in ids_file.read_text().split():
            given[pid] += int(ids_file.stem[1:])
    (samples,) = merged.rglob("samples_math500_passk_*.jsonl")
    counts = {}
    for row in read_rows(samples):
        pid = problem_id(row)
        counts[pid] = (row["n_samples"], row["n_correct"])
        assert row["n_samples"] == given[pid] == len(row["filtered_resps"][0]) == len(row["resps"][0])
        assert row["n_samples"] <= N_MAX
        if rates[pid] == 0.0:
            assert row["n_correct"] == 0
        if rates[pid] == 1.0:
            assert row["n_correct"] == row["n_samples"]
    assert len(counts) == len(RATES)
    assert len({n for n, _ in counts.values()}) > 1  # adaptive: unequal n
    assert sum(n for n, _ in counts.values()) < N_MAX * len(RATES)
    (results_file,) = merged.rglob("results_*.json")
    block = json.loads(results_file.read_text())["configs"]["math500_passk"]["passk"]
    assert block["adaptive"] == {"n_max": max(n for n, _ in counts.values()), "samples": sum(n for n, _ in counts.values())}

    document = json.loads(cli(capsys, "report", str(merged), "--format", "json"))
    (summary,) = document["tasks"]["math500_passk"].values()
    n_max = max(n for n, _ in counts.values())
    ks = [1, 2, 4, 8, 16][: n_max.bit_length()]
    curve = estimate_curve(counts, ks)
    assert summary["n"] == n_max
    assert list(summary["pass_at_k"]) == [str(k) for k in ks]
    assert [summary["pass_at_k"][str(k)] for k in ks] == pytest.approx(list(curve), abs=1e-9)
    info = summary["adaptive"]
    assert info["samples"] == sum(n for n, _ in counts.values())
    assert info["fixed_budget"] == n_max * len(RATES)
    assert info["tail_ks"] == [k for k in ks if k > min(n for n, _ in counts.values())]

    table = cli(capsys, "report", str(merged))
    assert "adaptive run" in table and f"of fixed n = {n_max}" in table
    assert "rest on the tail estimate" in table
    leaderboard = cli(capsys, "leaderboard", str(merged), "--k", "1,16")
    assert "adaptive run" in leaderboard


def test_a_round_naming_an_unknown_problem_fails_with_the_id(tmp_path: Path) -> None:
    write_benchmark(tmp_path / "data")
    ids = tmp_path / "ids.txt"
    ids.write_text("test/algebra/1.json\nnot-a-problem\n")
    result = subprocess.run(
        [sys.executable, str(STAND_IN), "--model", "passk-rate-stand-in", "--model_args", "pretrained=x",
         "--tasks", "math500_passk", "--output_path", str(tmp_path / "out"), "--log_samples",
         "--metadata", json.dumps({"n": 2, "data_dir": str(tmp_path / "data"), "problems": str(ids)})],
        env=offline_env(tmp_path / "raw"), cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "not-a-problem" in result.stderr


def test_adapt_writes_round_one_as_a_slurm_array_and_refuses_to_skip_an_unfinished_round(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["adapt", "math500_passk", "--n_max", "64", "--model", "vllm", "--model_args", "pretrained=m",
            "--output_path", str(tmp_path / "study"), "--format", "slurm"]  # fmt: skip
    script = cli(capsys, *args)
    assert "#SBATCH --array=0-0" in script
    assert "--seed 11000" in script and "seed=11000" in script  # lm_eval's and the vLLM engine's
    assert '"n": 8' in script and '"problems"' not in script  # round 1: 8 samples of every problem
    assert json.loads((tmp_path / "study" / "round-1" / "round.json").read_text())["jobs"][0]["n"] == 8
    assert main(args) == 2
    assert "round 1 is not finished" in capsys.readouterr().err
    assert main([*args[:-2], "--metadata", '{"problems": ["a"]}']) == 2
    assert "set by adapt" in capsys.readouterr().err
