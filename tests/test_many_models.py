"""Several RL runs against one base (`compare BASE RL RL`) and runs of one model at several
temperatures (`temperature`), on runs whose answers are worked out by hand."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from test_analysis import BASE, RL, exact, run_cli, write_run

from lm_eval_passk.run_format import recorded_temperature

TASK = "toy_passk"
# A second RL run of the base: p1 half the time, p2 a quarter, p3 and p4 never.
RL2 = {"p1": (8, 4), "p2": (8, 2), "p3": (8, 0), "p4": (8, 0)}


def mean_exact(counts: dict[str, tuple[int, int]], k: int) -> Fraction:
    return sum((exact(n, c, k) for n, c in counts.values()), Fraction(0)) / len(counts)


def write_sampled_run(
    directory: Path, model: str, counts: dict[str, tuple[int, int]],
    gen_kwargs: dict[str, Any] | str | None = None, task_kwargs: dict[str, Any] | None = None,
) -> Path:
    """write_run, with the generation settings lm-eval logs in the results file: the command
    line's `config.gen_kwargs` and the task's `configs.<task>.generation_kwargs`."""
    write_run(directory, model, counts)
    (results,) = directory.rglob("results_*.json")
    document = json.loads(results.read_text())
    document["config"] = {"gen_kwargs": gen_kwargs}
    if task_kwargs is not None:
        document["configs"] = {TASK: {"generation_kwargs": task_kwargs}}
    results.write_text(json.dumps(document))
    return directory


# Multi-run compare

@pytest.fixture
def three_runs(tmp_path: Path) -> list[str]:
    return [
        str(write_run(tmp_path / "base", "org/base", BASE)),
        str(write_run(tmp_path / "rl", "org/rl", RL)),
        str(write_run(tmp_path / "rl2", "org/rl2", RL2)),
    ]


def test_two_rl_runs_against_one_base(three_runs, capsys) -> None:
    code, out, _ = run_cli("compare", *three_runs, "--format", "json", capsys=capsys)
    assert code == 0
    task = json.loads(out)["tasks"][TASK]
    assert "rl" not in task  # the two-run keys only with one RL run
    assert task["base"]["model"] == "org/base"
    assert list(task["comparisons"]) == ["org/rl", "org/rl2"]
    rl, rl2 = task["comparisons"]["org/rl"], task["comparisons"]["org/rl2"]
    # org/rl: as in test_analysis.test_compare_crossover_delta_se_coverage.
    assert rl["crossover_k"] == 8
    assert rl["delta_se"] == {"k": 8, "value": pytest.approx(13 / 32, abs=1e-12)}
    assert rl["coverage"] == {
        "both": 1, "base_only": 2, "rl_only": 1, "neither": 0, "base_only_ids": ["p2", "p3"], "rl_only_ids": ["p4"],
    }
    # org/rl2 by hand, pass@k = 1 - C(8 - c, k) / C(8, k) averaged over p1..p4:
    #   k      1      2       4       8
    #   base   1/8    27/112  25/56   3/4
    #   rl2    3/16   5/16    31/70   1/2     (p1: 4 of 8, p2: 2 of 8)
    # At k = 4 base 25/56 = 0.4464 >= 31/70 = 0.4429: the curves cross at 4.
    rl2_curve = {1: Fraction(3, 16), 2: Fraction(5, 16), 4: Fraction(31, 70), 8: Fraction(1, 2)}
    for k, value in rl2_curve.items():
        assert value == mean_exact(RL2, k)
        assert rl2["rl"]["pass_at_k"][str(k)] == pytest.approx(float(value), abs=1e-12)
        assert rl2["difference"][str(k)]["value"] == pytest.approx(float(mean_exact(BASE, k) - value), abs=1e-12)
    assert rl2["crossover_k"] == 4
    assert rl2["delta_se"] == {"k": 8, "value": pytest.approx(3 / 4 - 3 / 16, abs=1e-12)}  # 9/16
    assert rl2["coverage"] == {
        "both": 2, "base_only": 1, "rl_only": 0, "neither": 1, "base_only_ids": ["p3"], "rl_only_ids": [],
    }


def test_one_rl_run_keeps_the_two_run_shape(three_runs, capsys) -> None:
    task = json.loads(run_cli("compare", *three_runs[:2], "--format", "json", capsys=capsys)[1])["tasks"][TASK]
    assert {"base", "rl", "crossover_k", "delta_se", "coverage", "difference", "comparisons"} == set(task)
    (only,) = task["comparisons"].values()
    assert only == {key: task[key] for key in ("rl", "crossover_k", "delta_se", "coverage", "difference")}


def test_many_rl_tables_csv_and_figures(three_runs, tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "out"
    code, out, _ = run_cli("compare", *three_runs, "--out", str(out_dir), capsys=capsys)
    assert code == 0
    lines = out.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("rl ")))
    assert lines[header].split() == [
        "rl", "n", "pass@1", "pass@k_max", "ΔSE", "crossover", "k", "base", "only", "rl", "only", "both", "neither",
    ]
    assert lines[header + 1].split() == ["org/rl", "8", "34.4", "50.0", "(k=8)", "40.6", "(k=8)", "8", "2", "1", "1", "0"]
    assert lines[header + 2].split() == ["org/rl2", "8", "18.8", "50.0", "(k=8)", "56.2", "(k=8)", "4", "1", "0", "2", "1"]
    markdown = (out_dir / "compare.md").read_text()
    assert "| org/rl2 | 8 | 18.8 | 50.0 (k=8) | 56.2 (k=8) | 4 | 1 | 0 | 2 | 1 |" in markdown
    assert (out_dir / "compare_summary.csv").read_text().splitlines() == [
        (
            "task,base,rl,n,base_pass@1,base_pass@k_max,base_k_max,pass@1,pass@k_max,k_max,delta_se_k,delta_se,"
            "crossover_k,base_only,rl_only,both,neither"
        ),
        "toy_passk,org/base,org/rl,8,0.125,0.75,8,0.34375,0.5,8,8,0.40625,8,2,1,1,0",
        "toy_passk,org/base,org/rl2,8,0.125,0.75,8,0.1875,0.5,8,8,0.5625,4,1,0,2,1",
    ]
    curves = (out_dir / "compare.csv").read_text().splitlines()
    assert curves[0] == "task,series,model,n,k,value,ci95_low,ci95_high"
    assert len(curves) == 1 + 4 + 2 * (4 + 4)  # base once; each RL curve and its differences
    assert sum(line.startswith("toy_passk,base - rl pass@k,org/rl2,") for line in curves) == 4
    assert_picture(out_dir / "passk_toy_passk.png")
    assert_picture(out_dir / "coverage_toy_passk.png")
    assert legend(out_dir / "passk_toy_passk.svg") >= {"base: org/base", "rl: org/rl", "rl: org/rl2"}
    assert legend(out_dir / "coverage_toy_passk.svg") >= {"org/rl", "org/rl2", "base only", "rl only", "both", "neither"}


def assert_picture(path: Path) -> None:
    """A valid PNG: Pillow's verify where Pillow is installed, else the signature."""
    try:
        from PIL import Image
    except ImportError:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return
    with Image.open(path) as image:
        image.verify()
        assert image.format == "PNG"


