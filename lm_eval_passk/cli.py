"""The `lm-eval-passk` command: a thin argument parser over the analysis functions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lm_eval_passk import __version__
from lm_eval_passk._discovery import TASKS_DIR
from lm_eval_passk.plan import DEFAULT_BASE_SEED

GRADER_NAMES = ["default", "strict", "paper"]


def _add_reading_options(parser: argparse.ArgumentParser) -> None:
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


def _add_output_options(parser: argparse.ArgumentParser, formats: list[str]) -> None:
    parser.add_argument("--format", choices=formats, default=formats[0],
                        help=f"what to print (default {formats[0]})")
    parser.add_argument("--out", type=Path, help="also write tables and plots (PNG, SVG) to this directory")


def _k_values(text: str) -> list[int]:
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


def _field_names(text: str) -> list[str]:
    """`--by level,subject`: field names, in order, each once."""
    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not names:
        raise argparse.ArgumentTypeError("expected a field name, e.g. --by level")
    return names


def _add_by_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", type=_field_names, default=[], metavar="FIELD[,FIELD]",
                        help="also pass@k per value of a problem field, e.g. level, subject, difficulty, type")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lm-eval-passk",
        description="Large-k pass@k tasks and analysis for lm-evaluation-harness.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    report = commands.add_parser("report", help="pass@k curves with 95%% CIs for one or more runs")
    report.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="an lm_eval --output_path directory")
    _add_reading_options(report)
    _add_output_options(report, ["table", "json", "markdown", "csv"])
    _add_by_option(report)

    compare = commands.add_parser("compare", help="a base model against one or more RL-trained descendants")
    compare.add_argument("base", type=Path, metavar="BASE", help="the base model's run directory")
    compare.add_argument("rl", type=Path, nargs="+", metavar="RL", help="each RL model's run directory")
    _add_reading_options(compare)
    _add_output_options(compare, ["table", "json", "markdown", "csv"])
    _add_by_option(compare)

    temperature = commands.add_parser(
        "temperature", help="pass@k of each model at each sampling temperature, and the best-temperature envelope"
    )
    temperature.add_argument("runs", nargs="+", type=Path, metavar="RUN",
                             help="lm_eval --output_path directories, one per model and temperature; "
                                  "the first run's model is the base of the envelope comparisons")
    _add_reading_options(temperature)
    _add_output_options(temperature, ["table", "json", "markdown", "csv"])

    leaderboard = commands.add_parser("leaderboard", help="models x (task, k) table for a paper or model card")
    leaderboard.add_argument("runs", nargs="+", type=Path, metavar="RUN")
    leaderboard.add_argument("--k", type=_k_values, default="1,256",
                             help="comma-separated positive k values (default 1,256)")
    _add_reading_options(leaderboard)
    _add_output_options(leaderboard, ["markdown", "csv"])

    merge = commands.add_parser(
        "merge", help="merge runs split over jobs (sample shards with their own seeds, problem shards)"
    )
    merge.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="the shards' lm_eval --output_path directories")
    merge.add_argument("--out", type=Path, required=True, help="the merged run directory (new or empty)")
    merge.add_argument("--allow-duplicates", action="store_true",
                       help="merge shards that drew identical responses (the same seed twice)")

    judge = commands.add_parser(
        "judge", help="judge the reasoning of answer-correct responses with any lm-eval model (CoT-Pass@k)"
    )
    judge.add_argument("run", type=Path, metavar="RUN", help="an lm_eval --output_path directory")
    judge.add_argument("--model", required=True, help="an lm-eval model type: vllm, hf, local-chat-completions, ...")
    judge.add_argument("--model_args", default="", help="as for lm_eval, e.g. pretrained=Qwen/Qwen2.5-72B-Instruct")
    judge.add_argument("--votes", type=int, default=3, help="votes per judged response (default 3)")
    judge.add_argument("--tasks", help="comma-separated tasks of the run to judge (default: all)")
    judge.add_argument("--prompt", type=Path, help="judge prompt template with {problem}, {reference}, {response}")
    judge.add_argument("--gen_kwargs", default="", help="judge generation kwargs, e.g. temperature=0.6,max_gen_toks=4096")
    judge.add_argument("--judge_name", help="name recorded with each vote (default: the model and its arguments)")
    judge.add_argument("--batch_size", default="auto", help="passed to the lm-eval model (default auto)")
    judge.add_argument("--device", help="passed to the lm-eval model, e.g. cuda:0")
    judge.add_argument("--no_chat_template", action="store_true", help="send the prompt as plain text")

    perplexity = commands.add_parser(
        "perplexity", help="perplexity of each response of a run under any lm-eval model (docs/ANALYSIS.md)"
    )
    perplexity.add_argument("run", type=Path, metavar="RUN", help="an lm_eval --output_path directory")
    perplexity.add_argument("--model", required=True, help="an lm-eval model type with loglikelihood: hf, vllm, local-completions")
    perplexity.add_argument("--model_args", default="", help="as for lm_eval, e.g. pretrained=Qwen/Qwen2.5-7B")
    perplexity.add_argument("--per-problem", type=int, help="score a seeded sample of this many responses per problem (default: all)")
    perplexity.add_argument("--seed", type=int, default=0, help="seed of --per-problem's sample (default 0)")
    perplexity.add_argument("--tasks", help="comma-separated tasks of the run to score (default: all)")
    perplexity.add_argument("--scorer_name", help="name recorded with each score (default: the model and its arguments)")
    perplexity.add_argument("--batch_size", default="auto", help="passed to the lm-eval model (default auto)")
    perplexity.add_argument("--device", help="passed to the lm-eval model, e.g. cuda:0")

    demo = commands.add_parser("demo", help="write two synthetic runs and compare them (no GPU needed)")
    demo.add_argument("--out", type=Path, default=Path("passk-demo"), help="directory (default ./passk-demo)")

    plan = commands.add_parser(
        "plan", help="the lm_eval command of every shard of a large-k run, and the merge (docs/SCALE.md)"
    )
    plan.add_argument("task", metavar="TASK", help="an lm_eval --tasks value, e.g. aime24_passk")
    plan.add_argument("--n", type=int, required=True, help="samples per problem in the merged run")
    plan.add_argument("--shards", type=int, default=1,
                      help="sample shards: each job draws n / shards samples of every problem (default 1)")
    plan.add_argument("--problem_shards", type=int, default=1,
                      help="problem shards crossed with the sample shards (default 1: every job sees every problem)")
    plan.add_argument("--model", required=True, help="an lm-eval model type: vllm, hf, ...")
    plan.add_argument("--model_args", default="", help="as for lm_eval, without seed (the plan sets it)")
    plan.add_argument("--output_path", help="directory holding shard-NNN/ and merged/ (default runs/TASK)")
    plan.add_argument("--metadata", default="{}", help="further --metadata keys as JSON, e.g. {\"data_dir\": \"/data\"}")
    plan.add_argument("--extra", default="",
                      help="further lm_eval arguments for every job, e.g. --extra '--device cuda:0 --batch_size 8' "
                           "(one flag alone needs the = form: --extra=--apply_chat_template)")
    plan.add_argument("--base_seed", type=int, default=DEFAULT_BASE_SEED,
                      help=f"job j gets seed base_seed + j (default {DEFAULT_BASE_SEED})")
    plan.add_argument("--format", choices=["shell", "slurm"], default="shell",
                      help="shell: one guarded command per job, then the merge; slurm: an sbatch array script")

    commands.add_parser(
        "include-path",
        help="print our task folder, for `lm_eval --include_path` where discovery is off",
    )
    return parser


def _read_runs(paths: list[Path], args: argparse.Namespace) -> list[list[Any]]:
    """Each run directory's task runs, labelled so that no two runs of a task share a name."""
    from lm_eval_passk.analysis.runs import read_run
    from lm_eval_passk.analysis.summary import label_runs

    runs = [read_run(path, regrade=args.regrade, grader=args.grader, judge=args.judge) for path in paths]
    label_runs(list(zip(paths, runs)))
    return runs


