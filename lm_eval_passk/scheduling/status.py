"""`lm-eval-passk status OUTPUT`: where each shard of a submitted plan and its merge stand,
from the files (results written or not) and from Slurm (queued, running, failed)."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lm_eval_passk.scheduling import slurm
from lm_eval_passk.scheduling.submit import (
    LOGS,
    MERGE_LOG,
    read_submissions,
    shard_done,
)

# Slurm's end states that mean the job did not succeed.
FAILED_STATES = frozenset({
    "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
})  # fmt: skip


@dataclass(frozen=True)
class ShardStatus:
    name: str  # shard-NNN, or "merge"
    state: str  # done, pending, running, failed, missing (merge: also stale, not run)
    detail: str = ""


def _results_time(directory: str | Path) -> float:
    return max((path.stat().st_mtime for path in Path(directory).glob("*/results_*.json")), default=0.0)


def plan_status(output_path: str | Path) -> list[ShardStatus]:
    """Every shard's status, then the merge's, for the plan submitted under `output_path`."""
    submissions = read_submissions(output_path)
    if not submissions:
        raise ValueError(
            f"{output_path}: no submissions.jsonl: nothing was submitted here with "
            "`lm-eval-passk plan ... --format slurm --submit`"
        )
    latest = submissions[-1]
    jobs = [job for s in submissions for job in (s.array_job, s.merge_job) if job]
    queued = {(state.job_id, state.task): state for state in slurm.queued(jobs)}
    ended: dict[str, dict[int | None, slurm.TaskState]] = {}
    logs = Path(output_path) / LOGS

    def end_state(job: str, task: int | None) -> slurm.TaskState | None:
        if job not in ended:
            ended[job] = {state.task: state for state in slurm.ended(job)}
        return ended[job].get(task)

    statuses = []
    for index, directory in enumerate(latest.shards):
        name = posixpath.basename(directory)
        if shard_done(directory):
            statuses.append(ShardStatus(name, "done"))
            continue
        tried = [s for s in submissions if s.array_job and index in s.indexes]
        if not tried:
            statuses.append(ShardStatus(name, "missing", "never submitted"))
            continue
        job = tried[-1].array_job
        assert job is not None
        task = f"Slurm job {job}_{index}"
        if (state := queued.get((job, index))) and state.live:
            reason = f" ({state.reason})" if state.reason and state.reason != "None" else ""
            statuses.append(ShardStatus(name, state.state.lower(), f"{task}{reason}"))
            continue
        log = logs / f"{name}.log"
        ended_as = end_state(job, index)
        if ended_as is None:
            statuses.append(ShardStatus(name, "missing", f"no results; Slurm no longer knows {task}; log {log}"))
        elif ended_as.state in FAILED_STATES or ended_as.exit_code not in ("", "0:0"):
            why = f" ({ended_as.reason})" if ended_as.reason not in ("", "None") else ""
            statuses.append(ShardStatus(name, "failed", f"{task} {ended_as.state}{why}, exit {ended_as.exit_code}; log {log}"))
        else:
            statuses.append(ShardStatus(name, "missing", f"{task} {ended_as.state} but its results are gone"))
    statuses.append(_merge_status(latest.merged, latest.merge_job, latest.shards, queued, end_state, logs))
    return statuses


def _merge_status(
    merged: str,
    job: str,
    shards: list[str],
    queued: dict[tuple[str, int | None], slurm.TaskState],
    end_state: Callable[[str, int | None], slurm.TaskState | None],
    logs: Path,
) -> ShardStatus:
    state = queued.get((job, None))
    if state is not None and state.live:
        reason = f" ({state.reason})" if state.reason and state.reason != "None" else ""
        hint = "; a shard failed: submit again to rerun it" if state.reason == "DependencyNeverSatisfied" else ""
        return ShardStatus("merge", state.state.lower(), f"Slurm job {job}{reason}{hint}")
    if shard_done(merged):
        newer = [posixpath.basename(s) for s in shards if _results_time(s) > _results_time(merged)]
        if newer:
            return ShardStatus("merge", "stale", f"{merged} is older than {', '.join(newer)}: submit again")
        return ShardStatus("merge", "done", merged)
    ended_as = end_state(job, None)
    detail = f"Slurm job {job} {ended_as.state}; log {logs / MERGE_LOG}" if ended_as else f"Slurm job {job}"
    return ShardStatus("merge", "failed" if ended_as and ended_as.state in FAILED_STATES else "not run", detail)


def status_lines(statuses: list[ShardStatus]) -> list[str]:
    """One line per shard and for the merge, then the counts."""
    width = max(len(status.name) for status in statuses)
    lines = [f"{s.name:<{width}}  {s.state:<8} {s.detail}".rstrip() for s in statuses]
    shards = statuses[:-1]
    counts: dict[str, int] = {}
    for status in shards:
        counts[status.state] = counts.get(status.state, 0) + 1
    summary = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    lines.append(f"{len(shards)} shard(s): {summary}; merge {statuses[-1].state}")
    return lines
