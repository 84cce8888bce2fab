"""`lm-eval-passk plan`: the `lm_eval` command of every shard of a large-k run, and the merge.

A large-k run (AIME24 at n = 1024, chains up to 16,384 tokens) is split into sample shards
(each draws n / shards samples of every problem) and, optionally, problem shards (each takes
problems i of M, `--metadata '{"shard": "i/M"}'`); `lm-eval-passk merge` sums the shards'
per-problem n and c. Pure text: nothing here imports lm-eval or runs anything.

Seed scheme: job j (0-based, also the Slurm array index) gets seed `base_seed + j`, passed to
lm_eval as `--seed` (python, numpy, torch and few-shot seeds: the hf backend samples with
torch's generator) and, for vLLM models, as `seed=` in `--model_args` (lm-eval 0.4.13 seeds
every vLLM engine with 1234 unless told otherwise, so two jobs with the same command draw the
same samples). API models (local-completions, ...) get the same `seed=`: it is the request
seed their repeats' seeds derive from (tasks/_common/sample_seeds.py). Distinct seeds per job
make every shard's draws independent.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Model types whose engine takes its sampling seed from --model_args (lm_eval's --seed only
# seeds python, numpy and torch in the driver process): lm-eval 0.4.13's VLLM and VLLM_VLM.
ENGINE_SEEDED_MODELS = frozenset({"vllm", "vllm-vlm"})
# lm-eval 0.4.13's API models that send `seed=` of --model_args (default 1234) with every
# request; a server that honours it draws the same samples for two jobs with one seed.
API_SEEDED_MODELS = frozenset({
    "local-completions", "local-chat-completions", "openai-completions",
    "openai-chat-completions", "azure-openai-chat-completions",
})  # fmt: skip
# Tasks (and groups holding one) that execute model-written code: lm_eval refuses them
# without --confirm_run_unsafe_code.
CODE_TASKS = frozenset({
    "livecodebench_passk", "humaneval_passk", "humaneval_plus_passk", "mbpp_plus_passk",
    "passk_code", "passk_paper",
})  # fmt: skip
# lm-eval 0.4.13's default vLLM engine seed (and its numpy/torch --seed default): a planned
# job never uses it, so that no shard can repeat the draws of a run started without a seed.
LM_EVAL_DEFAULT_SEED = 1234
# numpy.random.seed accepts 0 .. 2**32 - 1, and lm_eval --seed seeds numpy.
MAX_SEED = 2**32 - 1
DEFAULT_BASE_SEED = 10_000
# Arguments the plan writes for every job; given again in --extra they would contradict it.
PLANNED_FLAGS = frozenset({
    "--model", "--model_args", "--tasks", "-t", "--output_path", "-o", "--metadata", "--seed",
})  # fmt: skip
# Metadata keys the plan sets per job.
PLANNED_METADATA = ("n", "shard")
# The merge writes into merged + this, renamed to merged once complete.
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class PlanRequest:
    """What `lm-eval-passk plan` was asked for."""

    task: str  # an lm_eval --tasks value (comma-separated names allowed)
    n: int  # samples per problem in the merged run
    shards: int  # sample shards
    model: str  # an lm-eval model type: vllm, hf, ...
    model_args: str = ""
    output_path: str = "runs"
    problem_shards: int = 1
    base_seed: int = DEFAULT_BASE_SEED
    metadata: dict[str, Any] = field(default_factory=dict)  # the user's other keys (data_dir, ...)
    extra: tuple[str, ...] = ()  # further lm_eval arguments, appended to every job


@dataclass(frozen=True)
class Job:
    """One `lm_eval` run of the plan."""

    index: int  # 0-based; the Slurm array index and the number in the output directory
    sample_shard: int  # 0-based
    problem_shard: int | None  # 1-based i of "i/M"; None without problem shards
    samples: int  # samples per problem drawn by this job
    seed: int
    output_dir: str
    argv: tuple[str, ...]  # lm_eval's arguments, without the program name


def _positive(value: int, flag: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{flag} must be a positive integer, got {value!r}")


def model_arg(model_args: str, key: str) -> str | None:
    """`key`'s value in --model_args (lm-eval's comma-separated key=value pairs), else None."""
    for part in model_args.split(","):
        name, _, value = part.partition("=")
        if name.strip() == key:
            return value.strip()
    return None


def validate(request: PlanRequest) -> None:
    """Refuse a plan that cannot give n distinct, independent samples per problem."""
    _positive(request.n, "--n")
    _positive(request.shards, "--shards")
    _positive(request.problem_shards, "--problem_shards")
    if request.n < request.shards:
        raise ValueError(f"--n ({request.n}) must be at least --shards ({request.shards}): a shard draws at least one sample")
    if not request.task.strip():
        raise ValueError("TASK must name an lm_eval task")
    if not request.model.strip():
        raise ValueError("--model must name an lm-eval model type")
    jobs = request.shards * request.problem_shards
    last = request.base_seed + jobs - 1
    if request.base_seed < 0 or last > MAX_SEED:
        raise ValueError(f"--base_seed: seeds {request.base_seed}..{last} must lie in 0..{MAX_SEED} (numpy's range)")
    if request.base_seed <= LM_EVAL_DEFAULT_SEED <= last:
        raise ValueError(
            f"--base_seed: seeds {request.base_seed}..{last} include {LM_EVAL_DEFAULT_SEED}, lm-eval's default "
            "vLLM seed; a run started without a seed would repeat that shard's samples"
        )
    if model_arg(request.model_args, "seed") is not None:
        raise ValueError("--model_args sets seed; the plan gives every job its own (see --base_seed)")
    data_parallel = model_arg(request.model_args, "data_parallel_size")
    if request.model in ENGINE_SEEDED_MODELS and data_parallel not in (None, "1"):
        raise ValueError(
            f"--model_args data_parallel_size={data_parallel}: lm-eval 0.4.13 starts every vLLM "
            "data-parallel worker with the same seed, so workers can draw the same samples; "
            "use more --shards instead, one per GPU"
        )
    for key in PLANNED_METADATA:
        if key in request.metadata:
            raise ValueError(f"--metadata {key!r} is set by the plan (use --n, --problem_shards)")
    for argument in request.extra:
        if argument.split("=", 1)[0] in PLANNED_FLAGS:
            raise ValueError(f"--extra {argument.split('=', 1)[0]} is set by the plan for every job")


def sample_counts(n: int, shards: int) -> list[int]:
    """n split over `shards`: n // shards each, the first n % shards one more."""
    base, remainder = divmod(n, shards)
    return [base + 1 if shard < remainder else base for shard in range(shards)]