def _settings(args: argparse.Namespace) -> Any:
    from lm_eval_passk.analysis.summary import BootstrapSettings

    if args.resamples < 1:
        raise ValueError("--resamples must be at least 1")
    return BootstrapSettings(resamples=args.resamples, seed=args.seed)


def _emit(
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
    print(f"\nwrote {stem}.* and {len(written)} figures to {args.out}", file=sys.stderr)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"lm-eval-passk: warning: {warning}", file=sys.stderr)


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


# An optional part of a report or compare: its text (after the main tables), its figures
# and its CSV files under --out.
Section = tuple[
    Callable[..., str], Callable[[dict[str, Any], Path], list[Path]], Callable[[dict[str, Any], Path, str], object]
]


def _emit_with_sections(
    document: dict[str, Any], args: argparse.Namespace, text: Callable[..., str],
    csv: Callable[[dict[str, Any]], str], figures: Callable[[dict[str, Any], Path], list[Path]],
    stem: str, sections: list[Section],
) -> None:
    """_emit for report and compare: each output followed by its sections' parts."""

    def full_text(document: dict[str, Any], markdown: bool = False) -> str:
        return text(document, markdown=markdown) + "".join(part(document, markdown=markdown) for part, _, _ in sections)

    def all_figures(document: dict[str, Any], out: Path) -> list[Path]:
        return figures(document, out) + [path for _, draw, _ in sections for path in draw(document, out)]

    writers = {"table": full_text, "json": _json, "markdown": lambda d: full_text(d, markdown=True), "csv": csv}
    _emit(document, args, writers, all_figures, stem)
    if args.out is not None:
        for _, _, write in sections:
            write(document, args.out, stem)


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

    runs = [run for directory in _read_runs(args.runs, args) for run in directory]
    settings = _settings(args)
    document = summary.report(runs, settings)
    distributions.add_to_report(document, runs)
    _warn(breakdown.add_to_report(document, runs, args.by, settings))
    perplexity.add_to_report(document, runs)
    _emit_with_sections(document, args, render.report_text, render.report_csv, plots.report_figures, "report", [
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

    base, *rls = _read_runs([args.base, *args.rl], args)
    for rl in rls:
        _warn(summary.same_run_warnings(base, rl))
    settings = _settings(args)
    document = summary.compare(base, rls, settings)
    perplexity.add_to_compare(document, base, rls)
    perplexity_section: Section = (perplexity.perplexity_text, perplexity.perplexity_figures, perplexity.write_csv)
    if len(rls) == 1:  # the two-run tables and figures, with histograms and breakdowns
        (rl,) = rls
        distributions.add_to_compare(document, base, rl)
        _warn(breakdown.add_to_compare(document, base, rl, args.by, settings))
        _emit_with_sections(document, args, render.compare_text, render.compare_csv, plots.compare_figures, "compare", [
            (sections.compare_sections, figures.compare_figures, sections.write_csvs), perplexity_section,
        ])  # fmt: skip
        return
    if args.by:
        raise ValueError("compare --by takes one RL run; compare each RL run with the base for breakdowns")
    from lm_eval_passk.analysis import many

    def write_summary(document: dict[str, Any], out: Path, stem: str) -> None:
        (out / f"{stem}_summary.csv").write_text(many.summary_csv(document))

    _emit_with_sections(document, args, many.compare_text, many.compare_csv, many.compare_figures, "compare", [
        perplexity_section, (lambda d, markdown=False: "", lambda d, out: [], write_summary),
    ])  # fmt: skip


def run_temperature(args: argparse.Namespace) -> None:
    from lm_eval_passk.analysis import temperature
    from lm_eval_passk.analysis.runs import read_run

    # Not labelled by directory (_read_runs): runs of one model at several temperatures
    # share its name, and the temperature tells them apart.
    runs = [
        run for path in args.runs
        for run in read_run(path, regrade=args.regrade, grader=args.grader, judge=args.judge)
    ]
    document = temperature.temperature_report(runs, _settings(args))
    writers = {
        "table": temperature.temperature_text,
        "json": _json,
        "markdown": lambda d: temperature.temperature_text(d, markdown=True),
        "csv": temperature.temperature_csv,
    }
    _emit(document, args, writers, temperature.temperature_figures, "temperature")


def run_leaderboard(args: argparse.Namespace) -> None:
    from lm_eval_passk.analysis import render, summary

    runs = [run for directory in _read_runs(args.runs, args) for run in directory]
    document = summary.report(runs, _settings(args), extra_ks=args.k, majority=False)
    writers = {
        "markdown": lambda d: render.leaderboard_markdown(d, args.k),
        "csv": lambda d: render.leaderboard_csv(d, args.k),
    }
    _emit(document, args, writers, None, "leaderboard")


def run_judge(args: argparse.Namespace) -> None:
    from lm_eval.api.registry import get_model
    from lm_eval.utils import simple_parse_args_string

    from lm_eval_passk.judge.run import DEFAULT_GEN_KWARGS, DEFAULT_TEMPLATE, judge_run

    lm = get_model(args.model).create_from_arg_string(
        args.model_args, {"batch_size": args.batch_size, "device": args.device}
    )
    results = judge_run(
        args.run,
        lm,
        judge=args.judge_name or f"{args.model}:{args.model_args}",
        votes=args.votes,
        tasks=args.tasks.split(",") if args.tasks else None,
        template_path=args.prompt or DEFAULT_TEMPLATE,
        gen_kwargs=DEFAULT_GEN_KWARGS | simple_parse_args_string(args.gen_kwargs),
        chat=not args.no_chat_template,
    )
    for task, stats in results.items():
        print(f"{task}: {stats.requested} votes requested, {stats.already_done} already journaled")


def run_perplexity(args: argparse.Namespace) -> None:
    from lm_eval.api.registry import get_model

    from lm_eval_passk.perplexity.score import score_run

    lm = get_model(args.model).create_from_arg_string(
        args.model_args, {"batch_size": args.batch_size, "device": args.device}
    )
    results = score_run(
        args.run, lm, scorer=args.scorer_name or f"{args.model}:{args.model_args}",
        tasks=args.tasks.split(",") if args.tasks else None, per_problem=args.per_problem, seed=args.seed,
    )
    for task, stats in results.items():
        print(
            f"{task}: {stats.requested} responses scored, {stats.already_done} already in the file, "
            f"{stats.truncated_prompt} with the prompt cut, {stats.not_scored} not scored (empty or too long)"
        )


def run_demo(args: argparse.Namespace) -> None:
    from lm_eval_passk.analysis.demo import write_demo_runs

    base, rl = write_demo_runs(args.out / "runs")
    print(f"wrote two synthetic lm-eval runs: {base} and {rl}\n", file=sys.stderr)
    compare_args = build_parser().parse_args(
        ["compare", str(base), str(rl), "--out", str(args.out / "compare")]
    )
    run_compare(compare_args)


def run_merge(args: argparse.Namespace) -> None:
    from lm_eval_passk.analysis.merge import merge_runs
    from lm_eval_passk.metrics.sampling import repeated_fraction, sampling_is_duplicated

    summary = merge_runs(args.runs, args.out, allow_duplicates=args.allow_duplicates)
    for task, merge in summary.tasks.items():
        n = sorted({n for n, _ in merge.counts.values()})
        print(
            f"{task}: {len(merge.counts)} problems, n = {'/'.join(map(str, n))} from "
            f"{len(merge.shards)} runs"
            + (f"; {len(merge.duplicated)} duplicated response lists kept" if merge.duplicated else ""),
            file=sys.stderr,
        )
        duplicated = merge.shards and repeated_fraction(merge.duplicates.values())
        if duplicated and sampling_is_duplicated(duplicated):
            print(
                f"{'!' * 80}\n{task}: {duplicated:.0%} of the long responses repeat another of "
                "their problem: shards drew the same samples (the same seed twice?). pass@k at "
                f"large k overstates the evidence.\n{'!' * 80}",
                file=sys.stderr,
            )
    print(summary.out)


def run_plan(args: argparse.Namespace) -> None:
    import shlex

    from lm_eval_passk.plan import PlanRequest, shell_script, slurm_script

    try:
        metadata = json.loads(args.metadata)
    except json.JSONDecodeError as error:
        raise ValueError(f"--metadata is not JSON: {error}") from None
    if not isinstance(metadata, dict):  # a bad option value: ValueError, which main() reports
        raise ValueError(f"--metadata must be a JSON object, got {args.metadata!r}")  # noqa: TRY004
    request = PlanRequest(
        task=args.task,
        n=args.n,
        shards=args.shards,
        model=args.model,
        model_args=args.model_args,
        output_path=args.output_path or f"runs/{args.task}",
        problem_shards=args.problem_shards,
        base_seed=args.base_seed,
        metadata=metadata,
        extra=tuple(shlex.split(args.extra)),
    )
    print(slurm_script(request) if args.format == "slurm" else shell_script(request), end="")


COMMANDS = {
    "report": run_report,
    "compare": run_compare,
    "temperature": run_temperature,
    "leaderboard": run_leaderboard,
    "merge": run_merge,
    "judge": run_judge,
    "perplexity": run_perplexity,
    "demo": run_demo,
    "plan": run_plan,
    "include-path": lambda args: print(TASKS_DIR),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except ValueError as error:  # bad input: runs, files, options (RunError is one)
        print(f"lm-eval-passk: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
