"""Options and output helpers that several `lm-eval-passk` commands share."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

GRADER_NAMES = ["default", "strict", "paper"]


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--regrade", action="store_true",
        help="grade the logged responses again instead of using the logged verdicts",
    )
    # The names of lm_eval_passk.grading.config.CONFIGS, written out: importing the graders
    # here would cost every `lm-eval-passk` call 80 ms (tests/test_grading_rules.py checks).
    parser.add_argument("--grader", choices=GRADER_NAMES, default=None,
                        help="grader used with --regrade or for runs without verdicts "
                             "(default: the grader the run was graded with, else default; "
                             "docs/GRADING.md)")
    parser.add_argument("--judge", help="which judge's votes to use when a journal holds several")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")


def add_output_options(
    parser: argparse.ArgumentParser, formats: list[str], writes: str = "tables and plots (PNG, SVG)"
) -> None:
    parser.add_argument("--format", choices=formats, default=formats[0],
                        help=f"what to print (default {formats[0]})")
    parser.add_argument("--out", type=Path, help=f"also write {writes} to this directory")


def k_values(text: str) -> list[int]:
    """`--k`: comma-separated positive integers, each named when it is not one."""
    ks = []
    for part in text.split(","):
        try:
            k = int(part)
        except ValueError:
            k = 0
        if k < 1:
            raise argparse.ArgumentTypeError(f"{part.strip()!r} is not a positive integer (e.g. --k 1,256)")
        ks.append(k)
    return list(dict.fromkeys(ks))  # a k given twice is one column


def field_names(text: str) -> list[str]:
    """`--by level,subject`: field names, in order, each once."""
    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise argparse.ArgumentTypeError("expected a field name, e.g. --by level")
    return names


def add_by_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", type=field_names, default=[], metavar="FIELD[,FIELD]",
                        help="also pass@k per value of a problem field, e.g. level, subject, difficulty, type")


def read_runs(paths: list[Path], args: argparse.Namespace) -> list[list[Any]]:
    """Each run directory's task runs, labelled so that no two runs of a task share a name."""
    from lm_eval_passk.analysis.runs import read_run
    from lm_eval_passk.analysis.summary import label_runs

    runs = [read_run(path, regrade=args.regrade, grader=args.grader, judge=args.judge) for path in paths]
    for path in paths:
        warn(narrowed_warnings(path))
    label_runs(list(zip(paths, runs)))
    return runs


def bootstrap_settings(args: argparse.Namespace) -> Any:
    from lm_eval_passk.analysis.summary import BootstrapSettings

    if args.resamples < 1:
        raise ValueError("--resamples must be at least 1")
    return BootstrapSettings(resamples=args.resamples, seed=args.seed)


def emit(
    document: dict[str, Any],
    args: argparse.Namespace,
    writers: dict[str, Callable[[dict[str, Any]], str]],
    figures: Callable[[dict[str, Any], Path], list[Path]] | None,
    stem: str,
) -> None:
    print(writers[args.format](document), end="")
    if args.out is None:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    suffixes = {"json": "json", "markdown": "md", "csv": "csv"}
    for name, suffix in suffixes.items():
        if name in writers:
            (args.out / f"{stem}.{suffix}").write_text(writers[name](document))
    written = figures(document, args.out) if figures else []
    count = len({path.with_suffix("") for path in written})  # a figure is a PNG and an SVG
    print(f"\nwrote {stem}.* and {count} figures to {args.out}", file=sys.stderr)


def warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"lm-eval-passk: warning: {warning}", file=sys.stderr)


def json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


# An optional part of a report or compare: its text (after the main tables), its figures
# and its CSV files under --out.
Section = tuple[
    Callable[..., str], Callable[[dict[str, Any], Path], list[Path]], Callable[[dict[str, Any], Path, str], object]
]


def emit_with_sections(
    document: dict[str, Any], args: argparse.Namespace, text: Callable[..., str],
    csv: Callable[[dict[str, Any]], str], figures: Callable[[dict[str, Any], Path], list[Path]],
    stem: str, sections: list[Section],
) -> None:
    """emit for report and compare: each output followed by its sections' parts."""

    def full_text(document: dict[str, Any], markdown: bool = False) -> str:
        return text(document, markdown=markdown) + "".join(part(document, markdown=markdown) for part, _, _ in sections)

    def all_figures(document: dict[str, Any], out: Path) -> list[Path]:
        return figures(document, out) + [path for _, draw, _ in sections for path in draw(document, out)]

    writers = {"table": full_text, "json": json_text, "markdown": lambda d: full_text(d, markdown=True), "csv": csv}
    emit(document, args, writers, all_figures, stem)
    if args.out is not None:
        for _, _, write in sections:
            write(document, args.out, stem)


# Input checks that several commands make before they read runs or load a model, so that a
# typo costs one line, not a model load or a printed table.


def check_out_directory(out: Path | None) -> None:
    """`--out` must be a directory or not exist yet."""
    if out is not None and out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a directory")


def check_run_has_samples(run: Path, tasks: str | None) -> None:
    """The run directory holds samples files, and one of each task in `tasks` (comma-separated)."""
    from lm_eval_passk.run_format import RunError, samples_files

    available = samples_files(run)
    if not available:
        raise RunError(f"{run}: no samples_*.jsonl files, nothing to do (was lm_eval run with --log_samples?)")
    unknown = sorted({task for task in (tasks or "").split(",") if task} - set(available))
    if unknown:
        raise RunError(f"{run}: no samples for {', '.join(unknown)} (have: {', '.join(sorted(available))})")


def check_at_least_one(value: int | None, option: str) -> None:
    """A count option (--votes, --per-problem) is 1 or more where given."""
    if value is not None and value < 1:
        raise ValueError(f"{option} must be at least 1, got {value}")


def narrowed_warnings(run: Path) -> list[str]:
    """One line per task whose samples files lie in several folders under `run` (a folder
    of runs, a plan's shard-NNN/ and merged/): only the latest of them is read."""
    from lm_eval_passk.run_format import SAMPLES_NAME, samples_files

    folders: dict[str, set[Path]] = {}
    for path in run.rglob("samples_*.jsonl*"):
        match = SAMPLES_NAME.match(path.name)
        if match:
            folders.setdefault(match["task"], set()).add(path.parent)
    latest = samples_files(run)
    return [
        f"{run}: {len(found)} folders hold {task} samples; only the latest is read "
        f"({latest[task].path}); name each run directory to read them all"
        for task, found in sorted(folders.items()) if len(found) > 1
    ]  # fmt: skip


def dropped_task_warnings(base: Path, base_tasks: set[str], rl: Path, rl_tasks: set[str]) -> list[str]:
    """compare reads only the tasks both sides ran: name the ones left out."""
    warnings = []
    if missing := sorted(base_tasks - rl_tasks):
        warnings.append(f"{rl} has no run of {', '.join(missing)} (in {base}): not compared")
    if extra := sorted(rl_tasks - base_tasks):
        warnings.append(f"{base} has no run of {', '.join(extra)} (in {rl}): not compared")
    return warnings


class OneLineErrorParser(argparse.ArgumentParser):
    """A bad option value is one line, as the commands' own errors are, not a usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
