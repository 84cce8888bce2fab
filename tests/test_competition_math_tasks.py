"""AIME 2025, AMC23 and OlympiadBench (issue 16): every real gold, as the task's loader
produces it, graded correct against itself by our grader under the benchmark's own name
(single and multiple answers, with and without units), and the three tasks through the
real `lm_eval` CLI. The real-data tests skip when ../shared/data is absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SHARED_DATA, lm_eval_args, offline_env, run_lm_eval
from test_datasets import benchmark_module, load_test_split

from lm_eval_passk.grading import grade_many

TASKS = ("aime25_passk", "amc23_passk", "olympiadbench_passk")
SIZES = {"aime25": 30, "amc23": 40, "olympiadbench": 675}
needs_data = pytest.mark.skipif(
    not all((SHARED_DATA / name / "test.jsonl").is_file() for name in SIZES),
    reason=f"real benchmark files absent ({SHARED_DATA})",
)


def boxed(answer: str) -> str:
    return f"Putting it together, the final answer is $\\boxed{{{answer}}}$."


def verdicts(benchmark: str, answers: list[str], golds: list[str]) -> list[bool]:
    return [v.correct for v in grade_many(benchmark, [boxed(a) for a in answers], golds)]


def olympiad_rows() -> list[dict]:
    with (SHARED_DATA / "olympiadbench" / "test.jsonl").open() as handle:
        return [json.loads(line) for line in handle if line.strip()]


def unit_text(unit: str) -> str:
    return unit.strip().strip("$").strip()


@needs_data
@pytest.mark.parametrize("name", sorted(SIZES))
def test_every_real_gold_is_graded_correct_against_itself(name: str) -> None:
    docs = load_test_split(name, data_dir=str(SHARED_DATA))
    golds = list(docs["answer"])
    assert len(golds) == SIZES[name]
    wrong = [
        (problem_id, gold)
        for problem_id, gold, ok in zip(docs["problem_id"], golds, verdicts(name, golds, golds))
        if not ok
    ]
    assert wrong == []


@needs_data
def test_olympiadbench_golds_cover_multiple_answers_and_units() -> None:
    rows = {f"olympiadbench-{row['id']}": row for row in olympiad_rows()}
    docs = load_test_split("olympiadbench", data_dir=str(SHARED_DATA))
    multiple = [d for d in docs if rows[d["problem_id"]]["is_multiple_answer"]]
    with_unit = [d for d in docs if rows[d["problem_id"]]["unit"]]
    assert (len(multiple), len(with_unit)) == (94, 8)  # the counts of the local copy
    # The gold is the answer alone: no unit travels into it.
    for doc in with_unit:
        assert unit_text(rows[doc["problem_id"]]["unit"]) not in doc["answer"].replace("^{\\circ}", "")


@needs_data
def test_olympiadbench_answers_with_their_units_are_correct_and_wrong_values_are_not() -> None:
    rows = {f"olympiadbench-{row['id']}": row for row in olympiad_rows()}
    docs = [d for d in load_test_split("olympiadbench", data_dir=str(SHARED_DATA)) if rows[d["problem_id"]]["unit"]]
    answers, golds = [], []
    for doc in docs:
        unit = unit_text(rows[doc["problem_id"]]["unit"])
        for form in (f"{doc['answer']} \\text{{ {unit}}}", f"{doc['answer']}\\,\\mathrm{{{unit}}}", f"{doc['answer']} {unit}"):
            answers.append(form)
            golds.append(doc["answer"])
    assert len(answers) == 24
    assert all(verdicts("olympiadbench", answers, golds))
    # The same units after a wrong value: the unit is stripped, the value still decides.
    numbers = [d for d in docs if d["answer"].strip("$").isdigit()]
    misses = [f"{int(d['answer'].strip('$')) + 1} \\text{{ {unit_text(rows[d['problem_id']]['unit'])}}}" for d in numbers]
    assert len(misses) >= 4
    assert not any(verdicts("olympiadbench", misses, [d["answer"] for d in numbers]))


@needs_data
def test_olympiadbench_multiple_answers_compare_as_unordered_lists() -> None:
    rows = {f"olympiadbench-{row['id']}": row for row in olympiad_rows()}
    docs = load_test_split("olympiadbench", data_dir=str(SHARED_DATA))
    # Multiple plain-integer answers ("1,3,5"): reversed is still right, one dropped is not.
    lists = [
        d["answer"] for d in docs
        if rows[d["problem_id"]]["is_multiple_answer"]
        and all(item.strip().lstrip("-").isdigit() for item in d["answer"].split(","))
        and len({item.strip() for item in d["answer"].split(",")}) > 1
    ]  # fmt: skip
    assert len(lists) > 20
    reversed_lists = [", ".join(reversed(gold.split(","))) for gold in lists]
    assert all(verdicts("olympiadbench", reversed_lists, lists))
    dropped = [", ".join(gold.split(",")[:-1]) for gold in lists]
    assert not any(verdicts("olympiadbench", dropped, lists))
    # Lists of tuples: the tuples in another order are right, a tuple's items swapped are not.
    golds = {"$(1,1), (3,2)$": ("(3,2), (1,1)", "(1,1), (2,3)")}
    for gold, (reordered, swapped) in golds.items():
        assert verdicts("olympiadbench", [reordered, swapped], [gold, gold]) == [True, False]


def test_amc23_float_answers_become_integer_golds() -> None:
    utils = benchmark_module("amc23")
    assert utils.answer_text(27.0) == "27"
    assert utils.answer_text(-1.0) == "-1"
    assert utils.answer_text(2.5) == "2.5"
    assert utils.answer_text("27") == "27"


def test_olympiadbench_gold_joins_a_list_of_answers() -> None:
    utils = benchmark_module("olympiadbench")
    assert utils.gold_text(["$5$", "$-2$"]) == "$5$, $-2$"
    assert utils.gold_text(["1,3,5"]) == "1,3,5"
    assert verdicts("olympiadbench", ["-2, 5", "5"], [utils.gold_text(["$5$", "$-2$"])] * 2) == [True, False]


@needs_data
def test_the_three_tasks_run_through_the_lm_eval_cli(tiny_model: Path, tmp_path: Path) -> None:
    n = 2
    run_lm_eval(
        lm_eval_args(
            "hf", f"pretrained={tiny_model},dtype=float32", ",".join(TASKS),
            {"n": n, "data_dir": str(SHARED_DATA)}, tmp_path / "out",
            "--limit", "2", "--batch_size", "4", "--device", "cpu",
        ),
        env=offline_env(tmp_path / "raw"),
        cwd=tmp_path,
    )  # fmt: skip
    (results_file,) = (tmp_path / "out").rglob("results_*.json")
    results = json.loads(results_file.read_text())
    golds = {"aime25_passk": "70", "amc23_passk": "27"}  # the first problem of each file
    for task in TASKS:
        (samples_file,) = (tmp_path / "out").rglob(f"samples_{task}_*.jsonl")
        rows = [json.loads(line) for line in samples_file.open()]
        assert len(rows) == 2
        for row in rows:
            (responses,) = row["resps"]
            (graded,) = row["filtered_resps"]
            assert len(responses) == len(graded) == n
            assert row["n_correct"] == sum(json.loads(v)["correct"] for v in graded)
        if task in golds:
            assert rows[0]["doc"]["answer"] == golds[task]
        config = results["configs"][task]
        assert config["repeats"] == n
        assert config["passk"]["benchmark"] == task.removesuffix("_passk")
        assert sum(config["passk"]["reasons"].values()) == 2 * n
        assert "pass@2,passk" in results["results"][task]


def test_hub_shaped_rows_become_problems() -> None:
    # Schemas from the dataset cards (the hub is not reachable from the tests): math-ai/aime25
    # (problem, answer, id as text), math-ai/amc23 (question, no problem; float answer),
    # Hothan/OlympiadBench OE_TO_maths_en_COMP (solution a list, context None).
    aime = benchmark_module("aime25").to_problem({"id": "7", "problem": "P", "answer": "70"}, 7)
    assert (aime.problem_id, aime.answer) == ("aime25-7", "70")
    amc = benchmark_module("amc23").to_problem({"id": 3, "question": "Q", "answer": 3159.0, "url": ""}, 3)
    assert (amc.problem_id, amc.problem, amc.answer) == ("amc23-3", "Q", "3159")
    row = {
        "id": 1606, "question": "Q", "context": None, "solution": ["s1", "s2"], "final_answer": ["$(2,4)$"],
        "is_multiple_answer": False, "unit": None, "answer_type": "Tuple", "subfield": "Algebra",
    }  # fmt: skip
    olympiad = benchmark_module("olympiadbench").to_problem(row, 0)
    assert (olympiad.problem_id, olympiad.problem, olympiad.answer) == ("olympiadbench-1606", "Q", "$(2,4)$")
    assert olympiad.solution == "s1\n\ns2"
    assert olympiad.fields == {"subfield": "Algebra", "answer_type": "Tuple", "is_multiple_answer": "False"}
    assert benchmark_module("olympiadbench").SOURCE.hub_config == "OE_TO_maths_en_COMP"
