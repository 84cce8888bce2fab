"""Commands that split a study over jobs and join it again: plan, merge."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lm_eval_passk.plan import DEFAULT_BASE_SEED


def add_commands(commands: Any) -> None:
    """The scale-out subcommands, each with its handler as `func`."""
    merge = commands.add_parser(
        "merge", help="merge runs split over jobs (sample shards with their own seeds, problem shards)"
    )
    merge.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="the shards' lm_eval --output_path directories")
    merge.add_argument("--out", type=Path, required=True, help="the merged run directory (new or empty)")
    merge.add_argument("--allow-duplicates", action="store_true",
                       help="merge shards that drew identical responses (the same seed twice)")

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
    submit = plan.add_argument_group("submitting to Slurm (with --format slurm)")
    submit.add_argument("--submit", action="store_true",
                        help="submit the shards without results as an array and the merge after them "
                             "(--dependency=afterok), instead of printing the script")
    submit.add_argument("--sbatch_args", "--sbatch-args", default="",
                        help="further sbatch options for the shard jobs, e.g. "
                             "'--partition=gpu --time=24:00:00' (the merge gets them less any GPU request); "
                             "a GPU option here replaces the backend's default")
    submit.add_argument("--max_running", "--max-running", type=int,
                        help="run at most this many shard jobs at once (sbatch --array=...%%N)")

    status = commands.add_parser(
        "status", help="where each shard of a submitted plan and its merge stand (done, running, failed, missing)"
    )
    status.add_argument("output_path", type=Path, metavar="OUTPUT",
                        help="the plan's --output_path, where --submit recorded its submissions")

    merge.set_defaults(func=run_merge)
    plan.set_defaults(func=run_plan)
    status.set_defaults(func=run_status)


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

    from lm_eval_passk.plan import PlanRequest, shell_script, slurm_script, validate

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
    from lm_eval_passk.tasks._common.preflight import check_plan

    submitting = args.submit or args.sbatch_args or args.max_running is not None
    if submitting and (args.format != "slurm" or not args.submit):
        raise ValueError("--submit, --sbatch_args and --max_running go with --format slurm --submit")
    validate(request)  # the plan's own options first: they need no task index
    check_plan(request.task, metadata, request.problem_shards, _include_path(request.extra))
    if submitting:
        from lm_eval_passk.scheduling.submit import describe, submit

        submission = submit(request, shlex.split(args.sbatch_args), args.max_running)
        print("\n".join(describe(submission, args.max_running)))
        return
    print(slurm_script(request) if args.format == "slurm" else shell_script(request), end="")


def _include_path(extra: tuple[str, ...]) -> str | None:
    """--include_path among the plan's --extra lm_eval arguments (its tasks count as known)."""
    for position, argument in enumerate(extra):
        name, equals, value = argument.partition("=")
        if name == "--include_path":
            return value if equals else (extra[position + 1] if position + 1 < len(extra) else None)
    return None


def run_status(args: argparse.Namespace) -> None:
    from lm_eval_passk.scheduling.status import plan_status, status_lines

    print("\n".join(status_lines(plan_status(args.output_path))))
