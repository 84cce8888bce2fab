"""maj@k (issue 14): the estimator against every k-subset, answers grouped by the grader's
equivalence, and report/compare/figures on hand-written runs."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lm_eval_passk.analysis.majority import group_votes
from lm_eval_passk.analysis.plots import majority_series
from lm_eval_passk.cli import main
from lm_eval_passk.grading.answer_groups import answer_classes
from lm_eval_passk.metrics import majority
from lm_eval_passk.metrics.majority import (
    exact_maj_at_k,
    maj_at_k,
    monte_carlo_maj_at_k,
)
from lm_eval_passk.run_format import GradingSettings

DATE = "2025-02-03T04-05-06.000007"


def brute_force(correct: int, wrong: list[int], abstain: int, k: int) -> Fraction:
    """Every k-subset: the correct class's share of the win (1 / tied classes), 0 when
    the subset's plurality is wrong or nobody votes."""
    labels = [0] * correct + [i + 1 for i, m in enumerate(wrong) for _ in range(m)] + [None] * abstain
    total, subsets = Fraction(0), 0
    for subset in itertools.combinations(labels, k):
        subsets += 1
        votes = Counter(label for label in subset if label is not None)
        if not votes:
            continue
        best = max(votes.values())
        winners = [label for label, count in votes.items() if count == best]
        total += Fraction(1, len(winners)) if 0 in winners else 0
    return total / subsets


@pytest.mark.parametrize(
    "correct, wrong, abstain",
    [
        (1, [1, 1], 0),  # three-way ties
        (2, [2], 0),  # a tie at every even k
        (2, [2, 2], 1),  # ties and an abstention
        (1, [3], 2),  # outvoted
        (3, [1, 1, 1, 1], 0),  # many singletons
        (0, [2, 1], 1),  # never right
        (2, [], 3),  # only abstentions oppose it: a subset of abstentions scores 0
        (4, [3, 2, 1], 2),
    ],
)
def test_exact_maj_at_k_equals_every_k_subset(correct: int, wrong: list[int], abstain: int) -> None:
    n = correct + sum(wrong) + abstain
    for k in range(1, n + 1):
        assert exact_maj_at_k(correct, wrong, abstain, k) == pytest.approx(
            float(brute_force(correct, wrong, abstain, k)), abs=1e-9
        ), k


def test_exact_maj_at_k_on_random_counts() -> None:
    rng = random.Random(14)
    for _ in range(25):
        correct, abstain = rng.randint(0, 4), rng.randint(0, 3)
        wrong = [rng.randint(1, 3) for _ in range(rng.randint(0, 3))]
        n = correct + sum(wrong) + abstain
        if n == 0 or n > 12:
            continue
        k = rng.randint(1, n)
        assert exact_maj_at_k(correct, wrong, abstain, k) == pytest.approx(
            float(brute_force(correct, wrong, abstain, k)), abs=1e-9
        )


def test_the_ends_have_closed_forms() -> None:
    assert exact_maj_at_k(3, [5, 2], 2, 1) == pytest.approx(3 / 12)  # one vote: c / n
    assert exact_maj_at_k(5, [5, 2], 2, 14) == pytest.approx(1 / 2)  # all vote: a tie
    assert exact_maj_at_k(6, [5, 2], 2, 15) == 1.0
    assert exact_maj_at_k(4, [5, 2], 2, 13) == 0.0


def test_monte_carlo_is_within_its_stated_error() -> None:
    # Large enough not to enumerate, small enough for the exact programme to check.
    counts = (30, [25, 20, 5, 5, 3, 1, 1, 1], 9)
    for k in (4, 16, 33):
        exact = exact_maj_at_k(*counts, k)
        estimate = monte_carlo_maj_at_k(*counts, k, np.random.default_rng(k))
        assert not estimate.exact and estimate.se <= majority.MC_TARGET_SE
        assert abs(estimate.value - exact) <= 4 * estimate.se + 1e-12


def test_monte_carlo_against_every_subset() -> None:
    estimate = monte_carlo_maj_at_k(2, [2, 1], 1, 3, np.random.default_rng(0))
    assert abs(estimate.value - float(brute_force(2, [2, 1], 1, 3))) <= 4 * estimate.se


def test_maj_at_k_switches_to_monte_carlo_above_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    assert maj_at_k(30, [25, 20], 9, 16).exact
    monkeypatch.setattr(majority, "EXACT_BUDGET", 0)
    estimate = maj_at_k(30, [25, 20], 9, 16)
    assert not estimate.exact and 0 < estimate.se <= majority.MC_TARGET_SE
    assert abs(estimate.value - exact_maj_at_k(30, [25, 20], 9, 16)) <= 4 * estimate.se


