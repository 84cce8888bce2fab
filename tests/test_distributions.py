"""Accuracy histograms, solvable-problem tables and `--by` breakdowns, on runs whose
answers are worked out by hand, through `lm-eval-passk report` and `compare`."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from pathlib import Path

import pytest

from lm_eval_passk.analysis.distributions import BINS, accuracy_bin
from lm_eval_passk.cli import main
from lm_eval_passk.run_format import FIELDS, PROBLEM_ID, RESULTS_BLOCK, GradingSettings

DATE = "2025-03-04T05-06-07.000008"
TASK = "toy_passk"


def write_run(
    directory: Path, model: str, counts: dict[str, tuple[int, int]],
    fields: dict[str, dict[str, str]] | None = None,
) -> Path:
    """A run as our tasks write it: per problem n responses, the first c correct, and the
    problem's descriptive fields in the doc."""
    folder = directory / model.replace("/", "__")
    folder.mkdir(parents=True)
    with (folder / f"samples_{TASK}_{DATE}.jsonl").open("w") as out:
        for index, (pid, (n, c)) in enumerate(counts.items()):
            doc = {PROBLEM_ID: pid, "problem": f"Problem {pid}?", "answer": "1", "solution": "",
                   "passk_prompt": f"Problem {pid}?", "passk_record": ""}  # fmt: skip
            if fields is not None:
                doc[FIELDS] = json.dumps(fields.get(pid, {}))
            row = {
                "doc_id": index,
                "doc": doc,
                "target": "1",
                "resps": [["\\boxed{1}"] * c + ["\\boxed{0}"] * (n - c)],
                "filtered_resps": [[json.dumps({"correct": j < c}) for j in range(n)]],
            }
            out.write(json.dumps(row) + "\n")
    block = {"n": 4, **GradingSettings("math500").to_dict()}
    results = {"model_name": model, "configs": {TASK: {RESULTS_BLOCK: block}}}
    (folder / f"results_{DATE}.json").write_text(json.dumps(results))
    return directory


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def histogram(**nonzero: int) -> dict[str, int]:
    """Every bin, zero unless given; keyword names are the bins' indices, b0 .. b11."""
    return {name: nonzero.get(f"b{i}", 0) for i, name in enumerate(BINS)}


def test_the_bins_keep_both_extremes_and_are_closed_on_the_right() -> None:
    assert BINS == ["0", "(0, 0.1]", "(0.1, 0.2]", "(0.2, 0.3]", "(0.3, 0.4]", "(0.4, 0.5]",
                    "(0.5, 0.6]", "(0.6, 0.7]", "(0.7, 0.8]", "(0.8, 0.9]", "(0.9, 1)", "1"]  # fmt: skip
    cases = {
        (10, 0): "0", (10, 1): "(0, 0.1]", (1024, 1): "(0, 0.1]", (10, 2): "(0.1, 0.2]",
        (10, 3): "(0.2, 0.3]",  # 0.3 exactly: the right end of its bin (3/10 * 10 is not 3 in floats)
        (3, 1): "(0.3, 0.4]", (3, 2): "(0.6, 0.7]", (10, 9): "(0.8, 0.9]",
        (20, 19): "(0.9, 1)", (1024, 1023): "(0.9, 1)", (10, 10): "1", (1, 1): "1",
    }  # fmt: skip
    assert {case: accuracy_bin(*case) for case in cases} == cases


# Base: broad. RL: at the extremes. p3 is solved by both, p1 by base only, p5 by rl only.
BASE = {"p1": (10, 1), "p2": (10, 0), "p3": (10, 3), "p4": (10, 9), "p5": (10, 0)}
RL = {"p1": (10, 0), "p2": (10, 0), "p3": (10, 10), "p4": (10, 10), "p5": (10, 10)}
LEVELS = {"p1": {"level": "2"}, "p2": {"level": "10"}, "p3": {"level": "2"}, "p4": {"level": "10"}, "p5": {}}


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write_run(tmp_path / "base", "org/base", BASE, LEVELS),
        write_run(tmp_path / "rl", "org/rl", RL, LEVELS),
    )


