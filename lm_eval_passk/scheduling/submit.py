"""`lm-eval-passk plan ... --format slurm --submit`: the shard array (only the shards without
results) and a merge job that waits for it, with each shard's log named after the shard.

Every submission is appended to OUTPUT/submissions.jsonl (the plan's shard directories, the
array's job id and indexes, the merge's job id): `lm-eval-passk status OUTPUT` reads it."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from lm_eval_passk.plan import (
    ENGINE_SEEDED_MODELS,
    PlanRequest,
    directory_width,
    job_name,
    merged_dir,
    model_arg,
    plan_jobs,
    slurm_script,
)
from lm_eval_passk.scheduling import slurm

SUBMISSIONS = "submissions.jsonl"
SCRIPT = "plan.sbatch"
LOGS = "logs"
MERGE_LOG = "merge.log"
# sbatch options that ask for GPUs: the user's replace our default, and the merge job (which
# only reads and writes files) drops them.
GPU_OPTIONS = ("--gres", "--gpus", "--gpus-per-node", "--gpus-per-task", "--gpus-per-socket", "-G",
               "--mem-per-gpu", "--cpus-per-gpu", "--gpu-bind", "--gpu-freq")  # fmt: skip
# lm-eval model types that run on a GPU unless told `--device cpu`.
HF_MODELS = frozenset({"hf", "hf-multimodal", "hf-auto", "huggingface"})


@dataclass(frozen=True)
class Submission:
    """One `--submit`: what was queued, and the plan it belongs to."""

    time: str
    shards: list[str]  # every job's output directory, absolute, in array order
    merged: str
    array_job: str | None  # None when every shard already had results
    indexes: list[int]  # the array indexes submitted
    merge_job: str
    sbatch_args: list[str]


def _option(args: Sequence[str], names: Sequence[str]) -> str | None:
    """The value of the last of `names` in an argument list (--opt=value or --opt value)."""
    value = None
    for position, argument in enumerate(args):
        name, equals, given = argument.partition("=")
        if name in names:
            value = given if equals else (args[position + 1] if position + 1 < len(args) else "")
    return value


def default_resources(request: PlanRequest) -> list[str]:
    """The sbatch options one job of this backend needs by default: a vLLM job the GPUs of
    its tensor x pipeline parallel group, an hf job one GPU unless --device cpu; nothing for
    API models."""
    if request.model in ENGINE_SEEDED_MODELS:
        gpus = 1
        for key in ("tensor_parallel_size", "pipeline_parallel_size"):
            value = model_arg(request.model_args, key)
            gpus *= int(value) if value and value.isdigit() else 1
        return [f"--gres=gpu:{gpus}"]
    if request.model in HF_MODELS:
        device = _option(request.extra, ("--device",)) or ""
        return [] if device.startswith(("cpu", "mps")) else ["--gres=gpu:1"]
    return []


def _asks_for_gpus(args: Sequence[str]) -> bool:
    return any(argument.partition("=")[0] in GPU_OPTIONS for argument in args)


def without_gpus(args: Sequence[str]) -> list[str]:
    """`args` less the options that ask for GPUs (and their values)."""
    kept, skip = [], False
    for argument in args:
        if skip:
            skip = False
            continue
        name, equals, _ = argument.partition("=")
        if name in GPU_OPTIONS:
            skip = not equals
            continue
        kept.append(argument)
    return kept


def array_spec(indexes: Sequence[int], max_running: int | None) -> str:
    """sbatch --array's value: ranges of consecutive indexes, then %N to run at most N at once."""
    ranges, start = [], None
    for position, index in enumerate(indexes):
        start = index if start is None else start
        if position + 1 == len(indexes) or indexes[position + 1] != index + 1:
            ranges.append(str(start) if start == index else f"{start}-{index}")
            start = None
    return ",".join(ranges) + (f"%{max_running}" if max_running else "")


def shard_done(output_dir: str | Path) -> bool:
    """The plan's skip guard: lm_eval writes OUTPUT/<model>/results_*.json once a run ends."""
    return any(Path(output_dir).glob("*/results_*.json"))