def legend(svg: Path) -> set[str]:
    """The texts of an SVG figure: matplotlib draws text as paths, each after a comment
    holding the text."""
    import re

    return set(re.findall(r"<!-- (.*?) -->", svg.read_text()))


def test_many_styles_differ() -> None:
    from lm_eval_passk.analysis.styles import style

    styles = [style(i) for i in range(28)]
    assert len({(s.colour, s.dash, s.marker) for s in styles}) == 28
    assert len({(s.dash, s.marker) for s in styles}) == 28  # apart in greyscale too


# Temperature


def test_temperature_rule() -> None:
    """The command line's gen_kwargs (a dict, or lm-eval's "k=v,k=v" string) wins over the
    task's generation_kwargs; either alone is used; neither is None."""
    def results(gen_kwargs: Any, task_kwargs: Any) -> dict[str, Any]:
        return {"config": {"gen_kwargs": gen_kwargs}, "configs": {TASK: {"generation_kwargs": task_kwargs}}}

    assert recorded_temperature(results({"temperature": 0.8}, {"temperature": 0.6}), TASK) == 0.8
    assert recorded_temperature(results("temperature=0.8,top_p=0.95", {"temperature": 0.6}), TASK) == 0.8
    assert recorded_temperature(results("top_p=0.95", {"temperature": 0.6, "do_sample": True}), TASK) == 0.6
    assert recorded_temperature(results(None, {"temperature": 1}), TASK) == 1.0
    assert recorded_temperature(results(None, {"do_sample": False}), TASK) is None
    assert recorded_temperature({"model_name": "m"}, TASK) is None


