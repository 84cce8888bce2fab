"""The Slurm commands this package runs (sbatch, squeue, scontrol, sacct, scancel), each
wrapped to return parsed values or raise SlurmError with the command's own message."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

# Job states in which a job still holds (or waits for) a place in the queue.
LIVE_STATES = frozenset({
    "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD",
    "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED",
})  # fmt: skip


class SlurmError(ValueError):
    """A Slurm command failed or is not installed; the message says which and why."""


@dataclass(frozen=True)
class TaskState:
    """Where one job (or one array task) stands in Slurm."""

    job_id: str  # the array's job id, or the job's own
    task: int | None  # the array index; None for a job outside an array
    state: str  # PENDING, RUNNING, COMPLETED, FAILED, ...
    reason: str = ""  # why a pending job waits (Dependency, DependencyNeverSatisfied, ...)
    exit_code: str = ""  # "status:signal" of an ended job, where Slurm still knows it

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES


def _run(argv: Sequence[str]) -> str:
    if shutil.which(argv[0]) is None:
        raise SlurmError(f"{argv[0]} not found on PATH: --submit needs Slurm's commands (docs/SCALE.md)")
    result = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise SlurmError(f"{argv[0]} failed (exit {result.returncode}): {message[-1] if message else 'no output'}")
    return result.stdout


def sbatch(argv: Sequence[str]) -> str:
    """Submit with `sbatch --parsable ARGV`; the new job's id."""
    return _run(["sbatch", "--parsable", *argv]).strip().split(";")[0]


def scancel(job_id: str) -> None:
    _run(["scancel", job_id])


def queued(job_ids: Sequence[str]) -> list[TaskState]:
    """This user's jobs and array tasks among `job_ids` that the queue still holds."""
    if not job_ids:
        return []
    # All of the user's jobs, filtered here: `squeue -j` fails when none of the ids is queued.
    out = _run(["squeue", "--me", "--noheader", "--array", "--format=%F|%K|%T|%r"])
    wanted, states = set(job_ids), []
    for line in out.splitlines():
        job, task, state, reason = (line.split("|") + ["", "", "", ""])[:4]
        if job in wanted:
            states.append(TaskState(job, int(task) if task.isdigit() else None, state, reason))
    return states


def ended(job_id: str) -> list[TaskState]:
    """The final states of a job's tasks, from accounting (sacct) where the cluster keeps it,
    else from the controller's memory (scontrol, a few minutes after the end); [] if neither."""
    try:
        out = _run(["sacct", "--noheader", "--parsable2", "--allocations", "--jobs", job_id,
                    "--format=JobID,State,ExitCode"])  # fmt: skip
    except SlurmError:
        out = ""
    states = []
    for line in out.splitlines():
        job, _, task = line.split("|")[0].partition("_")
        state, code = line.split("|")[1:3]
        if task.isdigit():
            states.append(TaskState(job, int(task), state.split()[0], exit_code=code))
        elif not task:
            states.append(TaskState(job, None, state.split()[0], exit_code=code))
    if states:
        return states
    try:
        out = _run(["scontrol", "--oneliner", "show", "job", job_id])
    except SlurmError:
        return []
    for line in out.splitlines():
        fields = dict(part.partition("=")[::2] for part in line.split())
        task = fields.get("ArrayTaskId", "")
        states.append(TaskState(
            job_id, int(task) if task.isdigit() else None, fields.get("JobState", ""),
            fields.get("Reason", ""), fields.get("ExitCode", ""),
        ))  # fmt: skip
    return states
