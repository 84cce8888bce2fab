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
    add_measurement_options(report)

    compare = commands.add_parser("compare", help="a base model against one or more RL-trained descendants")
    compare.add_argument("base", type=Path, metavar="BASE", help="the base model's run directory")
    compare.add_argument("rl", type=Path, nargs="+", metavar="RL", help="each RL model's run directory")
    add_reading_options(compare)
    add_output_options(compare, ["table", "json", "markdown", "csv"])
    add_by_option(compare)
    add_measurement_options(compare)

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
    add_output_options(leaderboard, ["markdown", "csv", "json", "html", "model-index"],
                       writes="leaderboard.md, leaderboard.csv and leaderboard.json (with --format html also "
                            "the page: index.html, figures/, problems/)")
    leaderboard.add_argument("--base", action="append", default=[], metavar="BASE=RL",
                             help="declare a base/RL pair of models (repeatable): the JSON and HTML "
                                  "outputs add their crossover k, ΔSE and coverage")

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
    warn(add_measurements_to_report(document, runs, args, settings))
    emit_with_sections(document, args, render.report_text, render.report_csv, plots.report_figures, "report", [
        (sections.report_sections, figures.report_figures, sections.write_csvs),
        (perplexity.perplexity_text, perplexity.perplexity_figures, perplexity.write_csv),
        *measurement_sections(),
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
    warn(add_measurements_to_compare(document, base, rls, args, settings))
    perplexity_section: Section = (perplexity.perplexity_text, perplexity.perplexity_figures, perplexity.write_csv)
    if len(rls) == 1:  # the two-run tables and figures, with histograms and breakdowns
        (rl,) = rls
        distributions.add_to_compare(document, base, rl)
        warn(breakdown.add_to_compare(document, base, rl, args.by, settings))
        emit_with_sections(document, args, render.compare_text, render.compare_csv, plots.compare_figures, "compare", [
            (sections.compare_sections, figures.compare_figures, sections.write_csvs), perplexity_section,
            *measurement_sections(),
        ])  # fmt: skip
        return
    if args.by:
        raise ValueError("compare --by takes one RL run; compare each RL run with the base for breakdowns")
    from lm_eval_passk.analysis import many

    def write_summary(document: dict[str, Any], out: Path, stem: str) -> None:
        (out / f"{stem}_summary.csv").write_text(many.summary_csv(document))

    emit_with_sections(document, args, many.compare_text, many.compare_csv, many.compare_figures, "compare", [
        perplexity_section, (lambda d, markdown=False: "", lambda d, out: [], write_summary),
        *measurement_sections(),
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
    from lm_eval_passk.analysis import leaderboard, model_card, render

    if args.format == "html" and args.out is None:
        raise ValueError("--format html writes a folder (index.html, figures/, problems/): give --out DIR")
    check_out_directory(args.out)
    runs = [run for directory in read_runs(args.runs, args) for run in directory]
    models = list(dict.fromkeys(run.model for run in runs))
    pairs = [leaderboard.parse_pair(text, models) for text in args.base]
    # maj@k (answer grouping, the slow part) only for the page, which draws it.
    document = leaderboard.leaderboard_document(
        runs, bootstrap_settings(args), args.k, pairs, majority=args.format == "html"
    )

    def page(document: dict[str, Any]) -> str:
        from lm_eval_passk.analysis.page import write_page

        return f"{write_page(document, leaderboard.problem_tables(runs), args.out)}\n"

    writers = {
        "markdown": lambda d: render.leaderboard_markdown(d, args.k),
        "csv": lambda d: render.leaderboard_csv(d, args.k),
        "json": json_text,
        "model-index": model_card.model_index_yaml,
        "html": page,
    }
    # With the page, the figures it drew (count them for the closing line).
    figures = (lambda d, out: [p for p in (out / "figures").rglob("*") if p.is_file()]) if args.format == "html" else None
    emit(document, args, writers, figures, "leaderboard")


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


# Answer diversity, response length and guessable problems (issue 26; docs/ANALYSIS.md).


def add_measurement_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--exclude-guessable", metavar="GUESS_RUN|IDS",
        help="also show pass@k without the guessable problems: those an answer-only run (lm_eval with "
             "--metadata prompt answer-only) hits at a rate in (0, --threshold), or hits at all when the gold "
             "is in the statement or a common answer; or a file of problem ids, or comma-separated ids",
    )
    parser.add_argument("--threshold", type=float, default=None,
                        help="--exclude-guessable GUESS_RUN: answer-only hit rates below this are guesses "
                             "(default 0.05, Yue et al. 2025 Appendix D.2)")
    parser.add_argument("--tokenizer", metavar="NAME_OR_PATH",
                        help="count response lengths in this Hugging Face tokenizer's tokens (a hub name or a "
                             "local directory), and count responses that hit max_gen_toks; default: characters")


def _length_unit(args: argparse.Namespace) -> Any:
    from lm_eval_passk.analysis import lengths

    return lengths.tokens(args.tokenizer) if args.tokenizer else lengths.characters()


def _exclusions(args: argparse.Namespace, problems: dict[str, set[str]]) -> tuple[dict[str, Any], list[str]]:
    """The problems --exclude-guessable removes, per task, and warnings."""
    from lm_eval_passk.analysis import guessable

    source = args.exclude_guessable
    if source is None:
        if args.threshold is not None:
            raise ValueError("--threshold applies to --exclude-guessable GUESS_RUN; give the answer-only run too")
        return {}, []
    if Path(source).is_dir():
        threshold = guessable.GUESS_THRESHOLD if args.threshold is None else args.threshold
        if not 0 < threshold <= 1:
            raise ValueError(f"--threshold must lie in (0, 1], got {threshold}")
        return guessable.from_answer_only_run(Path(source), threshold, args.regrade, args.grader), []
    if args.threshold is not None:
        raise ValueError(f"--threshold applies to an answer-only run directory; {source} is not a directory")
    where, ids = guessable.read_listed_ids(source)
    exclusions, unknown = guessable.from_listed_ids(where, ids, problems)
    if len(unknown) == len(set(ids)):  # a mistyped run directory reads as one unknown id
        raise ValueError(
            f"--exclude-guessable {source}: not a run directory or a file, and no run has a problem with "
            f"{'that id' if len(unknown) == 1 else 'any of those ids'}"
        )
    warnings = [f"--exclude-guessable: {len(unknown)} ids are in no run: {', '.join(unknown[:10])}"] if unknown else []
    return exclusions, warnings


def add_measurements_to_report(
    document: dict[str, Any], runs: list[Any], args: argparse.Namespace, settings: Any
) -> list[str]:
    """Add answer diversity, response lengths and (with --exclude-guessable) the curves
    without the guessable problems; return warnings."""
    from lm_eval_passk.analysis import diversity, filtered, lengths

    problems: dict[str, set[str]] = {}
    for run in runs:
        problems.setdefault(run.task, set()).update(run.problems)
    exclusions, warnings = _exclusions(args, problems)
    diversity.add_to_report(document, runs)
    lengths.add_to_report(document, runs, _length_unit(args))
    if exclusions:
        warnings += filtered.add_to_report(document, runs, exclusions, settings)
    return warnings


def add_measurements_to_compare(
    document: dict[str, Any], base: list[Any], rls: list[list[Any]], args: argparse.Namespace, settings: Any
) -> list[str]:
    """As add_measurements_to_report, for compare's base and RL runs."""
    from lm_eval_passk.analysis import diversity, filtered, lengths

    problems: dict[str, set[str]] = {}
    for run in [*base, *(run for runs in rls for run in runs)]:
        problems.setdefault(run.task, set()).update(run.problems)
    exclusions, warnings = _exclusions(args, problems)
    diversity.add_to_compare(document, base, rls)
    lengths.add_to_compare(document, base, rls, _length_unit(args))
    if exclusions:
        warnings += filtered.add_to_compare(document, base, rls, exclusions, settings)
    return warnings


def measurement_sections() -> list[Section]:
    """The text, figures and CSV files of answer diversity, response length and the
    guessable problems, after report's and compare's other sections."""
    from lm_eval_passk.analysis import (
        render_diversity,
        render_guessable,
        render_lengths,
    )

    return [
        (render_diversity.diversity_text, render_diversity.diversity_figures, render_diversity.write_csv),
        (render_lengths.lengths_text, render_lengths.lengths_figures, render_lengths.write_csv),
        (render_guessable.guessable_text, render_guessable.guessable_figures, render_guessable.write_csv),
    ]