def test_report_counts_each_runs_problems_per_bin(two_runs, capsys) -> None:
    code, out, _ = cli(capsys, "report", str(two_runs[0]), str(two_runs[1]), "--format", "json")
    assert code == 0
    models = json.loads(out)["tasks"][TASK]
    # base: 0 twice (p2, p5), 0.1 (p1), 0.3 (p3), 0.9 (p4); rl: 0 twice, 1 three times.
    assert models["org/base"]["accuracy_histogram"] == histogram(b0=2, b1=1, b3=1, b9=1)
    assert models["org/rl"]["accuracy_histogram"] == histogram(b0=2, b11=3)
    assert list(models["org/base"]["accuracy_histogram"]) == BINS  # stable order


def test_report_tables_show_the_histogram_and_the_problems_the_runs_split_on(two_runs, capsys) -> None:
    code, out, _ = cli(capsys, "report", str(two_runs[0]), str(two_runs[1]))
    assert code == 0
    lines = out.splitlines()
    assert "c/n         org/base  org/rl" in lines
    assert "(0.2, 0.3]  1         0" in lines
    assert "1           0         3" in lines
    # Solved at k = n: base {p1, p3, p4}, rl {p3, p4, p5}; they split on p1 and p5.
    assert f"{TASK}: solved at k = n by some runs only (2); by every run: 2" in lines
    assert "p1       x" in lines and "p5                 x" in lines
    code, markdown, _ = cli(capsys, "report", str(two_runs[0]), "--format", "markdown")
    assert "| (0, 0.1] | 1 |" in markdown


def test_compare_histograms_over_shared_problems_and_tables_from_coverage(two_runs, tmp_path, capsys) -> None:
    extra = write_run(tmp_path / "rl2", "org/rl", RL | {"p6": (10, 10)}, LEVELS)  # p6: rl only has it
    code, out, _ = cli(capsys, "compare", str(two_runs[0]), str(extra), "--format", "json")
    assert code == 0
    comparison = json.loads(out)["tasks"][TASK]
    assert comparison["base"]["accuracy_histogram"] == histogram(b0=2, b1=1, b3=1, b9=1)
    assert comparison["rl"]["accuracy_histogram"] == histogram(b0=2, b11=3)  # p6 is not shared
    assert comparison["coverage"]["base_only_ids"] == ["p1"]
    assert comparison["coverage"]["rl_only_ids"] == ["p5"]
    code, out, _ = cli(capsys, "compare", str(two_runs[0]), str(extra))
    lines = out.splitlines()
    assert f"{TASK}: solved at k = n by one model only (both: 2, neither: 1)" in lines
    assert ["p1", "x"] == lines[lines.index("problem  base  rl") + 1].split()
    assert lines[lines.index("problem  base  rl") + 2] == "p5             x"


def exact(n: int, c: int, k: int) -> Fraction:
    from math import comb

    return 1 - Fraction(comb(n - c, k), comb(n, k))


def test_report_by_level_groups_problems_with_their_own_curves(two_runs, tmp_path, capsys) -> None:
    code, out, err = cli(capsys, "report", str(two_runs[0]), "--by", "level", "--format", "json")
    assert code == 0, err
    summary = json.loads(out)["tasks"][TASK]["org/base"]
    (breakdown,) = summary["breakdowns"]
    assert breakdown["by"] == "level"
    groups = breakdown["groups"]
    # "2" before "10" (numbers in numeric order), the problem without a level last.
    assert list(groups) == ["2", "10", "(missing)"]
    assert [g["problems"] for g in groups.values()] == [2, 2, 1]
    # level 2: p1 (10, 1) and p3 (10, 3); level 10: p2 (10, 0) and p4 (10, 9).
    for k in (1, 2, 4, 8, 10):
        assert groups["2"]["pass_at_k"][str(k)] == pytest.approx(float((exact(10, 1, k) + exact(10, 3, k)) / 2), abs=1e-12)
        assert groups["10"]["pass_at_k"][str(k)] == pytest.approx(float(exact(10, 9, k) / 2), abs=1e-12)
    assert groups["2"]["pass_at_k"]["1"] == pytest.approx(0.2)
    assert groups["10"]["pass_at_k"]["10"] == 0.5
    assert groups["(missing)"]["pass_at_k"]["10"] == 0.0
    assert groups["(missing)"]["ci95"]["10"] == [0.0, 0.0]
    # A group's interval is the one `report` gives a run of just those problems.
    alone = write_run(tmp_path / "alone", "org/base", {"p1": BASE["p1"], "p3": BASE["p3"]})
    code, out, _ = cli(capsys, "report", str(alone), "--format", "json")
    assert json.loads(out)["tasks"][TASK]["org/base"]["ci95"] == groups["2"]["ci95"]