# One model at three temperatures, n = 4, two problems; pass@k = 1 - C(4 - c, k) / C(4, k):
#   T     p1  p2   pass@1  pass@2                  pass@4
#   0.2   4   0    1/2     1/2                     1/2
#   0.6   3   1    1/2     (1 + 1/2) / 2 = 3/4     1
#   1.0   2   1    3/8     (5/6 + 1/2) / 2 = 2/3   1
# Envelope: k = 1 ties 0.2 and 0.6 at 1/2 (the lowest temperature is named), k = 2 is 3/4
# at 0.6, k = 4 ties 0.6 and 1.0 at 1 (0.6).
SWEEP = {0.2: {"p1": (4, 4), "p2": (4, 0)}, 0.6: {"p1": (4, 3), "p2": (4, 1)}, 1.0: {"p1": (4, 2), "p2": (4, 1)}}
# A second model at two temperatures:
#   0.2   4   2    3/4     (1 + 5/6) / 2 = 11/12   1
#   1.0   4   3    7/8     1                       1
# Envelope: 7/8 (1.0), 1 (1.0), 1 (0.2). Against the first model's envelope (1/2, 3/4, 1):
# behind at k = 1 and 2, level at k = 4: crossover 4; ΔSE = 1 - 7/8 = 1/8.
OTHER = {0.2: {"p1": (4, 4), "p2": (4, 2)}, 1.0: {"p1": (4, 4), "p2": (4, 3)}}


@pytest.fixture
def sweep(tmp_path: Path) -> list[str]:
    """The first model's temperatures logged three ways, the second's two more."""
    return [
        str(write_sampled_run(tmp_path / "a02", "org/a", SWEEP[0.2], gen_kwargs={"temperature": 0.2})),
        str(write_sampled_run(tmp_path / "a06", "org/a", SWEEP[0.6], gen_kwargs="temperature=0.6,top_p=0.95",
                              task_kwargs={"temperature": 0.9})),
        str(write_sampled_run(tmp_path / "a10", "org/a", SWEEP[1.0], task_kwargs={"temperature": 1.0, "top_p": 1})),
        str(write_sampled_run(tmp_path / "b02", "org/b", OTHER[0.2], gen_kwargs="temperature=0.2")),
        str(write_sampled_run(tmp_path / "b10", "org/b", OTHER[1.0], gen_kwargs={"temperature": 1.0})),
    ]


def test_temperature_envelope_known_answer(sweep, capsys) -> None:
    code, out, _ = run_cli("temperature", *sweep, "--format", "json", capsys=capsys)
    assert code == 0
    task = json.loads(out)["tasks"][TASK]
    assert task["problems"] == 2 and list(task["models"]) == ["org/a", "org/b"]
    a, b = task["models"]["org/a"], task["models"]["org/b"]
    assert list(a["temperatures"]) == ["0.2", "0.6", "1.0"] and list(b["temperatures"]) == ["0.2", "1.0"]
    expected_a = {"0.2": [1 / 2, 1 / 2, 1 / 2], "0.6": [1 / 2, 3 / 4, 1.0], "1.0": [3 / 8, 2 / 3, 1.0]}
    for t, values in expected_a.items():
        assert [a["temperatures"][t]["pass_at_k"][k] for k in ("1", "2", "4")] == pytest.approx(values, abs=1e-12)
    assert a["envelope"]["pass_at_k"] == pytest.approx({"1": 1 / 2, "2": 3 / 4, "4": 1.0}, abs=1e-12)
    assert a["envelope"]["temperature"] == {"1": 0.2, "2": 0.6, "4": 0.6}
    assert b["envelope"]["pass_at_k"] == pytest.approx({"1": 7 / 8, "2": 1.0, "4": 1.0}, abs=1e-12)
    assert b["envelope"]["temperature"] == {"1": 1.0, "2": 1.0, "4": 0.2}
    for env in (a["envelope"], b["envelope"]):
        for low, high in env["ci95"].values():
            assert 0.0 <= low <= high <= 1.0
    assert task["comparisons"] == {
        "org/b": {"base": "org/a", "rl": "org/b", "crossover_k": 4, "delta_se": {"k": 4, "value": pytest.approx(1 / 8)}},
    }


