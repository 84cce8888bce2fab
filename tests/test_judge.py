"""CoT-Pass@k through lm-eval's `local-chat-completions` model against a loopback server
that plays a scripted judge."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from math import comb
from pathlib import Path

import pytest

DATE = "2025-03-04T05-06-07.000008"
VOTES = 3
# Each response carries a tag telling the scripted judge how to vote, call after call:
# y = \boxed{yes}, n = \boxed{no}, a = a reply with no boxed verdict (an abstention).
SCRIPTS = {"good": "yyy", "bad": "nnn", "split": "yny", "weak": "ynn", "mumble": "aay"}
# (tag, answer correct?) per response: 3 problems x n = 4.
PROBLEMS = {
    "p1": [("good", True), ("bad", True), ("good", False), ("split", True)],
    "p2": [("weak", True), ("mumble", True), ("good", False), ("bad", False)],
    "p3": [("good", False), ("good", False), ("good", False), ("good", False)],
}


class ScriptedJudge(ThreadingHTTPServer):
    """An OpenAI-compatible /v1/chat/completions endpoint. Records every answered call per
    judged response; can hold the Nth request unanswered (to kill the client meanwhile)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answered: Counter[str] = Counter()
        self.seen_texts: list[str] = []
        self.prompts: list[str] = []
        self.hold_at: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.requests = 0


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedJudge

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        response = prompt.split("## Solution to check", 1)[1]
        key = re.search(r"\[(\w+)#(\w+)\]", response).group(0)
        tag = re.search(r"\[(\w+)#", key).group(1)
        with self.server.lock:
            self.server.requests += 1
            number = self.server.requests
            self.server.seen_texts.append(response)
            self.server.prompts.append(prompt)
        if self.server.hold_at == number:
            self.server.held.set()
            self.server.release.wait(30)
            return  # never answered: the client was killed meanwhile
        with self.server.lock:
            call = self.server.answered[key]
            self.server.answered[key] += 1
        vote = SCRIPTS[tag][call % VOTES]
        content = {"y": "Checked. \\boxed{yes}", "n": "A step is wrong. \\boxed{no}", "a": "Hard to say."}[vote]
        reply = json.dumps(
            {
                "id": "x", "object": "chat.completion", "model": body.get("model", "judge"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


@pytest.fixture
def judge_server():
    server = ScriptedJudge()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()


def write_run(directory: Path) -> Path:
    folder = directory / "org__model"
    folder.mkdir(parents=True)
    with (folder / f"samples_toy_passk_{DATE}.jsonl").open("w") as out:
        for index, (pid, responses) in enumerate(PROBLEMS.items()):
            texts = [f"Reasoning for {pid}. [{tag}#{pid}r{j}] So the answer is \\boxed{{7}}." for j, (tag, _) in enumerate(responses)]
            verdicts = [json.dumps({"correct": ok, "answer": "7", "reason": "match"}) for _, ok in responses]
            row = {
                "doc_id": index,
                "doc": {"problem_id": pid, "problem": f"Problem {pid}?", "answer": "7", "solution": "Ref.", "passk_task": "math500"},
                "target": "7", "resps": [texts], "filtered_resps": [verdicts],
                "n_samples": len(responses), "n_correct": sum(ok for _, ok in responses),
            }
            out.write(json.dumps(row) + "\n")
    (folder / f"results_{DATE}.json").write_text(json.dumps({"model_name": "org/model"}))
    return directory


def judge_command(run: Path, server: ScriptedJudge) -> list[str]:
    port = server.server_address[1]
    return [
        sys.executable, "-m", "lm_eval_passk.cli", "judge", str(run),
        "--model", "local-chat-completions",
        "--model_args", f"model=scripted-judge,base_url=http://127.0.0.1:{port}/v1/chat/completions,num_concurrent=1,max_retries=1",
        "--batch_size", "1",
        "--votes", str(VOTES),
        "--judge_name", "scripted",
    ]


def exact_mean(d: dict[str, int], k: int, n: int = 4) -> float:
    return float(sum(1 - Fraction(comb(n - c, k), comb(n, k)) for c in d.values()) / len(d))


EXPECTED_D = {  # by hand from SCRIPTS and PROBLEMS
    "any": {"p1": 2, "p2": 2, "p3": 0},  # good, split | weak, mumble
    "majority": {"p1": 2, "p2": 1, "p3": 0},  # good, split | mumble (1 yes, 0 no)
    "all": {"p1": 1, "p2": 0, "p3": 0},  # good
}
JUDGED = ["good#p1r0", "bad#p1r1", "split#p1r3", "weak#p2r0", "mumble#p2r1"]


def check_report(run: Path) -> None:
    report = subprocess.run(
        [sys.executable, "-m", "lm_eval_passk.cli", "report", str(run), "--format", "json", "--out", str(run / "figures")],
        capture_output=True, text=True, timeout=120,
    )
    assert report.returncode == 0, report.stderr
    assert (run / "figures" / "cot_toy_passk.png").stat().st_size > 10_000
    summary = json.loads(report.stdout)["tasks"]["toy_passk"]["org/model"]
    for rule, d in EXPECTED_D.items():
        for k in (1, 2, 4):
            assert summary["cot_pass_at_k"][rule][str(k)] == pytest.approx(exact_mean(d, k), abs=1e-12)
    for k in ("1", "2", "4"):  # any >= majority >= all, and CoT never above pass@k
        cot = summary["cot_pass_at_k"]
        assert summary["pass_at_k"][k] >= cot["any"][k] >= cot["majority"][k] >= cot["all"][k]
    assert summary["judge"] == {"judged": 5, "unjudged": 0, "abstentions": 2}


def test_cot_pass_at_k_through_a_scripted_judge(judge_server, tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    result = subprocess.run(judge_command(run, judge_server), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    # Only answer-correct responses reach the judge, each exactly `votes` times.
    assert sorted(judge_server.answered) == sorted(f"[{key}]" for key in JUDGED)
    assert set(judge_server.answered.values()) == {VOTES}
    assert not any("#p3" in text or "good#p1r2" in text or "#p2r2" in text for text in judge_server.seen_texts)
    # The prompt shows the problem, the reference solution and the response.
    p1_prompts = [p for p in judge_server.prompts if "#p1r" in p]
    assert p1_prompts and all("Problem p1?" in p and "Ref." in p for p in p1_prompts)
    check_report(run)
    # A second run finds everything journaled and asks nothing.
    before = judge_server.requests
    again = subprocess.run(judge_command(run, judge_server), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert judge_server.requests == before
    assert "0 votes requested, 15 already journaled" in again.stdout


def test_killed_judge_resumes_without_repeating_a_call(judge_server, tmp_path: Path) -> None:
    run = write_run(tmp_path / "run")
    judge_server.hold_at = 7  # answer six votes, then hold the seventh while we kill the client
    process = subprocess.Popen(judge_command(run, judge_server), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert judge_server.held.wait(120), "the judge never reached its seventh call"
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    judge_server.release.set()
    assert sum(judge_server.answered.values()) == 6
    judge_server.hold_at = None
    result = subprocess.run(judge_command(run, judge_server), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    # Across both runs every judged response got exactly `votes` answered calls: the six
    # answered before the kill were journaled and not asked again.
    assert set(judge_server.answered.values()) == {VOTES}
    assert sum(judge_server.answered.values()) == VOTES * len(JUDGED)
    assert "9 votes requested, 6 already journaled" in result.stdout
    check_report(run)
