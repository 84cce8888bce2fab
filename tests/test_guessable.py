"""`report` / `compare --exclude-guessable`: the problems an answer-only run hits by chance
are removed and the curves recomputed without them, on hand-made runs where the removed
problems are known, and on real lm_eval runs of the tiny model with the answer-only prompt."""

from __future__ import annotations

import json
from fractions import Fraction
from math import comb
from pathlib import Path

import pytest
from conftest import lm_eval_args, offline_env, run_lm_eval
from handmade_runs import TASK, counted, write_run

from lm_eval_passk.analysis.guessable import (
    common_golds,
    gold_in_statement,
    guess_reasons,
)
from lm_eval_passk.cli import main


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def exact(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def mean_pass_at_k(counts: dict[str, tuple[int, int]], ids: list[str], k: int) -> float:
    return float(sum(exact(*counts[i], k) for i in ids) / len(ids))


def test_gold_in_statement_by_value_and_by_text() -> None:
    assert gold_in_statement("025", "There are $25$ apples.")  # zero-padded AIME gold
    assert gold_in_statement("7", "Seven cats, 7 dogs.")
    assert not gold_in_statement("2", "Compute $x^2$ for x = 3.")  # an exponent states nothing
    assert not gold_in_statement("2", "Find $\\log_2 8$.")  # nor does an index
    assert not gold_in_statement("2", "In 2002, 1000 people came.")  # part of a longer number
    assert gold_in_statement("\\frac{1}{2}", "Is it $\\frac{1}{2}$ or more?")
    assert not gold_in_statement("x", "Solve for x.")  # too short to count as text


def test_reasons_follow_the_papers_rate_and_the_structural_checks() -> None:
    assert guess_reasons(100, 0, 0.05, True, True) == []  # never hit: kept, whatever the checks say
    assert guess_reasons(100, 4, 0.05, False, False) == ["guessed"]
    assert guess_reasons(100, 5, 0.05, False, False) == []  # 5% is not below 5%: easy, kept
    assert guess_reasons(100, 60, 0.05, True, False) == ["in_statement"]
    assert guess_reasons(100, 1, 0.05, False, True) == ["guessed", "common_answer"]


def test_common_golds_are_grouped_by_the_graders_equivalence() -> None:
    # "9", "09" and "9.0" are one answer (3 problems), "1/2" and "0.5" another (2).
    golds = {"a": "9", "b": "09", "c": "9.0", "d": "1/2", "e": "0.5", "f": "11", "g": "12"}
    assert common_golds("math500", golds) == {"a": 3, "b": 3, "c": 3, "d": 2, "e": 2}
    # Seven answers shared by several problems: only those above the sixth-largest class
    # (3 problems) are common; the six tied at 2 are not split.
    tied = {f"{gold}-{copy}": str(gold) for gold in range(1, 7) for copy in range(2)}
    assert common_golds("math500", tied | {"x-0": "9", "x-1": "9", "x-2": "9", "y": "10"}) == {
        "x-0": 3, "x-1": 3, "x-2": 3
    }


# The answer-only run (n = 100): g1 hit 3 times (3% < 5%: guessed); g2 never; g3 half the
# time (easy, kept); g4 10 times and its gold 7 is in the statement; g5 never though its
# gold is in the statement; g6 and g7 share the gold 9 (the only gold two problems
# share: common), g6 hit 20 times, g7 never. Removed: g1, g4, g6.
GUESS = [
    counted("g1", 100, 3, gold="11"),
    counted("g2", 100, 0, gold="12"),
    counted("g3", 100, 50, gold="13"),
    counted("g4", 100, 10, gold="7", statement="Seven cats and 7 dogs: how many dogs?"),
    counted("g5", 100, 0, gold="5", statement="Five is $5$."),
    counted("g6", 100, 20, gold="9"),
    counted("g7", 100, 0, gold="9"),
]
BASE = {"g1": (8, 1), "g2": (8, 0), "g3": (8, 4), "g4": (8, 2), "g5": (8, 1), "g6": (8, 8), "g7": (8, 3)}
RL = {"g1": (8, 0), "g2": (8, 0), "g3": (8, 8), "g4": (8, 8), "g5": (8, 0), "g6": (8, 8), "g7": (8, 6)}
KEPT = ["g2", "g3", "g5", "g7"]


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, Path]:
    gold = {p.problem_id: p.gold for p in GUESS}
    return {
        "guess": write_run(tmp_path / "guess", "org/base", GUESS),
        "base": write_run(tmp_path / "base", "org/base", [counted(i, n, c, gold[i]) for i, (n, c) in BASE.items()]),
        "rl": write_run(tmp_path / "rl", "org/rl", [counted(i, n, c, gold[i]) for i, (n, c) in RL.items()]),
    }