def directory_width(jobs: int) -> int:
    """Digits of the shard-NNN directory numbers (at least 3)."""
    return max(3, len(str(jobs - 1)))


def plan_jobs(request: PlanRequest) -> list[Job]:
    """Every job of the plan: sample shards crossed with problem shards, in array order."""
    validate(request)
    counts = sample_counts(request.n, request.shards)
    width = directory_width(request.shards * request.problem_shards)
    engine_seeded = request.model in ENGINE_SEEDED_MODELS
    has_batch_size = any(argument.split("=", 1)[0] == "--batch_size" for argument in request.extra)
    code_task = any(name.strip() in CODE_TASKS for name in request.task.split(","))
    jobs = []
    for sample_shard, samples in enumerate(counts):
        for problem in range(request.problem_shards):
            index = sample_shard * request.problem_shards + problem
            seed = request.base_seed + index
            problem_shard = problem + 1 if request.problem_shards > 1 else None
            metadata = dict(request.metadata, n=samples)
            if problem_shard is not None:
                metadata["shard"] = f"{problem_shard}/{request.problem_shards}"
            model_args = request.model_args.strip().rstrip(",")
            if engine_seeded or request.model in API_SEEDED_MODELS:
                model_args = f"{model_args},seed={seed}" if model_args else f"seed={seed}"
            output_dir = posixpath.join(request.output_path, f"shard-{index:0{width}d}")
            argv = [
                "--model", request.model,
                "--model_args", model_args,
                "--tasks", request.task,
                "--metadata", json.dumps(metadata, sort_keys=True),
                "--seed", str(seed),
                "--output_path", output_dir,
                "--log_samples",
            ]  # fmt: skip
            if engine_seeded and not has_batch_size:
                # lm-eval's vLLM backend submits one prompt per call at the default batch size 1.
                argv += ["--batch_size", "auto"]
            if code_task and "--confirm_run_unsafe_code" not in request.extra:
                argv.append("--confirm_run_unsafe_code")
            argv += request.extra
            jobs.append(Job(index, sample_shard, problem_shard, samples, seed, output_dir, tuple(argv)))
    return jobs


def merged_dir(request: PlanRequest) -> str:
    """Where the plan's merge writes the merged run."""
    return posixpath.join(request.output_path, "merged")


def merge_argv(request: PlanRequest, jobs: Sequence[Job]) -> list[str]:
    """`lm-eval-passk merge` over exactly the plan's shard directories (not a glob: a stale
    shard-* of an earlier, larger plan would be merged too), into merged.partial: the merge
    lines rename it to merged once it is complete."""
    out = merged_dir(request) + PARTIAL_SUFFIX
    return ["lm-eval-passk", "merge", *(job.output_dir for job in jobs), "--out", out]


def merge_lines(request: PlanRequest, jobs: Sequence[Job]) -> list[str]:
    """Shell lines that merge the shards, again on every run of the script (issue 27: a finished
    plan run again after a crash redid a shard and then failed on the merged run it had already
    written): merge into merged.partial, then replace merged with it, saying so in one line."""
    merged = shlex.quote(merged_dir(request))
    partial = shlex.quote(merged_dir(request) + PARTIAL_SUFFIX)
    return [
        f"rm -rf {partial}",
        " ".join(map(shlex.quote, merge_argv(request, jobs))) + " >/dev/null",
        f'if [ -e {merged} ]; then echo "replacing the previous merge in "{merged} >&2; rm -rf {merged}; fi',
        f"mv {partial} {merged}",
        f"echo {merged}",
    ]


