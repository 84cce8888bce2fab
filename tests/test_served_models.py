"""Our tasks and the judge against a real OpenAI-compatible server: `transformers serve`
running a tiny random model on loopback, reached through plain `lm_eval --model
local-completions` / `local-chat-completions` and `lm-eval-passk judge`.

The server honours each request's `seed` (it seeds torch before generating), as vLLM and
SGLang do, so these runs show what users of a served model get: n distinct samples per
problem, the same samples again for the same command, other samples for another seed=, and a
run that survives the server going away and coming back. The server keeps a matched stop
string at the end of the text (vLLM drops it), so "stopped" is checked as: no stop string
before the response's last characters.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURE_DATA, lm_eval_args, offline_env, run_lm_eval

from lm_eval_passk.cli import main
from lm_eval_passk.run_format import (
    RESULTS_BLOCK,
    SAMPLE_SEEDS,
    read_rows,
    responses_of,
)

pytestmark = pytest.mark.slow

N = 4
LIMIT = 3
MAX_GEN_TOKS = 24
# Bytes the tiny random model (its weights are seeded) often emits: about half its responses
# hold one within MAX_GEN_TOKS, so some end at a stop and some at the length limit. Chat
# payloads keep only 4 stops (lm-eval's LocalChatCompletion).
STOPS = ["h", "k", "8", "/"]
GEN_KWARGS = ["--gen_kwargs", f"max_gen_toks={MAX_GEN_TOKS}", f"until={json.dumps(STOPS)}"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    pytest.importorskip("fastapi", reason="transformers serve needs transformers[serving] (the test extra)")
    from served_model import served
    from tiny_model import build_tiny_served_model

    work = tmp_path_factory.mktemp("served")
    model = build_tiny_served_model(work / "model")
    with served(model, work / "server.log") as running:
        yield running


def completions_args(server, seed: int, concurrent: int, *extra_model_args: str) -> str:
    return ",".join([
        f"model={server.model}", f"base_url={server.base}/completions",
        "tokenizer_backend=huggingface", f"tokenizer={server.model}", "tokenized_requests=False",
        f"num_concurrent={concurrent}", f"seed={seed}", *extra_model_args,
    ])  # fmt: skip


def run_tasks(work: Path, model: str, model_args: str, tasks: str, *extra: str) -> dict:
    """One real lm_eval run of `tasks` (fixture data, n = N, --limit LIMIT): its responses
    per task and problem, and its results."""
    metadata = {"n": N, "data_dir": str(FIXTURE_DATA)}
    work.mkdir(parents=True, exist_ok=True)
    run_lm_eval(
        lm_eval_args(model, model_args, tasks, metadata, work / "out", "--limit", str(LIMIT), *GEN_KWARGS, *extra),
        env=offline_env(work / "raw"), cwd=work,
    )  # fmt: skip
    return read_run(work / "out", tasks)


def read_run(out: Path, tasks: str) -> dict:
    (results_file,) = out.rglob("results_*.json")
    responses = {
        task: {row["doc_id"]: responses_of(row) for row in read_rows(next(out.rglob(f"samples_{task}_*.jsonl")))}
        for task in tasks.split(",")
    }
    return {"responses": responses, "results": json.loads(results_file.read_text()), "out": out}


def assert_distinct_and_stopped(responses: dict[int, list[str]], stops: list[str]) -> None:
    assert len(responses) == LIMIT
    for problem, drawn in responses.items():
        assert len(drawn) == N
        assert len(set(drawn)) == N, f"problem {problem}: repeated samples {drawn}"
        for text in drawn:
            # One byte-level token is at most one character of decoded text.
            assert len(text) <= MAX_GEN_TOKS, text
            assert not any(stop in text[:-1] for stop in stops), f"went on past a stop: {text!r}"
    # Both limits were reached somewhere (else the checks above prove nothing).
    everything = [text for drawn in responses.values() for text in drawn]
    assert any(text and text[-1] in stops for text in everything)


def all_responses(run: dict, task: str = "math500_passk") -> set[str]:
    return {text for drawn in run["responses"][task].values() for text in drawn}


@pytest.fixture(scope="module")
def seed7_concurrent(server, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The issue's command (seed=7, num_concurrent=2), with a code task beside the math one."""
    return run_tasks(
        tmp_path_factory.mktemp("seed7"), "local-completions", completions_args(server, 7, 2),
        "math500_passk,humaneval_plus_passk", "--confirm_run_unsafe_code",
    )