def test_report_removes_the_guessable_problems_and_recomputes_the_curves(runs, capsys) -> None:
    code, out, _ = cli(capsys, "report", str(runs["base"]), "--exclude-guessable", str(runs["guess"]), "--format", "json")
    assert code == 0
    document = json.loads(out)
    entry = document["guessable"][TASK]
    assert entry["excluded"] == {"g1": ["guessed"], "g4": ["in_statement"], "g6": ["common_answer"]}
    assert entry["problems"] == {"all": 7, "kept": 4, "removed": 3}
    assert entry["threshold"] == 0.05 and entry["answer_only"]["g3"] == [100, 50]
    assert entry["structural_flags"] == {"g4": ["in_statement"], "g5": ["in_statement"],
                                         "g6": ["common_answer"], "g7": ["common_answer"]}
    summary = document["tasks"][TASK]["org/base"]
    for k in (1, 2, 4, 8):
        assert summary["pass_at_k"][str(k)] == pytest.approx(mean_pass_at_k(BASE, list(BASE), k), abs=1e-12)
        assert summary["filtered"]["pass_at_k"][str(k)] == pytest.approx(mean_pass_at_k(BASE, KEPT, k), abs=1e-12)
    assert summary["filtered"]["problems"] == 4
    assert summary["filtered"]["solved_ids"] == ["g3", "g5", "g7"]


def test_compare_shows_the_filtered_comparison_beside_the_full_one(runs, tmp_path, capsys) -> None:
    args = [str(runs["base"]), str(runs["rl"]), "--exclude-guessable", str(runs["guess"])]
    code, out, _ = cli(capsys, "compare", *args, "--format", "json")
    assert code == 0
    comparison = json.loads(out)["tasks"][TASK]
    filtered = comparison["filtered"]
    # Kept: base solves g3, g5, g7; rl solves g3, g7.
    assert filtered["coverage"] == {"both": 2, "base_only": 1, "rl_only": 0, "neither": 1,
                                    "base_only_ids": ["g5"], "rl_only_ids": []}
    assert comparison["coverage"]["both"] == 4  # all problems: g3, g4, g6, g7
    assert comparison["rl"]["filtered"]["pass_at_k"]["1"] == pytest.approx(mean_pass_at_k(RL, KEPT, 1))
    expected = mean_pass_at_k(BASE, KEPT, 8) - mean_pass_at_k(RL, KEPT, 1)
    assert filtered["delta_se"] == {"k": 8, "value": pytest.approx(expected)}
    code, out, _ = cli(capsys, "compare", *args, "--out", str(tmp_path / "out"))
    lines = out.splitlines()
    assert f"{TASK}: guessable problems removed (answer-only run {runs['guess']}, threshold 0.05): 3 of 7, 4 kept" in lines
    assert "g1       3/100            guessed" in lines
    assert "g4       10/100           in_statement" in lines
    assert any(line.startswith("without guessable problems, org/rl: crossover_k") for line in lines)
    assert (tmp_path / "out" / f"passk_{TASK}_kept.png").stat().st_size > 1000
    rows = (tmp_path / "out" / "compare_guessable.csv").read_text().splitlines()
    assert rows[0] == "task,problem_id,answer_only_n,answer_only_c,structural_flags,removed,reasons"
    assert f"{TASK},g6,100,20,common_answer,True,common_answer" in rows
    assert f"{TASK},g7,100,0,common_answer,False," in rows


