"""What a new user runs into (issue 27): commands with nothing to do, inputs checked before a
model loads, the device lm_eval would pick, `--out` naming a file, inputs narrowed without a
word, and the smaller messages. Each through the real command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lm_eval_passk.analysis.demo import write_demo_runs
from lm_eval_passk.cli import main

MISSING_MODEL = "pretrained=/nonexistent/model"  # loading it would fail: checks must come first


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`lm-eval-passk ARGS` in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "lm_eval_passk.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600, check=False)  # fmt: skip


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The run's stderr, which must be one error line with exit status 2 and nothing printed."""
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stdout == ""
    return lines[0]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_demo_runs(tmp_path_factory.mktemp("demo") / "runs", problems=20, n=16)


def with_second_task(run: Path, out: Path, task: str = "other_passk") -> Path:
    """A copy of a demo run that also holds `task` (its one task's files, renamed)."""
    shutil.copytree(run, out)
    (samples,) = out.rglob("samples_demo_math_passk_*.jsonl")
    shutil.copy(samples, samples.with_name(samples.name.replace("demo_math_passk", task)))
    (results_file,) = out.rglob("results_*.json")
    results = json.loads(results_file.read_text())
    for key in ("results", "configs"):
        results[key][task] = results[key]["demo_math_passk"]
    results_file.write_text(json.dumps(results))
    return out


# 1, 2: nothing to do, and the inputs checked before the model loads


@pytest.mark.parametrize("command", ["judge", "perplexity"])
def test_scoring_a_run_without_samples_says_so_before_loading_the_model(command: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    line = one_error_line(cli(command, str(tmp_path / "empty"), "--model", "hf", "--model_args", MISSING_MODEL))
    assert f"{tmp_path / 'empty'}: no samples_*.jsonl files, nothing to do" in line


@pytest.mark.parametrize(
    ("command", "option", "expected"),
    [
        ("judge", ["--votes", "0"], "--votes must be at least 1"),
        ("judge", ["--tasks", "aime24_pask"], "no samples for aime24_pask (have: demo_math_passk)"),
        ("judge", ["--prompt", "/nonexistent/prompt.txt"], "cannot read the judge prompt"),
        ("perplexity", ["--per-problem", "0"], "--per-problem must be at least 1"),
        ("perplexity", ["--tasks", "demo_math_passk,aime24_pask"], "no samples for aime24_pask"),
    ],
)
def test_bad_scoring_options_are_refused_before_the_model_loads(
    command: str, option: list[str], expected: str, demo_runs: tuple[Path, Path]
) -> None:
    base, _ = demo_runs
    line = one_error_line(cli(command, str(base), "--model", "hf", "--model_args", MISSING_MODEL, *option))
    assert expected in line


def test_hf_without_device_runs_where_lm_eval_would(tiny_model: Path, tmp_path: Path) -> None:
    """No --device: the GPU where there is one, else the CPU, as `lm_eval --model hf` does
    (before: a CUDA error on a machine without a GPU)."""
    from test_judge import write_run as write_judge_run
    from test_perplexity import write_run

    model_args = f"pretrained={tiny_model},dtype=float32"
    run = write_run(tmp_path, "base")
    scored = cli("perplexity", str(run), "--model", "hf", "--model_args", model_args, "--batch_size", "4")
    assert scored.returncode == 0, scored.stderr[-3000:]
    assert "11 responses scored" in scored.stdout

    judged_run = write_judge_run(tmp_path / "judged")
    judged = cli("judge", str(judged_run), "--model", "hf", "--model_args", model_args, "--votes", "1",
                 "--no_chat_template", "--gen_kwargs", "max_gen_toks=4", "--batch_size", "4")  # fmt: skip
    assert judged.returncode == 0, judged.stderr[-3000:]
    assert "toy_passk: 5 votes requested" in judged.stdout


def test_judging_with_a_model_without_chat_template_names_the_option(tiny_model: Path, tmp_path: Path) -> None:
    from test_judge import write_run as write_judge_run

    run = write_judge_run(tmp_path / "run")
    result = cli("judge", str(run), "--model", "hf", "--model_args", f"pretrained={tiny_model},dtype=float32",
                 "--device", "cpu", "--votes", "1")  # fmt: skip
    assert result.returncode == 2, result.stderr[-3000:]
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("lm-eval-passk: error:")]
    assert "chat template" in line and "--no_chat_template" in line
    assert "Traceback" not in result.stderr