def test_completions_draw_n_distinct_samples_concurrently(seed7_concurrent: dict) -> None:
    for task in ("math500_passk", "humaneval_plus_passk"):
        assert_distinct_and_stopped(seed7_concurrent["responses"][task], STOPS)
        block = seed7_concurrent["results"]["configs"][task][RESULTS_BLOCK]
        assert block["identical_fraction"] == 0.0
        assert block["sampling_degenerate"] is False
    # The run says what it did: 2 tasks x 3 problems x 4 repeats sent, 3 of every 4 reseeded.
    record = seed7_concurrent["results"]["configs"]["math500_passk"][RESULTS_BLOCK][SAMPLE_SEEDS]
    assert (record["model_seed"], record["requests"], record["reseeded"]) == (7, 24, 18)


def test_code_task_graded_end_to_end(seed7_concurrent: dict) -> None:
    results = seed7_concurrent["results"]
    block = results["configs"]["humaneval_plus_passk"][RESULTS_BLOCK]
    assert len(block["problems"]) == LIMIT
    assert all(problem["n_samples"] == N for problem in block["problems"].values())
    # Every response got a verdict with its reason (random bytes are not Python).
    assert sum(block["reasons"].values()) == LIMIT * N
    assert results["results"]["humaneval_plus_passk"]["pass@4,passk"] == 0.0


def test_another_seed_shares_no_sample_and_the_two_merge(server, seed7_concurrent: dict, tmp_path: Path) -> None:
    seed8 = run_tasks(
        tmp_path / "seed8", "local-completions", completions_args(server, 8, 2),
        "math500_passk,humaneval_plus_passk", "--confirm_run_unsafe_code",
    )  # fmt: skip
    for task in ("math500_passk", "humaneval_plus_passk"):
        assert_distinct_and_stopped(seed8["responses"][task], STOPS)
        assert not all_responses(seed8, task) & all_responses(seed7_concurrent, task)
    # Two jobs with their own seeds are shards of one run: merge sums them to n = 8.
    assert main(["merge", str(seed7_concurrent["out"]), str(tmp_path / "seed8" / "out"), "--out", str(tmp_path / "merged")]) == 0
    merged = read_run(tmp_path / "merged", "math500_passk,humaneval_plus_passk")
    for task in ("math500_passk", "humaneval_plus_passk"):
        assert [len(drawn) for drawn in merged["responses"][task].values()] == [2 * N] * LIMIT
        assert merged["results"]["configs"][task][RESULTS_BLOCK]["identical_fraction"] == 0.0