def read_submissions(output_path: str | Path) -> list[Submission]:
    """Every submission recorded under a plan's output directory, oldest first."""
    path = Path(output_path) / SUBMISSIONS
    if not path.exists():
        return []
    submissions = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            submissions.append(Submission(**json.loads(line)))
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path}, line {number}: not a submission record ({error})") from None
    return submissions


def _refuse_if_running(submissions: Sequence[Submission]) -> list[slurm.TaskState]:
    """The earlier submissions' queued jobs; refuse while a shard or a merge still runs or waits
    to (a second copy would write the same directory), except a merge left waiting on a failed
    array, which the new merge replaces."""
    ids = [job for s in submissions for job in (s.array_job, s.merge_job) if job]
    queued = slurm.queued(ids)
    merges = {s.merge_job for s in submissions}
    busy = [state for state in queued if state.live and not (state.job_id in merges and state.state == "PENDING")]
    if busy:
        jobs = sorted({state.job_id for state in busy})
        raise ValueError(
            f"Slurm job(s) {', '.join(jobs)} of this plan are still queued or running: wait for them "
            f"(lm-eval-passk status {submissions[-1].merged.rsplit('/', 1)[0]}) or cancel them with "
            f"`scancel {' '.join(jobs)}`, then submit again"
        )
    return [state for state in queued if state.job_id in merges]


def submit(request: PlanRequest, sbatch_args: Sequence[str] = (), max_running: int | None = None) -> Submission:
    """Submit the shards without results as an array, and the merge after it (afterok)."""
    if max_running is not None and max_running < 1:
        raise ValueError(f"--max_running must be a positive integer, got {max_running}")
    out = Path(request.output_path).resolve()
    # Absolute paths: the jobs' commands and the record then hold wherever the jobs run from.
    request = replace(request, output_path=str(out))
    jobs = plan_jobs(request)
    stale_merges = _refuse_if_running(read_submissions(out))
    logs = out / LOGS
    logs.mkdir(parents=True, exist_ok=True)
    script = out / SCRIPT
    script.write_text(slurm_script(request))
    for state in stale_merges:  # waiting on an array that failed: it would never start
        slurm.scancel(state.job_id)
    user = list(sbatch_args)
    resources = [] if _asks_for_gpus(user) else default_resources(request)
    todo = [job.index for job in jobs if not shard_done(job.output_dir)]
    array_job = None
    if todo:
        array_job = slurm.sbatch([
            f"--array={array_spec(todo, max_running)}",
            # %Na: the array index zero-padded to N digits, as in the shard's directory name.
            f"--output={logs}/shard-%{directory_width(len(jobs))}a.log", "--open-mode=append",
            *resources, *user, str(script),
        ])  # fmt: skip
    merge_job = slurm.sbatch([
        f"--job-name={job_name(request)}-merge", f"--output={logs / MERGE_LOG}", "--open-mode=append",
        *([f"--dependency=afterok:{array_job}"] if array_job else []),
        *without_gpus(user), f"--wrap=bash {shlex.quote(str(script))} merge",
    ])  # fmt: skip
    submission = Submission(
        time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        shards=[job.output_dir for job in jobs],
        merged=merged_dir(request),
        array_job=array_job,
        indexes=todo,
        merge_job=merge_job,
        sbatch_args=user,
    )
    with (out / SUBMISSIONS).open("a") as record:
        record.write(json.dumps(asdict(submission)) + "\n")
    return submission


def describe(submission: Submission, max_running: int | None = None) -> list[str]:
    """What was submitted, in a few lines for the terminal."""
    out = submission.merged.rsplit("/", 1)[0]
    total = len(submission.shards)
    lines = []
    if submission.array_job:
        skipped = total - len(submission.indexes)
        lines.append(
            f"submitted Slurm array job {submission.array_job}: {len(submission.indexes)} of {total} shard(s) "
            f"(array {array_spec(submission.indexes, max_running)})"
            + (f"; {skipped} already had results" if skipped else "")
        )
    else:
        lines.append(f"every one of the {total} shard(s) already has results: no array submitted")
    lines.append(
        f"submitted Slurm job {submission.merge_job}: the merge into {submission.merged}"
        + (f", once array job {submission.array_job} has succeeded (afterok)" if submission.array_job else "")
    )
    lines.append(f"logs: {out}/{LOGS}/shard-*.log and {MERGE_LOG}; progress: lm-eval-passk status {out}")
    return lines