def test_compare_by_two_fields_breaks_both_runs_down(tmp_path, capsys) -> None:
    fields = {"p1": {"level": "1", "subject": "Algebra"}, "p2": {"level": "1", "subject": "Geometry"}}
    base = write_run(tmp_path / "b", "org/base", {"p1": (4, 1), "p2": (4, 0)}, fields)
    rl = write_run(tmp_path / "r", "org/rl", {"p1": (4, 4), "p2": (4, 2)}, fields)
    code, out, err = cli(capsys, "compare", str(base), str(rl), "--by", "subject,level", "--format", "json")
    assert code == 0, err
    comparison = json.loads(out)["tasks"][TASK]
    for role, expected in (("base", {"Algebra": 0.25, "Geometry": 0.0}), ("rl", {"Algebra": 1.0, "Geometry": 0.5})):
        subject, level = comparison[role]["breakdowns"]
        assert (subject["by"], level["by"]) == ("subject", "level")
        assert {g: v["pass_at_k"]["1"] for g, v in subject["groups"].items()} == expected
        assert level["groups"]["1"]["problems"] == 2
    code, out, _ = cli(capsys, "compare", str(base), str(rl), "--by", "subject")
    assert "toy_passk: rl: org/rl pass@k by subject (problems per group)" in out
    assert "k  Algebra (1)           Geometry (1)" in out


def test_an_unknown_field_is_an_error_naming_the_fields_present(two_runs, tmp_path, capsys) -> None:
    code, _, err = cli(capsys, "report", str(two_runs[0]), "--by", "levle")
    assert code == 2
    assert "--by levle: no problem has a field 'levle' (fields present: toy_passk: level)" in err
    plain = write_run(tmp_path / "plain", "org/plain", {"p1": (2, 1)})  # a run logged without fields
    code, _, err = cli(capsys, "report", str(plain), "--by", "level")
    assert code == 2 and "fields present: toy_passk: none" in err


def test_figures_and_csvs_are_written_with_the_runs_and_groups_they_show(two_runs, tmp_path, capsys) -> None:
    out_dir = tmp_path / "figures"
    code, _, err = cli(capsys, "compare", str(two_runs[0]), str(two_runs[1]), "--by", "level", "--out", str(out_dir))
    assert code == 0, err
    for stem in (f"accuracy_{TASK}", f"by_level_{TASK}"):
        png = out_dir / f"{stem}.png"
        from PIL import Image

        with Image.open(png) as image:
            image.verify()
        assert image.format == "PNG"
    # matplotlib writes each text of an SVG as a comment before its glyphs.
    accuracy_svg = (out_dir / f"accuracy_{TASK}.svg").read_text()
    for label in ("base: org/base", "rl: org/rl", "(0.9, 1)"):
        assert f"<!-- {label} -->" in accuracy_svg
    by_svg = (out_dir / f"by_level_{TASK}.svg").read_text()
    for label in ("2 (2)", "10 (2)", "(missing) (1)", "base: org/base", "rl: org/rl"):
        assert f"<!-- {label} -->" in by_svg
    rows = list(csv.DictReader(io.StringIO((out_dir / "compare_accuracy.csv").read_text())))
    assert len(rows) == 2 * len(BINS)
    assert {(r["series"], r["bin"]): r["problems"] for r in rows}[("rl", "1")] == "3"
    solved = list(csv.DictReader(io.StringIO((out_dir / "compare_solved.csv").read_text())))
    assert [(r["series"], r["problem_id"]) for r in solved] == [
        ("base", "p1"), ("base", "p3"), ("base", "p4"), ("rl", "p3"), ("rl", "p4"), ("rl", "p5")
    ]
    by = list(csv.DictReader(io.StringIO((out_dir / "compare_by.csv").read_text())))
    row = next(r for r in by if (r["series"], r["group"], r["k"]) == ("rl", "10", "10"))
    assert (row["by"], row["problems"], float(row["value"])) == ("level", "2", 0.5)
    # The pass@k CSV keeps its columns.
    assert (out_dir / "compare.csv").read_text().splitlines()[0] == "task,series,model,n,k,value,ci95_low,ci95_high"


