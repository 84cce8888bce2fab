"""`lm-eval-passk report`, `compare` and `leaderboard` on runs whose answers are known."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from fractions import Fraction
from math import comb
from pathlib import Path

import pytest
from conftest import MATH_TASKS

from lm_eval_passk.cli import main

DATE = "2025-02-03T04-05-06.000007"


def exact(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


def write_run(directory: Path, model: str, counts: dict[str, tuple[int, int]], task: str = "toy_passk") -> Path:
    """A run directory in the format our tasks write: one row per problem with its n, c."""
    folder = directory / model.replace("/", "__")
    folder.mkdir(parents=True)
    with (folder / f"samples_{task}_{DATE}.jsonl").open("w") as out:
        for index, (pid, (n, c)) in enumerate(counts.items()):
            row = {
                "doc_id": index,
                "doc": {"problem_id": pid, "answer": "1", "passk_task": "math500"},
                "target": "1",
                "resps": [["\\boxed{1}"] * c + ["\\boxed{0}"] * (n - c)],
                "filtered_resps": [[json.dumps({"correct": j < c}) for j in range(n)]],
                "n_samples": n,
                "n_correct": c,
            }
            out.write(json.dumps(row) + "\n")
    (folder / f"results_{DATE}.json").write_text(json.dumps({"model_name": model}))
    return directory


def run_cli(*args: str, capsys) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# Base: broad, rarely right. RL: sharp on two problems, blind on the others.
BASE = {"p1": (8, 2), "p2": (8, 1), "p3": (8, 1), "p4": (8, 0)}
RL = {"p1": (8, 8), "p2": (8, 0), "p3": (8, 0), "p4": (8, 3)}


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    return write_run(tmp_path / "base", "org/base", BASE), write_run(tmp_path / "rl", "org/rl", RL)


def mean_exact(counts: dict[str, tuple[int, int]], k: int) -> float:
    return float(sum(exact(n, c, k) for n, c in counts.values()) / len(counts))


def test_report_curve_interval_and_solved_set(two_runs, capsys) -> None:
    code, out, _ = run_cli("report", str(two_runs[0]), "--format", "json", capsys=capsys)
    assert code == 0
    summary = json.loads(out)["tasks"]["toy_passk"]["org/base"]
    assert summary["n"] == 8
    assert list(summary["pass_at_k"]) == ["1", "2", "4", "8"]
    for k in (1, 2, 4, 8):
        value = summary["pass_at_k"][str(k)]
        assert value == pytest.approx(mean_exact(BASE, k), abs=1e-12)
        low, high = summary["ci95"][str(k)]
        assert 0.0 <= low <= value <= high <= 1.0
    # Resampling 4 problems of which 3 are solvable at k = 8: the mean ranges over
    # multiples of 1/4, and the 95% interval is strictly inside [0, 1] but not a point.
    assert summary["ci95"]["8"][0] < 0.75 < summary["ci95"]["8"][1] + 1e-12
    assert summary["solved_ids"] == ["p1", "p2", "p3"]


def test_bootstrap_is_seeded(two_runs, capsys) -> None:
    first = run_cli("report", str(two_runs[0]), "--format", "json", "--seed", "7", capsys=capsys)[1]
    again = run_cli("report", str(two_runs[0]), "--format", "json", "--seed", "7", capsys=capsys)[1]
    other = run_cli("report", str(two_runs[0]), "--format", "json", "--seed", "8", "--resamples", "50", capsys=capsys)[1]
    assert first == again
    assert json.loads(other)["bootstrap"] == {"resamples": 50, "seed": 8, "level": 0.95}


def test_compare_crossover_delta_se_coverage(two_runs, capsys) -> None:
    code, out, _ = run_cli("compare", *map(str, two_runs), "--format", "json", capsys=capsys)
    assert code == 0
    comparison = json.loads(out)["tasks"]["toy_passk"]
    # By hand, pass@k = 1 - C(8 - c, k) / C(8, k) averaged over p1..p4:
    #   k      1      2       4      8
    #   base   1/8    27/112  25/56  3/4    (p1, p2, p3 solvable)
    #   rl     11/32  23/56   27/56  1/2    (p1 always, p4 3 times in 8)
    # RL leads up to k = 4; at k = 8 base 3/4 > rl 1/2, so the curves cross at 8.
    base_curve = {1: Fraction(1, 8), 2: Fraction(27, 112), 4: Fraction(25, 56), 8: Fraction(3, 4)}
    rl_curve = {1: Fraction(11, 32), 2: Fraction(23, 56), 4: Fraction(27, 56), 8: Fraction(1, 2)}
    for k in (1, 2, 4, 8):
        assert comparison["base"]["pass_at_k"][str(k)] == pytest.approx(float(base_curve[k]), abs=1e-12)
        assert comparison["rl"]["pass_at_k"][str(k)] == pytest.approx(float(rl_curve[k]), abs=1e-12)
    assert comparison["crossover_k"] == 8
    # n = 8 < 256: ΔSE uses the largest k there is, and says so: 3/4 - 11/32 = 13/32.
    assert comparison["delta_se"]["k"] == 8
    assert comparison["delta_se"]["value"] == pytest.approx(13 / 32, abs=1e-12)
    assert comparison["coverage"] == {
        "both": 1, "base_only": 2, "rl_only": 1, "neither": 0,
        "base_only_ids": ["p2", "p3"], "rl_only_ids": ["p4"],
    }
    for k, expected in {1: Fraction(-7, 32), 2: Fraction(-19, 112), 4: Fraction(-1, 28), 8: Fraction(1, 4)}.items():
        difference = comparison["difference"][str(k)]
        assert difference["value"] == pytest.approx(float(expected), abs=1e-12)
        assert difference["ci95"][0] <= difference["value"] <= difference["ci95"][1]
    assert comparison["base"]["model"] == "org/base" and comparison["rl"]["model"] == "org/rl"


@pytest.mark.parametrize(
    ("base", "rl", "tied_k"),
    [
        # k = 1: base 1/4 < rl 1/2. k = 2: base 1 - C(3,2)/C(4,2) = 1/2 on both problems,
        # rl (1 + 0)/2 = 1/2: tied. k = 4: base 1 > rl 1/2.
        ({"p1": (4, 1), "p2": (4, 1)}, {"p1": (4, 4), "p2": (4, 0)}, 2),
        # Tied only at the last k: base 1/2 then 1, rl 1 then 1.
        ({"p1": (2, 1)}, {"p1": (2, 2)}, 2),
    ],
)
def test_crossover_at_a_tie_is_the_tied_k(tmp_path: Path, base: dict, rl: dict, tied_k: int, capsys) -> None:
    """Equal curves count for the base model (docs/ANALYSIS.md: "at least")."""
    runs = write_run(tmp_path / "b", "b", base), write_run(tmp_path / "r", "r", rl)
    comparison = json.loads(run_cli("compare", *map(str, runs), "--format", "json", capsys=capsys)[1])["tasks"]["toy_passk"]
    assert comparison["base"]["pass_at_k"]["1"] < comparison["rl"]["pass_at_k"]["1"]
    assert comparison["base"]["pass_at_k"][str(tied_k)] == comparison["rl"]["pass_at_k"][str(tied_k)]
    assert comparison["crossover_k"] == tied_k


def test_no_crossover_is_null(tmp_path: Path, capsys) -> None:
    base = write_run(tmp_path / "b", "b", {"p1": (4, 1), "p2": (4, 0)})
    rl = write_run(tmp_path / "r", "r", {"p1": (4, 4), "p2": (4, 4)})
    out = run_cli("compare", str(base), str(rl), "--format", "json", capsys=capsys)[1]
    assert json.loads(out)["tasks"]["toy_passk"]["crossover_k"] is None


def test_tables_and_files(two_runs, tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "out"
    code, out, _ = run_cli("compare", *map(str, two_runs), "--out", str(out_dir), capsys=capsys)
    assert code == 0
    assert "crossover_k:" in out and "ΔSE = base pass@8 - rl pass@1" in out
    assert "coverage at k = n: both 1, base only 2, rl only 1, neither 0" in out
    names = {p.name for p in out_dir.iterdir()}
    assert {"compare.json", "compare.md", "compare.csv"} <= names
    assert {"passk_toy_passk.png", "passk_toy_passk.svg", "coverage_toy_passk.png", "coverage_toy_passk.svg"} <= names
    csv_lines = (out_dir / "compare.csv").read_text().splitlines()
    assert csv_lines[0] == "task,series,model,n,k,value,ci95_low,ci95_high"
    assert len(csv_lines) == 1 + 3 * 4
    assert (out_dir / "compare.md").read_text().startswith("## toy_passk")


def test_png_is_a_real_picture(two_runs, tmp_path: Path, capsys) -> None:
    from matplotlib.image import imread

    run_cli("compare", *map(str, two_runs), "--out", str(tmp_path / "o"), capsys=capsys)
    for name in ("passk_toy_passk.png", "coverage_toy_passk.png"):
        pixels = imread(tmp_path / "o" / name)
        height, width = pixels.shape[:2]
        assert width >= 400 and height >= 300
        colours = {tuple(p) for p in pixels[::7, ::7, :3].reshape(-1, 3).round(2).tolist()}
        assert len(colours) > 20  # lines, bands, text: not a blank canvas
        assert pixels[..., :3].std() > 0.05


def test_leaderboard(two_runs, capsys) -> None:
    code, out, _ = run_cli("leaderboard", *map(str, two_runs), "--k", "1,8,256", capsys=capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "| model | toy_passk pass@1 | toy_passk pass@8 | toy_passk pass@256 |"
    assert lines[2] == f"| org/base | {100 * mean_exact(BASE, 1):.1f} | {100 * mean_exact(BASE, 8):.1f} | - |"
    csv_out = run_cli("leaderboard", *map(str, two_runs), "--k", "1", "--format", "csv", capsys=capsys)[1]
    assert csv_out.splitlines()[1].startswith("org/base,")


def test_gzipped_samples_are_read(two_runs, capsys) -> None:
    (samples,) = two_runs[0].rglob("samples_*.jsonl")
    with gzip.open(samples.with_suffix(".jsonl.gz"), "wt") as out:
        out.write(samples.read_text())
    samples.unlink()
    out = run_cli("report", str(two_runs[0]), "--format", "json", capsys=capsys)[1]
    assert json.loads(out)["tasks"]["toy_passk"]["org/base"]["pass_at_k"]["1"] == pytest.approx(mean_exact(BASE, 1))


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_bad_line_names_file_and_line(two_runs, damage: str, capsys) -> None:
    (samples,) = two_runs[0].rglob("samples_*.jsonl")
    lines = samples.read_text().splitlines()
    lines[2] = lines[2][: len(lines[2]) // 2] if damage == "truncate" else "{not json"
    samples.write_text("\n".join(lines) + "\n")
    code, _, err = run_cli("report", str(two_runs[0]), capsys=capsys)
    assert code == 2
    assert f"{samples}, line 3: not valid JSON" in err


def test_run_without_verdicts_is_graded(tmp_path: Path, capsys) -> None:
    """A samples file written by another tool: lm-eval's own gsm8k-style rows, no counts."""
    folder = tmp_path / "other" / "model"
    folder.mkdir(parents=True)
    rows = [
        {"doc_id": 0, "target": "Tom has 2.\n#### 2", "resps": [["So #### 2", "I get 3", "2 apples"]]},
        {"doc_id": 1, "target": "#### 1,000", "resps": [["It is 1000.", "#### 999", "1,000"]]},
    ]
    (folder / f"samples_gsm8k_{DATE}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = run_cli("report", str(tmp_path / "other"), "--format", "json", capsys=capsys)[1]
    summary = next(iter(json.loads(out)["tasks"]["gsm8k"].values()))
    assert summary["n"] == 3
    assert summary["pass_at_k"]["1"] == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_missing_run_is_a_clear_error(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli("report", str(tmp_path / "nope"), capsys=capsys)
    assert code == 2 and "not a directory" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli("report", str(tmp_path / "empty"), capsys=capsys)
    assert code == 2 and "no samples_*.jsonl" in err


def test_report_on_a_real_lm_eval_run(math_run: dict) -> None:
    """The real CLI's output directory: the curve equals lm-eval's own aggregate, and a
    regrade of the logged responses reproduces the logged counts."""
    for extra in ([], ["--regrade"]):
        command = [sys.executable, "-m", "lm_eval_passk.cli", "report", str(math_run["out"]), "--format", "json", *extra]
        result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        assert set(document["tasks"]) == set(MATH_TASKS)
        for task in MATH_TASKS:
            (summary,) = document["tasks"][task].values()
            for k in ("1", "2", "4", "8"):
                assert summary["pass_at_k"][k] == pytest.approx(
                    math_run["results"]["results"][task][f"pass@{k},passk"], abs=1e-12
                )


def test_demo_writes_runs_and_compares_them(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "lm_eval_passk.cli", "demo", "--out", str(tmp_path / "demo")]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "crossover_k:" in result.stdout
    document = json.loads((tmp_path / "demo" / "compare" / "compare.json").read_text())
    comparison = document["tasks"]["demo_math_passk"]
    # The synthetic pair is built to cross: RL ahead at k = 1, base ahead at k = n.
    assert comparison["rl"]["pass_at_k"]["1"] > comparison["base"]["pass_at_k"]["1"]
    assert comparison["base"]["pass_at_k"]["256"] > comparison["rl"]["pass_at_k"]["256"]
    assert comparison["crossover_k"] is not None
    assert comparison["delta_se"]["k"] == 256
    assert len(list((tmp_path / "demo" / "runs").rglob("samples_*.jsonl"))) == 2


def test_lm_evals_own_humaneval_samples_are_graded_in_the_sandbox(tmp_path: Path, capsys) -> None:
    """lm-eval's `humaneval` rows log the problem record as the doc and completions as
    responses: `report` runs them against the record's tests."""
    doc = {
        "task_id": "toy/0",
        "prompt": "def add(a, b):\n    \"\"\"Sum of a and b.\"\"\"\n",
        "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
        "entry_point": "add",
    }
    folder = tmp_path / "other" / "model"
    folder.mkdir(parents=True)
    row = {"doc_id": 0, "doc": doc, "target": doc["test"],
           "resps": [["    return a + b\n", "    return a - b\n", "    return None\n", "    return b + a\n"]]}
    (folder / f"samples_humaneval_{DATE}.jsonl").write_text(json.dumps(row) + "\n")
    out = run_cli("report", str(tmp_path / "other"), "--format", "json", capsys=capsys)[1]
    summary = next(iter(json.loads(out)["tasks"]["humaneval"].values()))
    assert summary["n"] == 4
    assert summary["pass_at_k"]["1"] == pytest.approx(0.5)


@pytest.mark.parametrize(("k", "bad"), [("0", "'0'"), ("1,-2", "'-2'"), ("1.5", "'1.5'"), ("1,x", "'x'")])
def test_leaderboard_rejects_a_k_that_is_not_a_positive_integer(two_runs, k: str, bad: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:  # argparse's error: before any run is read
        main(["leaderboard", *map(str, two_runs), "--k", k])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --k: {bad} is not a positive integer" in err


def test_leaderboard_says_what_a_dash_means(tmp_path: Path, capsys) -> None:
    """n = 8 and n = 4 runs: `-` at k > n, explained under the table; any k <= n is
    computed, powers of two or not; CSV says `above n` there and leaves no-run cells empty."""
    base = write_run(tmp_path / "base", "org/base", BASE)
    small = write_run(tmp_path / "small", "org/small", {"p1": (4, 1), "p2": (4, 0)})
    other = write_run(tmp_path / "other", "org/other", {"q1": (8, 2)}, task="other_passk")
    runs = [str(base), str(small), str(other)]
    code, out, _ = run_cli("leaderboard", *runs, "--k", "3,8", capsys=capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "| model | toy_passk pass@3 | toy_passk pass@8 | other_passk pass@3 | other_passk pass@8 |"
    assert lines[2] == f"| org/base | {100 * mean_exact(BASE, 3):.1f} | {100 * mean_exact(BASE, 8):.1f} |  |  |"
    assert lines[3] == "| org/small | 37.5 | - |  |  |"  # pass@3 at n = 4, c = 1: 3/4; c = 0: 0
    assert lines[4] == "| org/other |  |  | 64.3 | 100.0 |"  # 1 - C(6,3)/C(8,3) = 1 - 20/56
    assert lines[5:] == [
        "",
        (
            "`-`: k is above the run's n (samples per problem), where pass@k is undefined; "
            "empty: no run of that model on that task"
        ),
    ]
    csv_lines = run_cli("leaderboard", *runs, "--k", "3,8", "--format", "csv", capsys=capsys)[1].splitlines()
    assert csv_lines[2] == "org/small,37.5,above n,,"
    no_dash = run_cli("leaderboard", runs[0], "--k", "1", capsys=capsys)[1]
    assert "`-`" not in no_dash and len(no_dash.splitlines()) == 3


def test_report_and_compare_tables_say_what_a_dash_means(two_runs, tmp_path: Path, capsys) -> None:
    small = write_run(tmp_path / "small", "org/small", {"p1": (4, 1), "p2": (4, 0)})
    note = "k is above the run's n (samples per problem), where pass@k is undefined"
    for command in ("report", "compare"):
        table = run_cli(command, str(two_runs[0]), str(small), capsys=capsys)[1]
        rows = table.splitlines()
        (row_8,) = [row for row in rows if row.startswith("8 ")]
        assert row_8.endswith("-")
        assert rows[rows.index(row_8) + 1 : rows.index(row_8) + 3] == ["", f"'-': {note}"]
        markdown = run_cli(command, str(two_runs[0]), str(small), "--format", "markdown", capsys=capsys)[1]
        assert f"\n\n`-`: {note}\n" in markdown
    same_n = run_cli("compare", *map(str, two_runs), capsys=capsys)[1]
    assert note not in same_n


def test_compare_warns_when_both_sides_are_one_run(two_runs, tmp_path: Path, capsys) -> None:
    base = two_runs[0]
    (tmp_path / "alias").symlink_to(base)
    copy = tmp_path / "copy"
    shutil.copytree(base, copy)
    for rl in (base, tmp_path / "alias", base / "org__base"):  # one samples file, three paths
        code, _, err = run_cli("compare", str(base), str(rl), capsys=capsys)
        assert code == 0
        assert "lm-eval-passk: warning: toy_passk: base and rl are the same run (both read " in err
    err = run_cli("compare", str(base), str(copy), capsys=capsys)[2]
    assert "lm-eval-passk: warning: toy_passk: base and rl have the same counts on every problem" in err
    err = run_cli("compare", *map(str, two_runs), capsys=capsys)[2]
    assert "warning" not in err


def test_runs_of_one_model_are_labelled_by_directory(tmp_path: Path, capsys) -> None:
    """Two runs of org/m (say before and after a fix): every output tells them apart."""
    first = write_run(tmp_path / "first", "org/m", BASE)
    second = write_run(tmp_path / "second", "org/m", RL)
    labels = ["org/m (first)", "org/m (second)"]
    compared = json.loads(run_cli("compare", str(first), str(second), "--format", "json", capsys=capsys)[1])
    comparison = compared["tasks"]["toy_passk"]
    assert [comparison["base"]["model"], comparison["rl"]["model"]] == labels
    table = run_cli("compare", str(first), str(second), capsys=capsys)[1]
    assert table.splitlines()[2].split("  ")[:3] == ["k", "base: org/m (first)", "rl: org/m (second)"]
    compare_csv = run_cli("compare", str(first), str(second), "--format", "csv", capsys=capsys)[1]
    assert {line.split(",")[2] for line in compare_csv.splitlines()[1:]} == {*labels, ""}
    reported = json.loads(run_cli("report", str(first), str(second), "--format", "json", capsys=capsys)[1])
    assert list(reported["tasks"]["toy_passk"]) == labels
    assert [s["model"] for s in reported["tasks"]["toy_passk"].values()] == labels
    board = run_cli("leaderboard", str(first), str(second), "--k", "1", capsys=capsys)[1].splitlines()
    assert [row.split(" | ")[0] for row in board[2:4]] == ["| org/m (first)", "| org/m (second)"]
    # The same directory twice: two entries, not one that hides the other.
    twice = json.loads(run_cli("report", str(first), str(first), "--format", "json", capsys=capsys)[1])
    assert list(twice["tasks"]["toy_passk"]) == ["org/m (first)", "org/m (first) #2"]


def test_one_model_split_over_directories_by_task_is_one_row(tmp_path: Path, capsys) -> None:
    """One lm_eval call per task, each into its own directory: still one model, one row."""
    toy = write_run(tmp_path / "toy", "org/m", BASE)
    other = write_run(tmp_path / "other", "org/m", RL, task="other_passk")
    board = run_cli("leaderboard", str(toy), str(other), "--k", "1", capsys=capsys)[1].splitlines()
    assert board[0] == "| model | toy_passk pass@1 | other_passk pass@1 |"
    assert board[2] == f"| org/m | {100 * mean_exact(BASE, 1):.1f} | {100 * mean_exact(RL, 1):.1f} |"
    assert len(board) == 3