def _command(program: str, argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(part) for part in [program, *argv])


def _done_test(output_dir: str) -> str:
    # lm_eval writes OUTPUT/<model name>/results_<time>.json once a run has finished; the glob
    # stays outside the quotes so that the shell expands it.
    return f'[ -n "$(ls {shlex.quote(output_dir)}/*/results_*.json 2>/dev/null)" ]'


def _describe(request: PlanRequest, job: Job) -> str:
    problems = f"problems {job.problem_shard}/{request.problem_shards}" if job.problem_shard else "all problems"
    return (
        f"job {job.index}: {job.samples} samples per problem (sample shard {job.sample_shard + 1} of "
        f"{request.shards}), {problems}, seed {job.seed}"
    )


def _header(request: PlanRequest, jobs: Sequence[Job]) -> list[str]:
    counts = sample_counts(request.n, request.shards)
    split = (
        f"{counts[0]} samples each"
        if len(set(counts)) == 1
        else f"{counts[0]} samples for the first {request.n % request.shards}, {counts[-1]} for the rest"
    )
    return [
        (
            f"# lm-eval-passk plan: {request.task}, n = {request.n} per problem in {request.shards} sample "
            f"shard(s) ({split}) x {request.problem_shards} problem shard(s) = {len(jobs)} job(s)"
        ),
        (
            f"# seeds {jobs[0].seed}..{jobs[-1].seed}: --base_seed {request.base_seed} + job index; to add "
            f"samples later, plan again with --base_seed {jobs[-1].seed + 1} or above and another --output_path"
        ),
        "# a job whose directory already holds a results_*.json is skipped: re-run to redo only failed jobs",
    ]


def shell_script(request: PlanRequest) -> str:
    """The plan as a shell script: every job guarded by its done test, then the merge."""
    jobs = plan_jobs(request)
    lines = ["#!/bin/bash", *_header(request, jobs), "set -eu"]
    for job in jobs:
        lines += [f"# {_describe(request, job)}", f"{_done_test(job.output_dir)} || {_command('lm_eval', job.argv)}"]
    lines += ["# all jobs done: sum them into one run (redone on every run of this script)", *merge_lines(request, jobs)]
    return "\n".join(lines) + "\n"


def job_name(request: PlanRequest) -> str:
    """The Slurm job name of the plan's array (its merge job adds -merge)."""
    return f"passk-{re.sub(r'[^A-Za-z0-9_.-]', '+', request.task)}"


def slurm_script(request: PlanRequest) -> str:
    """The plan as a Slurm array script: array index = job index; a finished job is skipped."""
    jobs = plan_jobs(request)
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name={job_name(request)}",
        f"#SBATCH --array=0-{len(jobs) - 1}",
        *_header(request, jobs),
        "# submit with the resources one job needs, e.g. `sbatch --gpus=1 --time=24:00:00 THIS_FILE`",
        "# (or let `lm-eval-passk plan ... --submit` submit it and the merge);",
        "# without Slurm, run one job with `SLURM_ARRAY_TASK_ID=0 bash THIS_FILE`.",
        "# when every job has finished, merge them with `bash THIS_FILE merge`.",
        "set -eu",
        'if [ "${1:-}" = merge ]; then',
        *(f"  {line}" for line in merge_lines(request, jobs)),
        "  exit 0",
        "fi",
        'case "${SLURM_ARRAY_TASK_ID:?set by sbatch --array: the job index}" in',
    ]
    for job in jobs:
        lines += [
            f"  # {_describe(request, job)}",
            f"  {job.index}) output={shlex.quote(job.output_dir)}",
            f"     args=({' '.join(shlex.quote(part) for part in job.argv)}) ;;",
        ]
    lines += [
        f'  *) echo "SLURM_ARRAY_TASK_ID=$SLURM_ARRAY_TASK_ID is not a job of this plan (0-{len(jobs) - 1})" >&2',
        "     exit 2 ;;",
        "esac",
        'if [ -n "$(ls "$output"/*/results_*.json 2>/dev/null)" ]; then',
        '  echo "job $SLURM_ARRAY_TASK_ID: $output already holds results; skipped" >&2',
        "  exit 0",
        "fi",
        # A shard's log gathers every attempt (submitted with --open-mode=append): mark each.
        (
            'echo "job $SLURM_ARRAY_TASK_ID ($output): started on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)'
            ' as Slurm job ${SLURM_ARRAY_JOB_ID:-none}_$SLURM_ARRAY_TASK_ID" >&2'
        ),
        'exec lm_eval "${args[@]}"',
    ]
    return "\n".join(lines) + "\n"
