"""`lm-eval-passk adapt`: the rounds of an adaptive study as ordinary `lm_eval` jobs.

A study lives in one directory: `round-R/` per round, holding `round.json` (its jobs), one
`nM.ids` file per job (the problem ids that get M more samples, passed to the task as
`--metadata '{"problems": FILE}'`) and each job's lm_eval output `nM/shard-000/`. Round 1
draws `first_round` samples of every problem. Each call reads the finished rounds, asks
`lm_eval_passk.adaptive.allocate` for the next round and writes its jobs (through
lm_eval_passk.plan, so seeds and engine arguments follow the same rules), or, when nothing
more is needed, the `merge` of every round. Job j of round R gets seed base_seed + 1000 R + j.
"""

from __future__ import annotations

import json
import shlex
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from lm_eval_passk.adaptive import (
    DEFAULT_FIRST_ROUND,
    DEFAULT_RELATIVE_SD,
    DEFAULT_TARGET_SD,
    allocate,
)
from lm_eval_passk.metrics import report_ks
from lm_eval_passk.plan import Job, PlanRequest, plan_jobs

ROUND_FILE = "round.json"
# Seeds of round R: base_seed + SEEDS_PER_ROUND * R + job; a round has one job per distinct
# sample count, at most log2(n_max) + 1 of them.
SEEDS_PER_ROUND = 1000


@dataclass(frozen=True)
class Study:
    """An adaptive study: the plan request its jobs share (task, model, output root, seed
    base, user metadata, extra arguments; its `n` is unused) and the allocation settings."""

    request: PlanRequest
    n_max: int
    first_round: int = DEFAULT_FIRST_ROUND
    target_sd: float = DEFAULT_TARGET_SD
    relative_sd: float = DEFAULT_RELATIVE_SD


@dataclass(frozen=True)
class NextStep:
    """What `adapt` found and what comes next: a round's jobs, or the merge (done)."""

    round: int  # the round the jobs belong to (the last round when done)
    jobs: list[Job]
    counts: dict[str, tuple[int, int]]
    done: bool
    job_dirs: list[str]  # every finished job of the study, for the merge


def _round_dir(study: Study, number: int) -> Path:
    return Path(study.request.output_path) / f"round-{number}"


def _finished(job_dir: str) -> bool:
    return any(Path(job_dir).glob("*/results_*.json"))


def read_rounds(study: Study) -> tuple[int, dict[str, tuple[int, int]], list[str]]:
    """The number of finished rounds, every problem's (n, c) summed over them, and their job
    directories. A round with a job that has not finished is an error naming it."""
    from lm_eval_passk.analysis.runs import read_run

    counts: dict[str, tuple[int, int]] = {}
    job_dirs: list[str] = []
    number = 0
    while (_round_dir(study, number + 1) / ROUND_FILE).is_file():
        number += 1
        record = json.loads((_round_dir(study, number) / ROUND_FILE).read_text())
        for job in record["jobs"]:
            if not _finished(job["dir"]):
                raise ValueError(
                    f"round {number} is not finished: {job['dir']} holds no results_*.json "
                    f"(run {_round_dir(study, number)}/jobs.sh first)"
                )
            runs = read_run(Path(job["dir"]))
            if len(runs) != 1:
                raise ValueError(f"{job['dir']}: expected one task's samples, found {len(runs)}")
            for pid, (n, c) in runs[0].problems.items():
                if number > 1 and pid not in counts:
                    raise ValueError(f"{job['dir']}: problem {pid} was not in round 1")
                old_n, old_c = counts.get(pid, (0, 0))
                counts[pid] = (old_n + n, old_c + c)
            job_dirs.append(job["dir"])
    return number, counts, job_dirs