# 7: --out naming a file


@pytest.mark.parametrize("command", ["report", "compare", "leaderboard", "temperature", "demo", "merge"])
def test_out_naming_a_file_is_one_line(command: str, demo_runs: tuple[Path, Path], tmp_path: Path) -> None:
    base, rl = demo_runs
    taken = tmp_path / "taken.txt"
    taken.write_text("a file of the user's\n")
    runs = {"report": [base], "compare": [base, rl], "leaderboard": [base, rl], "temperature": [base],
            "demo": [], "merge": [base, rl]}[command]  # fmt: skip
    line = one_error_line(cli(command, *map(str, runs), "--out", str(taken)))
    assert str(taken) in line and "not a directory" in line
    assert taken.read_text() == "a file of the user's\n"


# 8: inputs narrowed without a word


def test_a_folder_of_runs_is_named_in_a_warning(demo_runs: tuple[Path, Path], capsys) -> None:
    base, _ = demo_runs
    folder = base.parent
    assert main(["leaderboard", str(folder)]) == 0
    err = capsys.readouterr().err
    assert f"{folder}: 2 folders hold demo_math_passk samples; only the latest is read" in err
    assert main(["leaderboard", str(base)]) == 0  # one run: nothing to say
    assert "warning" not in capsys.readouterr().err


def test_compare_names_the_tasks_it_leaves_out(demo_runs: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    base, rl = demo_runs
    wide = with_second_task(base, tmp_path / "wide")
    assert main(["compare", str(wide), str(rl), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert list(json.loads(captured.out)["tasks"]) == ["demo_math_passk"]
    assert f"{rl} has no run of other_passk (in {wide}): not compared" in captured.err
    assert main(["compare", str(rl), str(wide), "--format", "json"]) == 0
    assert f"{rl} has no run of other_passk (in {wide}): not compared" in capsys.readouterr().err


# 9: the smaller ones


def test_a_bad_k_is_one_line_without_the_usage_block(demo_runs: tuple[Path, Path]) -> None:
    base, _ = demo_runs
    line = one_error_line(cli("leaderboard", str(base), "--k", "0"))
    assert "argument --k: '0' is not a positive integer" in line


def test_leaderboard_csv_tells_k_above_n_from_no_run(demo_runs: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    base, rl = demo_runs
    wide = with_second_task(base, tmp_path / "wide")
    assert main(["leaderboard", str(wide), str(rl), "--k", "1,1024", "--format", "csv"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header == ("model,demo_math_passk pass@1,demo_math_passk pass@1024,"
                      "other_passk pass@1,other_passk pass@1024")  # fmt: skip
    cells = {row.split(",")[0]: row.split(",")[1:] for row in rows}
    assert cells["demo/base-model"][1] == "above n" and cells["demo/base-model"][3] == "above n"
    assert cells["demo/rl-model"][1] == "above n"
    assert cells["demo/rl-model"][2:] == ["", ""]  # no run of other_passk


def test_figures_are_counted_once_and_leaderboard_help_says_what_out_writes(
    demo_runs: tuple[Path, Path], tmp_path: Path, capsys
) -> None:
    import matplotlib

    base, rl = demo_runs
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # the SVG keeps its text
        assert main(["compare", str(base), str(rl), "--out", str(tmp_path / "c")]) == 0
    err = capsys.readouterr().err
    figures = sorted((tmp_path / "c").glob("*.png"))
    assert len(figures) == len(list((tmp_path / "c").glob("*.svg"))) > 1
    assert f"and {len(figures)} figures to" in err
    coverage = (tmp_path / "c" / "coverage_demo_math_passk.svg").read_text()
    assert "coverage at k = n (n = 16)" in coverage

    with pytest.raises(SystemExit):
        main(["leaderboard", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--out OUT also write leaderboard.md, leaderboard.csv and leaderboard.json" in help_text
    assert main(["leaderboard", str(base), "--out", str(tmp_path / "l")]) == 0
    assert sorted(p.name for p in (tmp_path / "l").iterdir()) == ["leaderboard.csv", "leaderboard.json", "leaderboard.md"]
