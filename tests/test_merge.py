"""`lm-eval-passk merge`: shards of one evaluation, made by the real `lm_eval` with the tiny
model and distinct seeds, merged into a run that report, compare and judge read."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from math import comb
from pathlib import Path

import pytest
from conftest import FIXTURE_DATA, lm_eval_args, offline_env, run_lm_eval

from lm_eval_passk.cli import main

N_PER_SHARD = 4
SEEDS = (11, 12, 13, 14)


def shard_run(tiny_model: Path, out: Path, seed: int, task: str = "aime24_passk", **metadata) -> Path:
    """One job of a split evaluation: n = 4 samples of every problem, its own seed."""
    run_lm_eval(
        lm_eval_args(
            "hf", f"pretrained={tiny_model},dtype=float32", task,
            {"n": N_PER_SHARD, "data_dir": str(FIXTURE_DATA), **metadata}, out,
            "--seed", str(seed), "--batch_size", "4", "--device", "cpu",
        ),
        env=offline_env(out.parent / "raw"),
        cwd=out.parent,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def shards(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("shards")
    return [shard_run(tiny_model, root / f"shard-{seed}", seed) for seed in SEEDS]


def samples_rows(run: Path) -> list[dict]:
    (path,) = run.rglob("samples_*.jsonl")
    return [json.loads(line) for line in path.open()]


def exact(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_four_seeded_shards_merge_into_exact_pass_at_k(shards: list[Path], tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(capsys, "merge", *map(str, shards), "--out", str(tmp_path / "merged"))
    assert code == 0, err
    merged = samples_rows(tmp_path / "merged")
    per_shard = [{row["doc"]["problem_id"]: row for row in samples_rows(s)} for s in shards]
    assert [row["doc"]["problem_id"] for row in merged] == list(per_shard[0])
    for row in merged:
        pid = row["doc"]["problem_id"]
        (responses,) = row["resps"]
        assert responses == [r for shard in per_shard for r in shard[pid]["resps"][0]]
        assert row["n_samples"] == 16 == len(row["filtered_resps"][0])
        assert row["n_correct"] == sum(shard[pid]["n_correct"] for shard in per_shard)
    (results_file,) = (tmp_path / "merged").rglob("results_*.json")
    results = json.loads(results_file.read_text())
    counts = [row["n_correct"] for row in merged]
    for k in (1, 2, 4, 8, 16):
        expected = sum(exact(16, c, k) for c in counts) / len(counts)
        assert results["results"]["aime24_passk"][f"pass@{k},passk"] == pytest.approx(float(expected), abs=1e-12)
    block = results["configs"]["aime24_passk"]["passk"]
    assert block["n"] == 16 and block["ks"] == [1, 2, 4, 8, 16]
    assert sorted(entry["seeds"]["random_seed"] for entry in block["merged_from"]) == list(SEEDS)

    # The merged run reads like any other.
    code, out, _ = run_cli(capsys, "report", str(tmp_path / "merged"), "--format", "json")
    assert code == 0
    (summary,) = json.loads(out)["tasks"]["aime24_passk"].values()
    assert summary["n"] == 16
    assert summary["pass_at_k"]["16"] == pytest.approx(float(sum(exact(16, c, 16) for c in counts) / 3), abs=1e-12)
    code, out, _ = run_cli(capsys, "compare", str(shards[0]), str(tmp_path / "merged"), "--format", "json")
    assert code == 0 and "aime24_passk" in out


def test_the_same_shard_twice_is_refused(shards: list[Path], tmp_path: Path, capsys) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(shards[0], copy)
    code, _, err = run_cli(capsys, "merge", str(shards[0]), str(copy), "--out", str(tmp_path / "m"))
    assert code == 2
    assert "the same seeds" in err and "--allow-duplicates" in err
    assert not (tmp_path / "m").exists()  # nothing left behind
    # The seeds alone do not tell: a copy that claims another seed is still caught by its responses.
    (results_file,) = copy.rglob("results_*.json")
    results = json.loads(results_file.read_text())
    results["config"]["random_seed"] = 999
    results_file.write_text(json.dumps(results))
    code, _, err = run_cli(capsys, "merge", str(shards[0]), str(copy), "--out", str(tmp_path / "m"))
    assert code == 2
    assert "identical responses" in err and "--allow-duplicates" in err
    assert not (tmp_path / "m").exists()  # nothing half-written, no folder left
    code, _, err = run_cli(capsys, "merge", str(shards[0]), str(copy), "--out", str(tmp_path / "m"), "--allow-duplicates")
    assert code == 0, err
    assert all(row["n_samples"] == 8 for row in samples_rows(tmp_path / "m"))


def test_a_merged_run_with_one_of_its_own_shards_is_refused(shards: list[Path], tmp_path: Path, capsys) -> None:
    """The same job twice through `merged_from`: a merged run and one of its shards, or a
    merge of merges and a shard inside it; refused before anything is written."""
    assert main(["merge", str(shards[0]), str(shards[1]), "--out", str(tmp_path / "01")]) == 0
    assert main(["merge", str(shards[2]), str(shards[3]), "--out", str(tmp_path / "23")]) == 0
    assert main(["merge", str(tmp_path / "01"), str(tmp_path / "23"), "--out", str(tmp_path / "all")]) == 0
    capsys.readouterr()
    (tmp_path / "empty").mkdir()
    for inputs, out in (([shards[0], tmp_path / "01"], tmp_path / "again"), ([tmp_path / "all", shards[3]], tmp_path / "empty")):
        code, out_text, err = run_cli(capsys, "merge", *map(str, inputs), "--out", str(out))
        assert code == 2 and out_text == "", err
        (line,) = err.splitlines()
        assert "the same seeds" in line and "--allow-duplicates" in line and str(inputs[1]) in line
        assert f"merged from {shards[0] if out.name == 'again' else shards[3]}" in line
        assert not out.exists() or list(out.iterdir()) == []  # as it was
    (results_file,) = (tmp_path / "all").rglob("results_*.json")
    jobs = json.loads(results_file.read_text())["configs"]["aime24_passk"]["passk"]["merged_from"]
    assert sorted(job["run"] for job in jobs) == sorted(map(str, shards))  # the jobs, through both merges


def altered_copy(run: Path, out: Path, task: str | None = None, grader: str | None = None) -> Path:
    """A copy of a shard as if made with another task name or grader: what merge checks is
    in the files, so no second lm_eval run is needed to make one."""
    shutil.copytree(run, out)
    (samples,) = out.rglob("samples_*.jsonl")
    (results_file,) = out.rglob("results_*.json")
    results = json.loads(results_file.read_text())
    if task is not None:
        old = samples.name.split("_20")[0].removeprefix("samples_")
        samples.rename(samples.with_name(samples.name.replace(old, task)))
        results["configs"][task] = results["configs"].pop(old)
    if grader is not None:
        for config in results["configs"].values():
            config["passk"]["grader"] = grader
    results_file.write_text(json.dumps(results))
    return out


def test_shards_of_different_tasks_or_settings_are_refused(shards: list[Path], tmp_path: Path, capsys) -> None:
    other_task = altered_copy(shards[1], tmp_path / "math500", task="math500_passk")
    code, _, err = run_cli(capsys, "merge", str(shards[0]), str(other_task), "--out", str(tmp_path / "m"))
    assert code == 2 and "task differs" in err and "aime24_passk" in err and "math500_passk" in err
    paper = altered_copy(shards[1], tmp_path / "paper", grader="paper")
    code, _, err = run_cli(capsys, "merge", str(shards[0]), str(paper), "--out", str(tmp_path / "m3"))
    assert code == 2 and "configs.aime24_passk.passk.grader" in err


def test_problem_shards_merge_side_by_side(tiny_model: Path, tmp_path: Path, capsys) -> None:
    halves = [shard_run(tiny_model, tmp_path / f"half-{i}", 30 + i, shard=f"{i}/2") for i in (1, 2)]
    ids = [[row["doc"]["problem_id"] for row in samples_rows(half)] for half in halves]
    assert len(ids[0]) == 2 and len(ids[1]) == 1 and not set(ids[0]) & set(ids[1])
    code, _, err = run_cli(capsys, "merge", *map(str, halves), "--out", str(tmp_path / "whole"))
    assert code == 0, err
    merged = samples_rows(tmp_path / "whole")
    assert sorted(row["doc"]["problem_id"] for row in merged) == sorted(ids[0] + ids[1])
    assert all(row["n_samples"] == N_PER_SHARD for row in merged)


class AlwaysYes(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint whose every reply accepts the reasoning."""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # the http.server API names it
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({
            "id": "x", "object": "chat.completion", "created": 0, "model": "judge",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "Fine. \\boxed{yes}"}}],
        }).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_merged_run_can_be_judged(shards: list[Path], tmp_path: Path, capsys) -> None:
    assert main(["merge", str(shards[0]), str(shards[1]), "--out", str(tmp_path / "merged")]) == 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), AlwaysYes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        judged = subprocess.run(
            [sys.executable, "-m", "lm_eval_passk.cli", "judge", str(tmp_path / "merged"),
             "--model", "local-chat-completions", "--votes", "1", "--judge_name", "yes-man",
             "--model_args", f"model=judge,base_url=http://127.0.0.1:{server.server_address[1]}/v1/chat/completions,num_concurrent=1,max_retries=1",
             "--batch_size", "1"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    finally:
        server.shutdown()
    assert judged.returncode == 0, judged.stderr[-2000:]
    capsys.readouterr()
    assert main(["report", str(tmp_path / "merged"), "--format", "json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)["tasks"]["aime24_passk"].values()
    correct = sum(row["n_correct"] for row in samples_rows(tmp_path / "merged"))
    assert summary["judge"] == {"judged": correct, "unjudged": 0, "abstentions": 0}
    assert summary["cot_pass_at_k"]["all"] == summary["pass_at_k"]


def test_the_duplicate_guard_fires_on_merged_repeats_and_not_on_distinct_shards(
    tiny_model: Path, tmp_path: Path, capsys
) -> None:
    """Two shards that drew the same long responses (the same seed twice), merged anyway,
    are flagged loudly; two shards that drew different ones are not. The stand-in vLLM
    engine answers scripted long texts (tests/test_duplicate_guard.py)."""
    from test_duplicate_guard import N, PROBLEMS, long_reasoning, stub_run

    texts = [long_reasoning(i) for i in range(PROBLEMS * N)]
    others = [long_reasoning(i) for i in range(PROBLEMS * N, 2 * PROBLEMS * N)]
    runs = {name: tmp_path / name for name in ("a", "a-again", "b")}
    for name, drawn, seed in (("a", texts, 1), ("b", others, 2)):
        runs[name].mkdir()
        stub_run(tiny_model, runs[name], drawn, seed)
    # The same seed twice draws the same responses: a copy of the run is that second job.
    shutil.copytree(runs["a"], runs["a-again"])
    capsys.readouterr()

    code, _, err = run_cli(capsys, "merge", str(runs["a"] / "out"), str(runs["a-again"] / "out"),
                           "--out", str(tmp_path / "same"), "--allow-duplicates")  # fmt: skip
    assert code == 0, err
    assert "!" * 80 in err and "same seed twice" in err
    (results_file,) = (tmp_path / "same").rglob("results_*.json")
    block = json.loads(results_file.read_text())["configs"]["math500_passk"]["passk"]
    assert block["duplicate_fraction"] == 0.5 and block["sampling_duplicated"] is True
    assert all(p["long_responses"] == 2 * N and p["repeated_responses"] == N for p in block["problems"].values())

    code, _, err = run_cli(capsys, "merge", str(runs["a"] / "out"), str(runs["b"] / "out"),
                           "--out", str(tmp_path / "distinct"))  # fmt: skip
    assert code == 0, err
    assert "!" * 80 not in err
    (results_file,) = (tmp_path / "distinct").rglob("results_*.json")
    block = json.loads(results_file.read_text())["configs"]["math500_passk"]["passk"]
    assert (block["duplicate_fraction"], block["sampling_duplicated"]) == (0.0, False)