def test_a_higher_threshold_removes_more(runs, capsys) -> None:
    code, out, _ = cli(capsys, "report", str(runs["base"]), "--exclude-guessable", str(runs["guess"]),
                       "--threshold", "0.6", "--format", "json")
    assert code == 0
    # 50% and 20% are now below the threshold: g3 and g6 are guessed too.
    assert json.loads(out)["guessable"][TASK]["excluded"] == {
        "g1": ["guessed"], "g3": ["guessed"], "g4": ["guessed", "in_statement"], "g6": ["guessed", "common_answer"],
    }


def test_a_list_of_ids_in_a_file_or_on_the_command_line(runs, tmp_path, capsys) -> None:
    listed = tmp_path / "guessable.txt"
    listed.write_text("# removed by hand\ng2\ng3  # easy\n\nnot-a-problem\n")
    code, out, err = cli(capsys, "report", str(runs["base"]), "--exclude-guessable", str(listed), "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["guessable"][TASK]["excluded"] == {"g2": ["listed"], "g3": ["listed"]}
    ids = [i for i in BASE if i not in ("g2", "g3")]
    assert document["tasks"][TASK]["org/base"]["filtered"]["pass_at_k"]["2"] == pytest.approx(mean_pass_at_k(BASE, ids, 2))
    assert "1 ids are in no run: not-a-problem" in err
    code, out, _ = cli(capsys, "report", str(runs["base"]), "--exclude-guessable", "g1,g6", "--format", "json")
    assert json.loads(out)["guessable"][TASK]["excluded"] == {"g1": ["listed"], "g6": ["listed"]}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--threshold", "0.1"], "--threshold applies to --exclude-guessable GUESS_RUN"),
        (["--exclude-guessable", "g1,g2,g3,g4,g5,g6,g7"], "removes every problem; none left"),
        (["--exclude-guessable", "g1", "--threshold", "0.1"], "--threshold applies to an answer-only run directory"),
        (["--exclude-guessable", "runs/mistyped"], "--exclude-guessable runs/mistyped: not a run directory or a file"),
    ],
)
def test_bad_options_are_clear_errors(runs, extra, message, capsys) -> None:
    code, _, err = cli(capsys, "report", str(runs["base"]), *extra)
    assert code == 2 and message in err


def test_a_guess_run_of_another_task_leaves_the_task_unfiltered(runs, tmp_path, capsys) -> None:
    other = write_run(tmp_path / "other", "org/base", GUESS, task="other_passk")
    code, out, err = cli(capsys, "report", str(runs["base"]), "--exclude-guessable", str(other), "--format", "json")
    assert code == 0
    assert "guessable" not in json.loads(out)
    assert f"{TASK}: --exclude-guessable has no answer-only run of this task; all problems kept" in err


# Real lm_eval runs of the tiny model on four problems of our own (golds 3, 2, 1, 1: the
# gold 1 is the only one two problems share, so it is the common answer).
PROBLEMS = [
    {"id": 1, "problem": "How many sides has a triangle?", "answer": "3", "solution": ""},
    {"id": 2, "problem": "How many wheels has a bicycle?", "answer": "2", "solution": ""},
    {"id": 3, "problem": "How many moons has the Earth?", "answer": "1", "solution": ""},
    {"id": 4, "problem": "What is the product of the first two primes, minus five?", "answer": "1", "solution": ""},
]
COMMON = {"aime24-3", "aime24-4"}
N = 8