def test_large_n_stays_finite_and_exact() -> None:
    """C(1024, 512) ~ 1e307: counted subsets would overflow; binomial weights do not."""
    estimate = maj_at_k(300, (200, 100, 50, *[5] * 40, *[1] * 100), 74, 256)
    assert estimate.exact and 0.99 < estimate.value <= 1.0


# Grouping answers


def test_equivalent_answers_written_differently_are_one_vote() -> None:
    answers = ["\\frac12", "1/2", "0.5", "\\frac{1}{2}", "3", "3.0", "x", None]
    classes = answer_classes("math500", answers, symbolic=False)
    assert sorted(sorted(c) for c in classes) == [[0, 1, 2, 3], [4, 5], [6]]


def test_answers_past_the_comparison_budget_stay_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    from lm_eval_passk.grading import answer_groups

    monkeypatch.setattr(answer_groups, "MAX_QUICK_PAIRS", 1)
    classes = answer_classes("math500", ["1/2", "0.5", "3", "3.0"], symbolic=False)
    assert sorted(classes) == [[0, 1], [2], [3]]  # two votes for 3, never a wrong merge


def test_symbolic_pairs_are_decided_by_the_grading_pool() -> None:
    classes = answer_classes("math500", ["x+1", "1+x", "x+2"])
    assert sorted(sorted(c) for c in classes) == [[0, 1], [2]]


def test_mathvista_answers_group_by_its_normalisation() -> None:
    record = {"answer_type": "float", "precision": 1, "question_type": "free_form", "answer": "1.5"}
    assert sorted(answer_classes("mathvista", ["1.50", "1.5", "2"], record)) == [[0, 1], [2]]


def test_code_has_no_answers_to_vote_on() -> None:
    assert answer_classes("livecodebench", [None, None]) is None
    assert answer_classes("humaneval", [None]) is None


def test_correct_votes_join_and_a_split_class_is_counted() -> None:
    tally = Counter({("0.5", True): 2, ("1/2", True): 1, ("3", False): 2, (None, False): 1})
    votes = group_votes("math500", tally)
    assert (votes.correct, votes.wrong, votes.abstain, votes.inconsistent) == (3, (2,), 1, 0)
    # The grader said `1/2` was wrong once (say, a timeout): it stays wrong, and is counted.
    split = group_votes("math500", Counter({("0.5", True): 2, ("1/2", False): 1}))
    assert (split.correct, split.wrong, split.inconsistent) == (2, (1,), 1)


# The CLI on hand-written runs


def _verdict(correct: bool, answer: str | None) -> str:
    reason = "match" if correct else "mismatch" if answer is not None else "no_answer"
    return json.dumps({"correct": correct, "answer": answer, "reason": reason})