def next_step(study: Study) -> NextStep:
    """Read the finished rounds and write the next round's id files and round.json."""
    if "," in study.request.task:
        raise ValueError("adapt takes one task: problem ids are per task")
    if "problems" in study.request.metadata:
        raise ValueError("--metadata 'problems' is set by adapt for every round")
    finished, counts, job_dirs = read_rounds(study)
    if finished == 0:
        more_by_n: dict[int, list[str]] = {study.first_round: []}  # every problem
    else:
        more = allocate(counts, study.n_max, report_ks(study.n_max), first_round=study.first_round,
                        target_sd=study.target_sd, relative_sd=study.relative_sd)  # fmt: skip
        more_by_n = defaultdict(list)
        for pid, extra in more.items():
            if extra:
                more_by_n[extra].append(pid)
        if not more_by_n:
            return NextStep(finished, [], counts, True, job_dirs)
    number = finished + 1
    folder = _round_dir(study, number)
    folder.mkdir(parents=True, exist_ok=True)
    jobs: list[Job] = []
    for index, (extra, ids) in enumerate(sorted(more_by_n.items())):
        metadata = dict(study.request.metadata)
        if ids:
            id_file = folder / f"n{extra}.ids"
            if any("\n" in pid or not pid.strip() for pid in ids):
                raise ValueError("a problem id is empty or holds a line break: it cannot go into an ids file")
            id_file.write_text("".join(f"{pid}\n" for pid in ids), encoding="utf-8")
            metadata["problems"] = str(id_file)
        request = replace(
            study.request, n=extra, shards=1, problem_shards=1, metadata=metadata,
            output_path=str(folder / f"n{extra}"),
            base_seed=study.request.base_seed + SEEDS_PER_ROUND * number + index,
        )  # fmt: skip
        jobs += plan_jobs(request)
    record = {"round": number, "n_max": study.n_max, "jobs": [{"dir": job.output_dir, "n": job.samples} for job in jobs]}
    (folder / ROUND_FILE).write_text(json.dumps(record, indent=2))
    script = shell_script(study, NextStep(number, jobs, counts, False, job_dirs))
    (folder / "jobs.sh").write_text(script)
    return NextStep(number, jobs, counts, False, job_dirs)


def merge_argv(study: Study, job_dirs: list[str]) -> list[str]:
    """`lm-eval-passk merge` of every round's jobs into OUTPUT/merged."""
    return ["lm-eval-passk", "merge", *job_dirs, "--out", str(Path(study.request.output_path) / "merged")]


def _budget_line(study: Study, step: NextStep) -> str:
    used = sum(n for n, _ in step.counts.values())
    if not step.counts:
        return "# no round finished yet"
    fixed = study.n_max * len(step.counts)
    return f"# {len(step.counts)} problems, {used} samples drawn = {used / fixed:.0%} of fixed n = {study.n_max} ({fixed})"


def shell_script(study: Study, step: NextStep) -> str:
    """The next round as a shell script (each job guarded by its done test), or the merge."""
    lines = ["#!/bin/bash", f"# lm-eval-passk adapt: {study.request.task}, n_max = {study.n_max}", _budget_line(study, step)]
    if step.done and len(step.job_dirs) == 1:  # done after round 1: that run is the study
        lines += [f"# study done after 1 round: nothing to merge; report {step.job_dirs[0]}"]
        return "\n".join(lines) + "\n"
    if step.done:
        lines += [f"# study done after {step.round} round(s): merge them", " ".join(map(shlex.quote, merge_argv(study, step.job_dirs)))]
        return "\n".join(lines) + "\n"
    lines += [
        f"# round {step.round}: {len(step.jobs)} job(s); then run `lm-eval-passk adapt` again with the same arguments",
        "set -eu",
    ]
    for job in step.jobs:
        size = _job_size(job)
        what = f"{size} problem(s)" if size else "every problem"
        done = f'[ -n "$(ls {shlex.quote(job.output_dir)}/*/results_*.json 2>/dev/null)" ]'
        lines += [
            f"# {job.samples} more samples of {what}, seed {job.seed}",
            f"{done} || {' '.join(shlex.quote(part) for part in ['lm_eval', *job.argv])}",
        ]
    return "\n".join(lines) + "\n"


def slurm_script(study: Study, step: NextStep) -> str:
    """The next round as a Slurm array script (array index = job), or the merge when done."""
    if step.done:
        return shell_script(study, step)
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name=passk-adapt-{step.round}",
        f"#SBATCH --array=0-{len(step.jobs) - 1}",
        f"# lm-eval-passk adapt: {study.request.task}, n_max = {study.n_max}, round {step.round}",
        _budget_line(study, step),
        "# when every job has finished, run `lm-eval-passk adapt` again with the same arguments",
        "set -eu",
        'case "${SLURM_ARRAY_TASK_ID:?set by sbatch --array: the job index}" in',
    ]
    for index, job in enumerate(step.jobs):
        lines += [
            f"  {index}) output={shlex.quote(job.output_dir)}",
            f"     args=({' '.join(shlex.quote(part) for part in job.argv)}) ;;",
        ]
    lines += [
        '  *) echo "SLURM_ARRAY_TASK_ID=$SLURM_ARRAY_TASK_ID is not a job of this round" >&2; exit 2 ;;',
        "esac",
        'if [ -n "$(ls "$output"/*/results_*.json 2>/dev/null)" ]; then exit 0; fi',
        'exec lm_eval "${args[@]}"',
    ]
    return "\n".join(lines) + "\n"


def _job_size(job: Job) -> int:
    """Problems in a job's ids file (0: every problem, round 1)."""
    metadata = json.loads(job.argv[job.argv.index("--metadata") + 1])
    ids = metadata.get("problems")
    return len(Path(ids).read_text().splitlines()) if ids else 0
