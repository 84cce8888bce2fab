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
    _add_adapt(commands)


def _add_adapt(commands: Any) -> None:
    from lm_eval_passk.adaptive import (
        DEFAULT_FIRST_ROUND,
        DEFAULT_RELATIVE_SD,
        DEFAULT_TARGET_SD,
    )

    adapt = commands.add_parser(
        "adapt", help="an adaptive study in rounds: the next round's lm_eval jobs, or the merge when done (docs/ANALYSIS.md)"
    )
    adapt.add_argument("task", metavar="TASK", help="one lm_eval task, e.g. math500_passk")
    adapt.add_argument("--n_max", type=int, required=True, help="most samples any problem gets (the fixed budget's n)")
    adapt.add_argument("--model", required=True, help="an lm-eval model type: vllm, hf, ...")
    adapt.add_argument("--model_args", default="", help="as for lm_eval, without seed (each job gets its own)")
    adapt.add_argument("--output_path", help="the study's directory: round-R/ and merged/ (default runs/TASK-adaptive)")
    adapt.add_argument("--metadata", default="{}", help="further --metadata keys as JSON, e.g. {\"data_dir\": \"/data\"}")
    adapt.add_argument("--extra", default="", help="further lm_eval arguments for every job, as for plan")
    adapt.add_argument("--base_seed", type=int, default=DEFAULT_BASE_SEED,
                       help=f"job j of round R gets seed base_seed + 1000 R + j (default {DEFAULT_BASE_SEED})")
    adapt.add_argument("--first_round", type=int, default=DEFAULT_FIRST_ROUND,
                       help=f"samples of every problem in round 1 (default {DEFAULT_FIRST_ROUND})")
    adapt.add_argument("--target_sd", type=float, default=DEFAULT_TARGET_SD,
                       help=f"the curve's standard deviation to reach at every k (default {DEFAULT_TARGET_SD})")
    adapt.add_argument("--relative_sd", type=float, default=DEFAULT_RELATIVE_SD,
                       help="never aim below this times fixed n_max's sd (default "
                            f"{DEFAULT_RELATIVE_SD}; 1: fixed n's precision, for few problems)")
    adapt.add_argument("--format", choices=["shell", "slurm"], default="shell",
                       help="shell: one guarded command per job; slurm: an sbatch array script")
    adapt.set_defaults(func=run_adapt)


def run_adapt(args: argparse.Namespace) -> None:
    import shlex

    from lm_eval_passk.plan import PlanRequest
    from lm_eval_passk.rounds import Study, next_step, shell_script, slurm_script

    if args.n_max < 1 or args.first_round < 1 or args.first_round > args.n_max:
        raise ValueError(f"--first_round ({args.first_round}) must lie in 1..--n_max ({args.n_max})")
    if args.target_sd <= 0 or args.relative_sd <= 0:
        raise ValueError(f"--target_sd and --relative_sd must be positive, got {args.target_sd}, {args.relative_sd}")
    metadata = _metadata_object(args.metadata)
    request = PlanRequest(
        task=args.task, n=args.n_max, shards=1, model=args.model, model_args=args.model_args,
        output_path=args.output_path or f"runs/{args.task}-adaptive", base_seed=args.base_seed,
        metadata=metadata, extra=tuple(shlex.split(args.extra)),
    )  # fmt: skip
    study = Study(request, args.n_max, args.first_round, args.target_sd, args.relative_sd)
    step = next_step(study)
    script = slurm_script(study, step) if args.format == "slurm" else shell_script(study, step)
    print(script, end="")
    if step.done:
        print(f"adapt: study done after {step.round} round(s); run the printed merge", file=sys.stderr)
    else:
        print(f"adapt: round {step.round}: {len(step.jobs)} job(s), written to "
              f"{request.output_path}/round-{step.round}/jobs.sh", file=sys.stderr)  # fmt: skip


def _metadata_object(text: str) -> dict[str, Any]:
    try:
        metadata = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"--metadata is not JSON: {error}") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"--metadata must be a JSON object, got {text!r}")  # noqa: TRY004
    return metadata


def run_merge(args: argparse.Namespace) -> None:
    from lm_eval_passk.analysis.merge import merge_runs
    from lm_eval_passk.cli.common import check_out_directory
    from lm_eval_passk.metrics.sampling import repeated_fraction, sampling_is_duplicated

    check_out_directory(args.out)
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

    metadata = _metadata_object(args.metadata)
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
