"""Answer diversity and response length in `report` and `compare`, on hand-made runs whose
values are worked out here, on the demo runs and on real lm_eval runs of the tiny model."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from handmade_runs import TASK, Problem, write_run

from lm_eval_passk.analysis.diversity import distinct_bin
from lm_eval_passk.cli import main


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def entropy(*sizes: int) -> float:
    total = sum(sizes)
    return -sum(s / total * math.log2(s / total) for s in sizes)


# Gold 2 everywhere. Base p1: 3 correct, "3" twice, "1/2" and "0.5" (one answer to the
# grader, so one class of 2), one response without an answer: classes 3, 2, 2.
BASE = [
    Problem("p1", [("a", True, "2")] * 3 + [("b", False, "3")] * 2 + [("c", False, "1/2"), ("d", False, "0.5"),
                                                                       ("e", False, None)]),
    Problem("p2", [("f", True, "2")] * 4),
    Problem("p3", [("g", False, None)] * 4),
]
RL = [
    Problem("p1", [("h", True, "2")] * 8),
    Problem("p2", [("i", False, "5")] * 4),
    Problem("p3", [("j", False, "7"), ("k", False, "8"), ("l", False, "9"), ("m", False, "10")]),
]


@pytest.fixture
def hand_runs(tmp_path: Path) -> tuple[Path, Path]:
    return write_run(tmp_path / "base", "org/base", BASE), write_run(tmp_path / "rl", "org/rl", RL)


def test_distinct_answer_bins_are_powers_of_two() -> None:
    assert [distinct_bin(d) for d in (0, 1, 2, 3, 4, 5, 8, 9, 16, 17, 1024)] == [
        "0", "1", "2", "3-4", "3-4", "5-8", "5-8", "9-16", "9-16", "17-32", "513-1024"
    ]  # fmt: skip


def test_compare_reports_distinct_answers_and_entropy_grouped_as_maj_at_k(hand_runs, capsys) -> None:
    code, out, _ = cli(capsys, "compare", str(hand_runs[0]), str(hand_runs[1]), "--format", "json")
    assert code == 0
    comparison = json.loads(out)["tasks"][TASK]
    base, rl = comparison["base"]["answer_diversity"], comparison["rl"]["answer_diversity"]
    assert base["per_problem"] == {
        "p1": {"distinct": 3, "entropy_bits": pytest.approx(entropy(3, 2, 2)), "answered": 7, "no_answer": 1},
        "p2": {"distinct": 1, "entropy_bits": 0.0, "answered": 4, "no_answer": 0},
        "p3": {"distinct": 0, "entropy_bits": None, "answered": 0, "no_answer": 4},
    }
    assert rl["per_problem"]["p3"] == {"distinct": 4, "entropy_bits": pytest.approx(2.0), "answered": 4, "no_answer": 0}
    assert base["distinct_answers"]["mean"] == pytest.approx(4 / 3)
    assert base["distinct_answers"]["median"] == 1.0
    assert base["entropy_bits"]["mean"] == pytest.approx(entropy(3, 2, 2) / 2)  # p3 has no answers
    assert base["problems_without_answers"] == 1
    assert base["distinct_answers"]["histogram"] == {"0": 1, "1": 1, "2": 0, "3-4": 1, "5-8": 0}  # n = 4..8
    assert rl["distinct_answers"]["histogram"] == {"0": 0, "1": 2, "2": 0, "3-4": 1, "5-8": 0}
    # The text table: base and rl side by side.
    code, out, _ = cli(capsys, "compare", str(hand_runs[0]), str(hand_runs[1]))
    lines = out.splitlines()
    row = next(line for line in lines if line.startswith("base: org/base") and "1.33" in line)
    # n, problems, mean, median. Problems of unequal n (4 to 8) read as an adaptive study's
    # rounds (docs/ANALYSIS.md), whose n is the largest.
    assert row.split()[2:6] == ["8", "3", "1.33", "1.00"]
    assert "3-4               1               1" in lines


def test_character_lengths_split_by_verdict_and_no_truncation_without_tokens(hand_runs, tmp_path, capsys) -> None:
    code, out, _ = cli(capsys, "report", str(hand_runs[0]), "--format", "json", "--out", str(tmp_path / "out"))
    assert code == 0
    lengths = json.loads(out)["tasks"][TASK]["org/base"]["response_length"]
    # Every response text is one character; p1 3 correct and 5 wrong, p2 4 correct, p3 4 wrong.
    assert lengths["unit"] == "characters" and lengths["tokenizer"] is None
    assert (lengths["all"]["responses"], lengths["correct"]["responses"], lengths["incorrect"]["responses"]) == (16, 7, 9)
    assert lengths["all"]["mean"] == 1.0 and lengths["all"]["max"] == 1
    assert lengths["truncated"] is None and "--tokenizer" in lengths["truncation_note"]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "report_lengths.csv").read_text())))
    assert [(r["subset"], r["responses"]) for r in rows] == [("all", "16"), ("correct", "7"), ("incorrect", "9")]
    assert (tmp_path / "out" / "lengths_hand_passk.png").stat().st_size > 1000
    assert (tmp_path / "out" / "diversity_hand_passk.png").stat().st_size > 1000


def test_token_lengths_and_truncation_at_max_gen_toks(tmp_path, tiny_model, capsys) -> None:
    # The tiny model's tokenizer splits on whitespace: a token per word (unknown words too).
    problems = [
        Problem("p1", [("The answer is \\boxed{2}", True, "2"), ("so we get", False, "0")], max_gen_toks=4),
        Problem("p2", [("1 2 3 so", False, "3"), (".", True, "2"), ("a b c d e f g h", True, "2")], max_gen_toks=100),
    ]
    run = write_run(tmp_path / "run", "org/m", problems)
    code, out, _ = cli(capsys, "report", str(run), "--tokenizer", str(tiny_model), "--format", "json")
    assert code == 0
    lengths = json.loads(out)["tasks"][TASK]["org/m"]["response_length"]
    assert lengths["unit"] == "tokens" and lengths["tokenizer"] == str(tiny_model)
    assert lengths["max_gen_toks"] == [4, 100]
    # Tokens: correct 4, 1, 8; wrong 3, 4. At the limit: p1's 4 of 4 only (p2's limit is 100).
    assert lengths["correct"]["mean"] == pytest.approx(13 / 3) and lengths["correct"]["median"] == 4.0
    assert lengths["incorrect"]["mean"] == pytest.approx(3.5)
    assert lengths["all"]["max"] == 8
    assert lengths["truncated"] == {"all": 1, "correct": 1, "incorrect": 0}
    code, out, _ = cli(capsys, "report", str(run), "--tokenizer", str(tiny_model))
    assert "1 (20.0%): 1 correct" in out


def test_an_unknown_tokenizer_is_a_clear_error(hand_runs, tmp_path, capsys) -> None:
    code, _, err = cli(capsys, "report", str(hand_runs[0]), "--tokenizer", str(tmp_path / "nowhere"))
    assert code == 2
    assert f"--tokenizer {tmp_path / 'nowhere'}: cannot load it" in err


def test_demo_runs_compare_diversity_and_lengths(tmp_path: Path, capsys) -> None:
    from lm_eval_passk.analysis.demo import write_demo_runs

    base, rl = write_demo_runs(tmp_path / "runs", problems=20, n=16)
    code, out, _ = cli(capsys, "compare", str(base), str(rl), "--format", "json")
    assert code == 0
    comparison = json.loads(out)["tasks"]["demo_math_passk"]
    for role, directory in (("base", base), ("rl", rl)):
        (samples,) = directory.rglob("samples_*.jsonl")
        rows = [json.loads(line) for line in samples.open()]
        diversity = comparison[role]["answer_diversity"]["per_problem"]
        lengths = [len(r) for row in rows for r in row["resps"][0]]
        for row in rows:
            # The demo's answers are integers written one way: distinct strings are distinct answers.
            answers = {json.loads(v)["answer"] for v in row["filtered_resps"][0]} - {None}
            assert diversity[row["doc"]["problem_id"]]["distinct"] == len(answers)
        assert comparison[role]["response_length"]["all"]["mean"] == pytest.approx(sum(lengths) / len(lengths))
        assert comparison[role]["response_length"]["all"]["responses"] == 20 * 16


def test_compare_on_a_real_lm_eval_run_reports_both_sides(math_run: dict, tmp_path: Path, capsys) -> None:
    """The four math tasks of a real run against a copy of it: every task's diversity and
    lengths on both sides, worked out from the samples file."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(math_run["out"], copy)
    code, out, _ = cli(capsys, "compare", str(math_run["out"]), str(copy), "--format", "json")
    assert code == 0
    document = json.loads(out)
    for task, rows in math_run["samples"].items():
        comparison = document["tasks"][task]
        lengths = [len(r) for row in rows for r in row["resps"][0]]
        correct = [len(r) for row in rows for r, v in zip(row["resps"][0], row["filtered_resps"][0])
                   if json.loads(v)["correct"]]
        for role in ("base", "rl"):
            measured = comparison[role]["response_length"]
            assert measured["all"]["responses"] == len(lengths)
            assert measured["all"]["mean"] == pytest.approx(sum(lengths) / len(lengths))
            assert measured["correct"]["responses"] == len(correct)
            assert measured["max_gen_toks"] == [16384]
            diversity = comparison[role]["answer_diversity"]
            assert diversity["problems"] == len(rows)
            for row in rows:
                answers = [json.loads(v)["answer"] for v in row["filtered_resps"][0]]
                entry = diversity["per_problem"][row["doc"]["problem_id"]]
                assert entry["answered"] + entry["no_answer"] == len(answers)
                assert entry["no_answer"] == answers.count(None)
                if task == "aime24_passk":  # the tiny model's answers are the digits 1, 2, 3, written one way
                    assert entry["distinct"] == len(set(answers) - {None})
