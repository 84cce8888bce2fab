"""Commands that read runs and print tables and figures: report, compare, temperature,
leaderboard, demo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lm_eval_passk.cli.common import (
    Section,
    add_by_option,
    add_output_options,
    add_reading_options,
    bootstrap_settings,
    check_out_directory,
    dropped_task_warnings,
    emit,
    emit_with_sections,
    json_text,
    k_values,
    narrowed_warnings,
    read_runs,
    warn,
)


def add_commands(commands: Any) -> None:
    """The analysis subcommands, each with its handler as `func`."""
    report = commands.add_parser("report", help="pass@k curves with 95%% CIs for one or more runs")
    report.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="an lm_eval --output_path directory")
    add_reading_options(report)
    add_output_options(report, ["table", "json", "markdown", "csv"])
    add_by_option(report)

    compare = commands.add_parser("compare", help="a base model against one or more RL-trained descendants")
    compare.add_argument("base", type=Path, metavar="BASE", help="the base model's run directory")
    compare.add_argument("rl", type=Path, nargs="+", metavar="RL", help="each RL model's run directory")
    add_reading_options(compare)
    add_output_options(compare, ["table", "json", "markdown", "csv"])
    add_by_option(compare)

    temperature = commands.add_parser(
        "temperature", help="pass@k of each model at each sampling temperature, and the best-temperature envelope"
    )
    temperature.add_argument("runs", nargs="+", type=Path, metavar="RUN",
                             help="lm_eval --output_path directories, one per model and temperature; "
                                  "the first run's model is the base of the envelope comparisons")
    add_reading_options(temperature)
    add_output_options(temperature, ["table", "json", "markdown", "csv"])

    leaderboard = commands.add_parser("leaderboard", help="models x (task, k) table for a paper or model card")
    leaderboard.add_argument("runs", nargs="+", type=Path, metavar="RUN")
    leaderboard.add_argument("--k", type=k_values, default="1,256",
                             help="comma-separated positive k values (default 1,256)")
    add_reading_options(leaderboard)
    add_output_options(leaderboard, ["markdown", "csv"], writes="leaderboard.md and leaderboard.csv")

    demo = commands.add_parser("demo", help="write two synthetic runs and compare them (no GPU needed)")
    demo.add_argument("--out", type=Path, default=Path("passk-demo"), help="directory (default ./passk-demo)")

    report.set_defaults(func=run_report)
    compare.set_defaults(func=run_compare)
    temperature.set_defaults(func=run_temperature)
    leaderboard.set_defaults(func=run_leaderboard)
    demo.set_defaults(func=run_demo)


def run_report(args: argparse.Namespace) -> None:
    from lm_eval_passk.analysis import (
        breakdown,
        distributions,
        perplexity,
        plots,
        render,
        summary,
    )
    from lm_eval_passk.analysis import figures_distribution as figures
    from lm_eval_passk.analysis import render_distribution as sections

    check_out_directory(args.out)
    runs = [run for directory in read_runs(args.runs, args) for run in directory]
    settings = bootstrap_settings(args)
    document = summary.report(runs, settings)
    distributions.add_to_report(document, runs)
    warn(breakdown.add_to_report(document, runs, args.by, settings))
    perplexity.add_to_report(document, runs)
    emit_with_sections(document, args, render.report_text, render.report_csv, plots.report_figures, "report", [
        (sections.report_sections, figures.report_figures, sections.write_csvs),
        (perplexity.perplexity_text, perplexity.perplexity_figures, perplexity.write_csv),
    ])  # fmt: skip


def run_compare(args: argparse.Namespace) -> None:
    from lm_eval_passk.analysis import (
        breakdown,
        distributions,
        perplexity,
        plots,
        render,
        summary,
    )
    from lm_eval_passk.analysis import figures_distribution as figures
    from lm_eval_passk.analysis import render_distribution as sections

    check_out_directory(args.out)
    base, *rls = read_runs([args.base, *args.rl], args)
    for path, rl in zip(args.rl, rls):
        warn(summary.same_run_warnings(base, rl))
        warn(dropped_task_warnings(args.base, {r.task for r in base}, path, {r.task for r in rl}))
    settings = bootstrap_settings(args)
    document = summary.compare(base, rls, settings)
    perplexity.add_to_compare(document, base, rls)
    perplexity_section: Section = (perplexity.perplexity_text, perplexity.perplexity_figures, perplexity.write_csv)
    if len(rls) == 1:  # the two-run tables and figures, with histograms and breakdowns
        (rl,) = rls
        distributions.add_to_compare(document, base, rl)
        warn(breakdown.add_to_compare(document, base, rl, args.by, settings))
        emit_with_sections(document, args, render.compare_text, render.compare_csv, plots.compare_figures, "compare", [
            (sections.compare_sections, figures.compare_figures, sections.write_csvs), perplexity_section,
        ])  # fmt: skip
        return
    if args.by:
        raise ValueError("compare --by takes one RL run; compare each RL run with the base for breakdowns")
    from lm_eval_passk.analysis import many

    def write_summary(document: dict[str, Any], out: Path, stem: str) -> None:
        (out / f"{stem}_summary.csv").write_text(many.summary_csv(document))

    emit_with_sections(document, args, many.compare_text, many.compare_csv, many.compare_figures, "compare", [
        perplexity_section, (lambda d, markdown=False: "", lambda d, out: [], write_summary),
    ])  # fmt: skip


def run_temperature(args: argparse.Namespace) -> None:
    from lm_eval_passk.analysis import temperature
    from lm_eval_passk.analysis.runs import read_run

    check_out_directory(args.out)
    # Not labelled by directory (read_runs): runs of one model at several temperatures
    # share its name, and the temperature tells them apart.
    runs = [
        run for path in args.runs
        for run in read_run(path, regrade=args.regrade, grader=args.grader, judge=args.judge)
    ]
    for path in args.runs:
        warn(narrowed_warnings(path))
    document = temperature.temperature_report(runs, bootstrap_settings(args))
    writers = {
        "table": temperature.temperature_text,
        "json": json_text,
        "markdown": lambda d: temperature.temperature_text(d, markdown=True),
        "csv": temperature.temperature_csv,
    }
    emit(document, args, writers, temperature.temperature_figures, "temperature")


def run_leaderboard(args: argparse.Namespace) -> None:
    from lm_eval_passk.analysis import render, summary

    check_out_directory(args.out)
    runs = [run for directory in read_runs(args.runs, args) for run in directory]
    document = summary.report(runs, bootstrap_settings(args), extra_ks=args.k, majority=False)
    writers = {
        "markdown": lambda d: render.leaderboard_markdown(d, args.k),
        "csv": lambda d: render.leaderboard_csv(d, args.k),
    }
    emit(document, args, writers, None, "leaderboard")


def run_demo(args: argparse.Namespace) -> None:
    from lm_eval_passk.analysis.demo import write_demo_runs

    check_out_directory(args.out)
    base, rl = write_demo_runs(args.out / "runs")
    print(f"wrote two synthetic lm-eval runs: {base} and {rl}\n", file=sys.stderr)
    from lm_eval_passk.cli import build_parser

    compare_args = build_parser().parse_args(
        ["compare", str(base), str(rl), "--out", str(args.out / "compare")]
    )
    run_compare(compare_args)