def test_temperature_outputs(sweep, tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "out"
    code, out, _ = run_cli("temperature", *sweep, "--out", str(out_dir), capsys=capsys)
    assert code == 0
    assert "org/b against org/a: crossover_k 4, ΔSE = org/a best pass@4 - org/b best pass@1 = 12.5 points" in out
    assert "biased upward" in out
    rows = out.splitlines()
    (row_2,) = [row for row in rows[: rows.index("org/b")] if row.startswith("2  ")]
    assert row_2.split()[-1] == "0.6"  # the best temperature at k = 2 for org/a
    assert (out_dir / "temperature.md").read_text().startswith("## toy_passk")
    csv_lines = (out_dir / "temperature.csv").read_text().splitlines()
    assert csv_lines[0] == "task,model,temperature,series,n,k,value,ci95_low,ci95_high"
    assert any(line.startswith("toy_passk,org/a,0.6,envelope,,2,0.75,") for line in csv_lines)
    assert len(csv_lines) == 1 + 5 * 3 + 2 * 3  # five runs and two envelopes, k = 1, 2, 4
    names = {p.name for p in out_dir.iterdir()}
    figures = {f"{stem}.{suffix}" for stem in ("temperature_toy_passk_org_a", "temperature_toy_passk_org_b",
                                               "envelope_toy_passk") for suffix in ("png", "svg")}
    assert figures <= names
    for name in figures:
        if name.endswith(".png"):
            assert_picture(out_dir / name)
    assert legend(out_dir / "temperature_toy_passk_org_a.svg") >= {"T=0.2", "T=0.6", "T=1.0", "best T (envelope)"}
    assert legend(out_dir / "envelope_toy_passk.svg") >= {"org/a (best T)", "org/b (best T)"}


def test_temperature_figure_returns_its_series(sweep, tmp_path: Path, capsys) -> None:
    from lm_eval_passk.analysis.temperature import envelope_figure, model_figure

    document = json.loads(run_cli("temperature", *sweep, "--format", "json", capsys=capsys)[1])
    entry = document["tasks"][TASK]
    paths, labels = model_figure(TASK, "org/a", entry["models"]["org/a"], tmp_path)
    assert labels == ["T=0.2", "T=0.6", "T=1.0", "best T (envelope)"]
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert envelope_figure(TASK, entry, tmp_path)[1] == ["org/a (best T)", "org/b (best T)"]


def test_temperature_errors_name_the_runs(tmp_path: Path, capsys) -> None:
    unknown = write_run(tmp_path / "plain", "org/a", SWEEP[0.2])  # no generation settings logged
    code, _, err = run_cli("temperature", str(unknown), capsys=capsys)
    assert code == 2 and "no temperature logged" in err and "samples_toy_passk_" in err
    first = write_sampled_run(tmp_path / "x", "org/a", SWEEP[0.2], gen_kwargs={"temperature": 0.6})
    second = write_sampled_run(tmp_path / "y", "org/a", SWEEP[0.6], gen_kwargs="temperature=0.6")
    code, _, err = run_cli("temperature", str(first), str(second), capsys=capsys)
    assert code == 2 and "two runs of org/a at temperature 0.6" in err


def test_real_lm_eval_run_logs_the_temperature_we_read(tiny_model: Path, tmp_path: Path) -> None:
    """lm_eval's own results file: `--gen_kwargs temperature=0.9` is read as 0.9 (it wins
    over the task's 0.6); without it, the task's 0.6."""
    from conftest import FIXTURE_DATA, lm_eval_args, offline_env, run_lm_eval

    from lm_eval_passk.analysis.runs import read_run

    for extra, expected in ((["--gen_kwargs", "temperature=0.9"], 0.9), ([], 0.6)):
        out = tmp_path / f"out-{expected}"
        run_lm_eval(
            lm_eval_args(
                "hf", f"pretrained={tiny_model},dtype=float32", "gsm8k_passk",
                {"n": 2, "data_dir": str(FIXTURE_DATA)}, out,
                "--batch_size", "8", "--device", "cpu", "--limit", "2", *extra,
            ),
            env=offline_env(tmp_path / f"raw-{expected}"),
            cwd=tmp_path,
        )  # fmt: skip
        (run,) = read_run(out)
        assert run.temperature == expected


def test_report_draws_a_dozen_runs_apart(tmp_path: Path, capsys) -> None:
    """12 runs on one figure: every run in the legend (that their styles differ is
    test_many_styles_differ's)."""
    runs = [str(write_run(tmp_path / f"r{i}", f"org/m{i}", {"p1": (4, i % 5), "p2": (4, 1)})) for i in range(12)]
    code, _, _ = run_cli("report", *runs, "--format", "json", "--out", str(tmp_path / "out"), capsys=capsys)
    assert code == 0
    assert_picture(tmp_path / "out" / "passk_toy_passk.png")
    assert legend(tmp_path / "out" / "passk_toy_passk.svg") >= {f"org/m{i}" for i in range(12)}
