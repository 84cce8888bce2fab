"""lm-eval's data-parallel path, really run: two processes under torch.distributed (gloo,
CPU) with a stand-in model (tests/data_parallel_lm.py), each rank grading its own share.
The results must still hold every problem with exactly n samples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import FIXTURE_DATA, offline_env

from lm_eval_passk.cli import main

STAND_IN = Path(__file__).with_name("data_parallel_lm.py")


def test_two_ranks_give_complete_results_with_n_samples_each(tmp_path: Path, capsys) -> None:
    command = [
        # --standalone: a rendezvous on a free local port, so parallel test runs never clash
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        str(STAND_IN),
        "--model", "passk-data-parallel-stand-in", "--tasks", "gsm8k_passk",
        "--metadata", json.dumps({"n": 4, "data_dir": str(FIXTURE_DATA)}),
        "--output_path", str(tmp_path / "out"), "--log_samples",
    ]  # fmt: skip
    result = subprocess.run(
        command, env=offline_env(tmp_path / "raw"), cwd=tmp_path, capture_output=True,
        text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    # Each rank graded its own share: two raw files, problems split between them.
    shares = [
        {json.loads(line)["problem_id"]: len(json.loads(line)["responses"]) for line in path.open()}
        for path in sorted((tmp_path / "raw").glob("gsm8k_*.jsonl"))
    ]
    assert len(shares) == 2 and not set(shares[0]) & set(shares[1])
    assert set(shares[0]) | set(shares[1]) == {"gsm8k-test-0", "gsm8k-test-1", "gsm8k-test-2"}
    # lm-eval evened out the ranks (2 problems and 1) by repeating the short rank's last
    # problem: 8 responses for it; the filter graded its first n and said so.
    assert sorted(count for share in shares for count in share.values()) == [4, 4, 8]
    assert "responses beyond n = 4" in result.stderr

    (results_file,) = (tmp_path / "out").rglob("results_*.json")
    results = json.loads(results_file.read_text())
    block = results["configs"]["gsm8k_passk"]["passk"]
    assert set(block["problems"]) == {"gsm8k-test-0", "gsm8k-test-1", "gsm8k-test-2"}
    assert all(problem["n_samples"] == 4 for problem in block["problems"].values())
    # The duplicate guard counted the n graded responses, not the padding: 4 long replies
    # per problem (the stand-in's are long and distinct), none repeated.
    assert all(
        (problem["long_responses"], problem["repeated_responses"]) == (4, 0)
        for problem in block["problems"].values()
    )
    assert (block["duplicate_fraction"], block["sampling_duplicated"]) == (0.0, False)
    assert sum(block["reasons"].values()) == 3 * 4
    assert results["results"]["gsm8k_passk"]["n_samples,passk"] == 4
    assert results["results"]["gsm8k_passk"]["problems,passk"] == 3

    # report reads the same counts back from the samples file.
    assert main(["report", str(tmp_path / "out"), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["tasks"]["gsm8k_passk"]
    (model,) = summary.values()
    assert model["n"] == 4
    counts = {pid: p["n_correct"] for pid, p in block["problems"].items()}
    assert model["pass_at_k"]["1"] == sum(counts.values()) / 12