@pytest.fixture(scope="module")
def real_runs(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An answer-only run and a chain-of-thought run (max_gen_toks 6, so that some
    responses are cut) of aime24_passk on PROBLEMS."""
    work = tmp_path_factory.mktemp("guess-runs")
    (work / "data" / "aime24").mkdir(parents=True)
    (work / "data" / "aime24" / "test.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS))
    runs = {}
    for name, prompt, extra in (("guess", "answer-only", []), ("cot", "boxed", ["--gen_kwargs", "max_gen_toks=6"])):
        run_lm_eval(
            lm_eval_args(
                "hf", f"pretrained={tiny_model},dtype=float32", "aime24_passk",
                {"n": N, "data_dir": str(work / "data"), "prompt": prompt}, work / name,
                "--batch_size", "8", "--device", "cpu", *extra,
            ),
            env=offline_env(work / "raw"), cwd=work,
        )  # fmt: skip
        runs[name] = work / name
    return runs


def _samples(run: Path) -> list[dict]:
    (path,) = run.rglob("samples_aime24_passk_*.jsonl")
    return [json.loads(line) for line in path.open()]


def test_the_answer_only_prompt_asks_for_the_answer_at_once(real_runs) -> None:
    (results,) = real_runs["guess"].rglob("results_*.json")
    config = json.loads(results.read_text())["configs"]["aime24_passk"]
    assert config["generation_kwargs"]["max_gen_toks"] == 64
    assert "\n" in config["generation_kwargs"]["until"]
    assert config["passk"]["prompt"] == "answer-only"
    assert config["passk"]["response_prefix"] == "The final answer is \\boxed{"
    rows = _samples(real_runs["guess"])
    assert rows[0]["doc"]["passk_prompt"] == PROBLEMS[0]["problem"] + "\n"
    assert rows[0]["arguments"]["gen_args_0"]["arg_0"].endswith("The final answer is \\boxed{")


def test_compare_real_runs_without_the_guessable_problems(real_runs, tiny_model, capsys) -> None:
    threshold = 0.3
    code, out, _ = cli(capsys, "compare", str(real_runs["cot"]), str(real_runs["guess"]),
                       "--exclude-guessable", str(real_runs["guess"]), "--threshold", str(threshold),
                       "--tokenizer", str(tiny_model), "--format", "json")  # fmt: skip
    assert code == 0
    document = json.loads(out)
    # Worked out from the answer-only run's logged verdicts: hit at a rate in (0, 0.3), or
    # hit at all with the common gold 1.
    hits = {row["doc"]["problem_id"]: sum(json.loads(v)["correct"] for v in row["filtered_resps"][0])
            for row in _samples(real_runs["guess"])}
    expected = {p for p, c in hits.items() if 0 < c / N < threshold or (c and p in COMMON)}
    entry = document["guessable"]["aime24_passk"]
    assert set(entry["excluded"]) == expected
    assert entry["problems"]["removed"] == len(expected)
    comparison = document["tasks"]["aime24_passk"]
    if len(expected) < len(PROBLEMS):
        cot = {row["doc"]["problem_id"]: (N, sum(json.loads(v)["correct"] for v in row["filtered_resps"][0]))
               for row in _samples(real_runs["cot"])}
        kept = sorted(set(cot) - expected)
        assert comparison["base"]["filtered"]["pass_at_k"]["1"] == pytest.approx(mean_pass_at_k(cot, kept, 1))
        assert comparison["base"]["filtered"]["problems"] == len(kept)
    # Both runs report answer diversity and lengths; the chain-of-thought run's lengths in
    # the tiny tokenizer's tokens (a word each), cut at max_gen_toks = 6.
    for role in ("base", "rl"):
        assert comparison[role]["answer_diversity"]["problems"] == 4
        assert comparison[role]["response_length"]["all"]["responses"] == 4 * N
    words = [len(r.split()) for row in _samples(real_runs["cot"]) for r in row["resps"][0]]
    lengths = comparison["base"]["response_length"]
    assert lengths["max_gen_toks"] == [6]
    assert lengths["all"]["mean"] == pytest.approx(sum(words) / len(words))
    assert lengths["truncated"]["all"] == sum(w >= 6 for w in words)
    assert comparison["rl"]["response_length"]["max_gen_toks"] == [64]