def run_losing_the_server(server, work: Path, max_retries: int, restart: bool) -> tuple[int, str]:
    """Start `lm_eval` (seed=7, num_concurrent=1) in the background, stop the server once 3
    of its 12 responses are in, start the server again (at once with `restart`, else only
    after lm_eval has ended), and return lm_eval's exit status and output."""
    from served_model import start_server, stop_server

    work.mkdir(parents=True, exist_ok=True)
    args = lm_eval_args(
        "local-completions", completions_args(server, 7, 1, f"max_retries={max_retries}"), "math500_passk",
        {"n": N, "data_dir": str(FIXTURE_DATA)}, work / "out", "--limit", str(LIMIT), *GEN_KWARGS,
    )  # fmt: skip
    script = Path(sys.executable).with_name("lm_eval")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "lm_eval"]
    process = subprocess.Popen(
        [*command, *args], env=offline_env(work / "raw"), cwd=work,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    output: list[str] = []
    progress = threading.Event()

    def read_output() -> None:
        assert process.stdout is not None
        # Raw reads: tqdm redraws its bar with "\r" and no newline.
        while chunk := os.read(process.stdout.fileno(), 4096):
            output.append(chunk.decode(errors="replace"))
            done = re.findall(r"Requesting API:.*?\| *(\d+)/\d+", "".join(output)[-2000:])
            if any(int(count) >= 3 for count in done):
                progress.set()

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        assert progress.wait(timeout=900), "".join(output)[-3000:]
        stop_server(server)
        assert process.poll() is None, "lm_eval ended before the server stopped"
        if restart:
            time.sleep(2)  # requests meanwhile fail against the closed port
            server.process = start_server(server.model, server.port, server.log).process
        process.wait(timeout=900)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        if server.process.poll() is not None:  # the next tests need it
            server.process = start_server(server.model, server.port, server.log).process
    return process.returncode, "".join(output)


def test_rerun_reproduces_and_survives_a_server_restart(
    server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """num_concurrent=1 twice: the same responses. The second run loses its server after 3
    responses; the server comes back on the same port, lm-eval's retries carry the run on,
    and each retried request is sent with the seed its failed attempt had."""
    # The same model arguments as the second run below, so that only the seed could differ.
    first = run_tasks(
        tmp_path / "first", "local-completions", completions_args(server, 7, 1, "max_retries=30"), "math500_passk"
    )
    assert_distinct_and_stopped(first["responses"]["math500_passk"], STOPS)
    # max_retries=30: lm-eval waits 1, 1, 2, 4, 8, then 10 s between attempts, long
    # enough for the server to restart (its default 3 attempts span about 2 s).
    status, output = run_losing_the_server(server, tmp_path / "restarted", max_retries=30, restart=True)
    assert status == 0, output[-3000:]
    restarted = read_run(tmp_path / "restarted" / "out", "math500_passk")
    assert restarted["responses"] == first["responses"]
    # The same seed twice drew true duplicates, and merge refuses them as such.
    command = ["merge", str(tmp_path / "first" / "out"), str(tmp_path / "restarted" / "out"), "--out", str(tmp_path / "m")]
    assert main(command) == 2
    # Refused by its seed before a response is compared (the two runs share seed 7).
    assert "with the same seeds" in capsys.readouterr().err


def test_a_server_gone_for_good_ends_the_run_in_one_line_with_the_responses_kept(
    server, tmp_path: Path
) -> None:
    status, output = run_losing_the_server(server, tmp_path, max_retries=2, restart=False)
    assert status != 0
    lines = [line for line in output.splitlines() if line.startswith("lm-eval-passk: the server at")]
    assert len(lines) == 1, output[-3000:]
    assert "Traceback" not in output
    (kept,) = (tmp_path / "raw").glob("api_*.jsonl")
    assert str(kept) in lines[0]
    records = [json.loads(line) for line in kept.read_text(encoding="utf-8").splitlines()]
    assert len(records) >= 3
    # Distinct within each prompt: repeat i of every problem carries the same seed, and the
    # random tiny model barely reads its prompt, so two problems may share a response.
    by_prompt: dict[str, list[str]] = {}
    for record in records:
        by_prompt.setdefault(record["prompt_md5"], []).append(record["response"])
    assert all(len(set(responses)) == len(responses) for responses in by_prompt.values()), by_prompt
    assert f"the {len(records)} responses received before" in lines[0]


def test_chat_completions_draw_n_distinct_samples(server, tmp_path: Path) -> None:
    model_args = f"model={server.model},base_url={server.base}/chat/completions,num_concurrent=2,seed=7"
    run = run_tasks(tmp_path, "local-chat-completions", model_args, "math500_passk", "--apply_chat_template")
    assert_distinct_and_stopped(run["responses"]["math500_passk"], STOPS)
    record = run["results"]["configs"]["math500_passk"][RESULTS_BLOCK][SAMPLE_SEEDS]
    assert (record["requests"], record["reseeded"]) == (LIMIT * N, LIMIT * (N - 1))


def test_judge_votes_are_distinct_draws(server, math_run: dict, tmp_path: Path) -> None:
    """`lm-eval-passk judge --votes 3` through local-chat-completions: the three votes on a
    response are three different replies, and a rerun finds them all journaled."""
    run = tmp_path / "run"
    shutil.copytree(math_run["out"], run)
    command = [
        sys.executable, "-m", "lm_eval_passk.cli", "judge", str(run), "--model", "local-chat-completions",
        "--model_args", f"model={server.model},base_url={server.base}/chat/completions,num_concurrent=2,seed=7",
        "--votes", "3", "--tasks", "gsm8k_passk",
        # transformers serve refuses an empty stop list, the judge's default.
        "--gen_kwargs", "max_gen_toks=16,until=</s>",
    ]  # fmt: skip
    env = offline_env(tmp_path / "raw")
    first = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    (journal,) = run.rglob("judgements_gsm8k_passk_*.jsonl")
    replies: dict[tuple[str, int], list[str]] = {}
    for line in journal.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        replies.setdefault((entry["problem_id"], entry["response"]), []).append(entry["reply"])
    assert replies, "no answer-correct response was judged"
    for response, votes in replies.items():
        assert len(votes) == 3 and len(set(votes)) == 3, f"{response}: {votes}"
    again = subprocess.run(command, check=False, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"0 votes requested, {3 * len(replies)} already journaled" in again.stdout


def test_batched_repeats_are_refused_in_one_line(server, tmp_path: Path) -> None:
    """batch_size=2 would send a problem's repeats in one request, under one seed."""
    metadata = {"n": N, "data_dir": str(FIXTURE_DATA)}
    args = lm_eval_args(
        "local-completions", completions_args(server, 7, 1), "math500_passk", metadata, tmp_path / "out",
        "--limit", "1", "--batch_size", "2", *GEN_KWARGS,
    )  # fmt: skip
    result = run_lm_eval(args, env=offline_env(tmp_path / "raw"), cwd=tmp_path, expect_failure=True)
    assert "lm-eval-passk: batch_size=2 sends the repeats of a prompt in one request" in result.stderr
    assert "Traceback" not in result.stderr