def write_run(directory: Path, benchmark: str, problems: list[list[tuple[bool, str | None]]]) -> Path:
    """One model's run of `toy_passk`, graded by `benchmark`'s grader as the verdicts say."""
    folder = directory / "org__model"
    folder.mkdir(parents=True)
    rows = [
        {
            "doc_id": i,
            "doc": {"problem_id": f"p{i}", "problem": "?", "answer": "\\frac12", "solution": "", "passk_prompt": "?"},
            "target": "\\frac12",
            "resps": [[f"response {j}" for j in range(len(graded))]],
            "filtered_resps": [[_verdict(ok, answer) for ok, answer in graded]],
        }
        for i, graded in enumerate(problems)
    ]
    (folder / f"samples_toy_passk_{DATE}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    block = {"n": len(problems[0]), **GradingSettings(benchmark).to_dict()}
    results = {"model_name": "org/model", "configs": {"toy_passk": {"passk": block}}}
    (folder / f"results_{DATE}.json").write_text(json.dumps(results))
    return directory


# p0: one correct, `3` and `3.0` (one wrong class of 2), one response with no answer.
# p1: `0.5` and `1/2` correct, `\frac{3}{2}` and `1.5` wrong (one class of 2).
HAND_RUN = [
    [(True, "\\frac12"), (False, "3"), (False, "3.0"), (False, None)],
    [(True, "0.5"), (True, "1/2"), (False, "\\frac{3}{2}"), (False, "1.5")],
]
# By hand, over the 4 / 6 / 1 subsets:
#   p0: k=1 1/4; k=2 {C,W}x2 ties (1/2 each) + {C,none} 1 = 2/6 = 1/3; k=4: 1 vote against 2: 0
#   p1: k=1 2/4; k=2 {C,C} 1 + {C,W}x4 ties = 3/6 = 1/2; k=4: 2 against 2: 1/2
# (grouped by string, p0 at k=4 would be a three-way tie, 1/3, and p1 a win, 1)
HAND_MAJ = {"1": (1 / 4 + 2 / 4) / 2, "2": (1 / 3 + 1 / 2) / 2, "4": (0 + 1 / 2) / 2}


def test_report_json_gives_maj_at_k_worked_out_by_hand(tmp_path: Path, capsys) -> None:
    run = write_run(tmp_path / "run", "math500", HAND_RUN)
    assert main(["report", str(run), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["tasks"]["toy_passk"]["org/model"]
    assert summary["maj_at_k"].keys() == summary["pass_at_k"].keys() == {"1", "2", "4"}
    for k, value in HAND_MAJ.items():
        assert summary["maj_at_k"][k] == pytest.approx(value, abs=1e-12)
    assert summary["majority"] == {"abstentions": 1, "inconsistent_classes": 0, "monte_carlo": {}}


def test_tables_and_csv_show_maj_at_k(tmp_path: Path, capsys) -> None:
    run = write_run(tmp_path / "run", "math500", HAND_RUN)
    assert main(["report", str(run), "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    assert "org/model maj@k" in text and "| 4 | 100.0 | 25.0 |" in text
    assert main(["report", str(run), "--format", "csv"]) == 0
    rows = [line.split(",") for line in capsys.readouterr().out.splitlines()]
    maj = {row[4]: float(row[5]) for row in rows if row[1] == "maj@k"}
    assert maj == pytest.approx(HAND_MAJ, abs=1e-12)
    assert all(row[6:] == ["", ""] for row in rows if row[1] == "maj@k")  # no interval


def test_compare_json_has_maj_at_k_on_both_sides(tmp_path: Path, capsys) -> None:
    base = write_run(tmp_path / "base", "math500", HAND_RUN)
    rl = write_run(tmp_path / "rl", "math500", [[(True, "0.5")] * 4, [(False, "2")] * 4])
    assert main(["compare", str(base), str(rl), "--format", "json"]) == 0
    comparison = json.loads(capsys.readouterr().out)["tasks"]["toy_passk"]
    assert comparison["base"]["maj_at_k"]["4"] == pytest.approx(0.25)
    assert comparison["rl"]["maj_at_k"] == {"1": 0.5, "2": 0.5, "4": 0.5}


def test_a_code_task_says_there_are_no_answers_to_vote_on(tmp_path: Path, capsys) -> None:
    run = write_run(tmp_path / "run", "livecodebench", [[(True, None), (False, None)]])
    assert main(["report", str(run), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["tasks"]["toy_passk"]["org/model"]
    assert summary["maj_at_k"] is None
    assert summary["majority"]["note"].startswith("no answers to vote on")
    assert main(["report", str(run)]) == 0
    assert "no answers to vote on" in capsys.readouterr().out
    assert main(["report", str(run), "--out", str(tmp_path / "out")]) == 0
    assert not list((tmp_path / "out").glob("majority_*"))


def test_the_majority_figure_is_a_png_with_both_curves(tmp_path: Path, capsys) -> None:
    run = write_run(tmp_path / "run", "math500", HAND_RUN)
    assert main(["report", str(run), "--out", str(tmp_path / "out")]) == 0
    png = (tmp_path / "out" / "majority_toy_passk.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    svg = (tmp_path / "out" / "majority_toy_passk.svg").read_text()
    assert "org/model pass@k" in svg and "org/model maj@k" in svg
    document = json.loads((tmp_path / "out" / "report.json").read_text())
    curves = majority_series(list(document["tasks"]["toy_passk"].items()))
    assert [(label, ys) for label, _, ys in curves] == [
        ("org/model pass@k", [37.5, pytest.approx(200 / 3), 100.0]),
        ("org/model maj@k", [37.5, pytest.approx(100 * HAND_MAJ["2"]), 25.0]),
    ]


def test_the_demo_votes_on_varied_wrong_answers(tmp_path: Path) -> None:
    from lm_eval_passk.analysis.demo import write_demo_runs
    from lm_eval_passk.analysis.runs import read_run

    base, _ = write_demo_runs(tmp_path, problems=12, n=32)
    (run,) = read_run(base)
    assert any(len(votes.wrong) > 1 for votes in run.votes.values())
    assert any(votes.abstain for votes in run.votes.values())


def test_a_regrade_votes_on_the_answers_it_reads_again(tmp_path: Path, capsys) -> None:
    """The demo's responses box the answers their verdicts log: regraded, the votes agree."""
    from lm_eval_passk.analysis.demo import write_demo_runs

    base, _ = write_demo_runs(tmp_path, problems=8, n=16)
    curves = []
    for extra in ([], ["--regrade"]):
        assert main(["report", str(base), "--format", "json", *extra]) == 0
        (summary,) = json.loads(capsys.readouterr().out)["tasks"]["demo_math_passk"].values()
        curves.append(summary["maj_at_k"])
    assert curves[0] == pytest.approx(curves[1], abs=1e-12)