def test_a_real_lm_eval_run_logs_the_fields_report_by_reads(math_run, capsys) -> None:
    """math500_passk with the tiny model on the fixture data (all three problems level 1;
    subjects Prealgebra twice, Algebra once)."""
    (samples,) = math_run["out"].rglob("samples_math500_passk_*.jsonl")
    docs = [json.loads(line)["doc"] for line in samples.open()]
    assert {json.loads(doc[FIELDS])["subject"] for doc in docs} == {"Prealgebra", "Algebra"}
    code, out, err = cli(capsys, "report", str(math_run["out"]), "--by", "level,subject", "--format", "json")
    assert code == 0, err
    # gsm8k and aime24 carry no level: a warning each, no breakdown.
    assert "gsm8k_passk: no problem has a field 'level'" in err
    assert "aime24_passk: no problem has a field 'level'" in err
    (summary,) = json.loads(out)["tasks"]["math500_passk"].values()
    level, subject = summary["breakdowns"]
    assert list(level["groups"]) == ["1"]
    assert level["groups"]["1"]["pass_at_k"] == summary["pass_at_k"]
    assert {value: group["problems"] for value, group in subject["groups"].items()} == {"Algebra": 1, "Prealgebra": 2}
    (minerva,) = json.loads(out)["tasks"]["minerva_math_passk"].values()
    assert "breakdowns" not in minerva  # Minerva's fixture has `type`, not `level` or `subject`
    assert sum(summary["accuracy_histogram"].values()) == 3


def test_older_runs_and_other_tools_docs_give_their_scalar_fields() -> None:
    from lm_eval_passk.run_format import problem_fields

    ours = {PROBLEM_ID: "p", "problem": "?", "answer": "1", FIELDS: json.dumps({"level": "3"})}
    assert problem_fields(ours) == {"level": "3"}
    # A LiveCodeBench run logged before passk_fields: the record's scalars, not its lists.
    record = json.dumps({"difficulty": "hard", "public_test_cases": [{"input": "1"}]})
    older = {PROBLEM_ID: "lcb-1", "problem": "?", "answer": "", "passk_prompt": "?", "passk_record": record}
    assert problem_fields(older) == {"difficulty": "hard"}
    # lm-eval's own hendrycks_math doc; and a legacy doc of ours, whose settings are not fields.
    assert problem_fields({"problem": "?", "solution": "", "level": "Level 5", "type": "Algebra"}) == {
        "level": "Level 5", "type": "Algebra",
    }
    assert problem_fields({PROBLEM_ID: "p", "answer": "1", "passk_task": "math500"}) == {}


def test_the_demo_shows_rl_moving_problems_to_the_extremes(tmp_path, capsys) -> None:
    code, out, _ = cli(capsys, "demo", "--out", str(tmp_path))
    assert code == 0
    assert "demo_math_passk: problems by accuracy c/n (n samples, c correct)" in out
    comparison = json.loads((tmp_path / "compare" / "compare.json").read_text())["tasks"]["demo_math_passk"]
    base, rl = comparison["base"]["accuracy_histogram"], comparison["rl"]["accuracy_histogram"]
    assert rl["0"] > base["0"] and rl["1"] > base["1"]
    assert sum(base.values()) == sum(rl.values()) == 200
    assert (tmp_path / "compare" / "accuracy_demo_math_passk.png").is_file()


def test_a_single_run_report_has_no_table_of_problems_runs_split_on(two_runs, capsys) -> None:
    code, out, _ = cli(capsys, "report", str(two_runs[0]))
    assert code == 0
    assert "c/n         org/base" in out.splitlines()
    assert "by some runs only" not in out
