"""The grading engine: every check that can be slow runs here, deduplicated, in parallel,
under a hard per-item timeout.

Workers are separate `python -m lm_eval_passk.grading._worker` processes speaking JSON
lines over pipes, not multiprocessing: a stuck item is ended by killing its worker (no
signal-based timeout, which math-verify's is and which only works on the main thread), a
worker that dies is replaced, and the caller's `__main__` is never re-imported. A check
is named `package.module:function`; it takes and returns JSON values.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import resource
import selectors
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from lm_eval_passk.progress import Progress

# A worker may not grow past this: an expansion bomb ends in a MemoryError, not in swap.
WORKER_MEMORY_BYTES = 4 * 1024**3
# Progress bars only for batches long enough to be worth watching (symbolic checks take
# milliseconds; callers whose jobs take seconds, like running programs, pass a lower one).
PROGRESS_THRESHOLD = 2000
# What a worker warms up before its first job, by what it will run. Math and programs get
# pools of their own because their warm-ups do not belong in each other's runs: a program
# worker's warm-up starts a sandbox (and warns loudly on every worker of a math-only run
# where bubblewrap is missing), a math worker's imports sympy and the LaTeX parser (65 MB
# and 0.5 s a worker against 28 MB and 0.25 s for a program worker, measured on the
# development machine); a worker killed at a math timeout would pay both to be replaced.
MATH_PRELOAD = ("lm_eval_passk.grading.equivalence",)
PROGRAM_PRELOAD = ("lm_eval_passk.grading.code.run",)


@dataclass(frozen=True)
class Job:
    """One call `check(*args)`; equal jobs are run once."""

    check: str  # "package.module:function", importable in the worker
    args: tuple[Hashable, ...]


@dataclass(frozen=True)
class Outcome:
    status: str  # "ok", "timeout" or "error"
    value: Any = None
    error: str | None = None


def machine_workers() -> int:
    """One worker per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _limit_worker_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))


class _Worker:
    def __init__(self, preload: tuple[str, ...]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lm_eval_passk.grading._worker", *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            preexec_fn=_limit_worker_memory,
            start_new_session=True,  # a Ctrl-C in the terminal reaches the parent only
        )
        self.buffer = b""
        self.ready = False  # the worker says so once its imports are done
        self.job_index: int | None = None
        self.deadline = 0.0

    def send(self, job_index: int, job: Job, timeout: float) -> None:
        line = json.dumps({"check": job.check, "args": list(job.args)}) + "\n"
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode())
        self.process.stdin.flush()
        self.job_index = job_index
        self.deadline = time.monotonic() + timeout

    def read_lines(self) -> list[bytes] | None:
        """Complete lines now available; None at end of file (the worker died)."""
        assert self.process.stdout is not None
        chunk = os.read(self.process.stdout.fileno(), 1 << 16)
        if not chunk:
            return None
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return lines

    def kill(self) -> None:
        """End the worker and anything it started (its own process group)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class Engine:
    """A pool of grading workers, started on first use and kept for later batches."""

    def __init__(self, workers: int | None = None, preload: tuple[str, ...] = MATH_PRELOAD) -> None:
        self.size = workers or machine_workers()
        self.preload = preload  # grading modules each worker warms up before its first job
        self._workers: list[_Worker] = []

    def run(
        self,
        jobs: Sequence[Job],
        timeout: float,
        description: str = "grading",
        progress_threshold: int = PROGRESS_THRESHOLD,
    ) -> list[Outcome]:
        """Run every distinct job once; a job past `timeout` seconds is killed and reported
        as a timeout, a worker that dies as an error. Never raises for a job's sake."""
        unique = list(dict.fromkeys(jobs))
        outcomes = self._run_unique(unique, timeout, description, progress_threshold)
        by_job = dict(zip(unique, outcomes))
        return [by_job[job] for job in jobs]

    def _run_unique(
        self, jobs: list[Job], timeout: float, description: str, progress_threshold: int
    ) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(jobs)
        if not jobs:
            return []
        pending = deque(range(len(jobs)))
        while len(self._workers) < min(self.size, len(jobs)):
            self._workers.append(_Worker(self.preload))
        selector = selectors.DefaultSelector()
        for worker in self._workers:
            selector.register(worker.process.stdout, selectors.EVENT_READ, worker)  # type: ignore[arg-type]
        progress = Progress(description, total=len(jobs), unit="checks", disable=len(jobs) < progress_threshold)
        try:
            idle = [worker for worker in self._workers if worker.ready]
            while pending or any(w.job_index is not None for w in self._workers):
                while pending and idle:
                    worker = idle.pop()
                    index = pending.popleft()
                    worker.send(index, jobs[index], timeout)
                busy = [w for w in self._workers if w.job_index is not None]
                wait = max(0.0, min(w.deadline for w in busy) - time.monotonic()) if busy else None
                for key, _ in selector.select(timeout=wait):
                    worker = key.data
                    lines = worker.read_lines()
                    if lines is None and not worker.ready:
                        raise RuntimeError(
                            "a grading worker exited before it was ready (its error is above); "
                            f"command: {' '.join(worker.process.args)}"
                        )
                    if lines is None:  # the worker died mid-job (e.g. killed by the OS)
                        self._finish(worker, outcomes, Outcome("error", error="worker died"))
                        self._replace(worker, selector, idle)
                        progress.update(1)
                        continue
                    for line in lines:
                        reply = json.loads(line)
                        if reply["status"] == "ready":
                            worker.ready = True
                        else:
                            self._finish(worker, outcomes, Outcome(**reply))
                            progress.update(1)
                        idle.append(worker)
                now = time.monotonic()
                for worker in [w for w in self._workers if w.job_index is not None]:
                    if now >= worker.deadline:
                        self._finish(worker, outcomes, Outcome("timeout"))
                        self._replace(worker, selector, idle)
                        progress.update(1)
        finally:
            progress.close()
            selector.close()
        return [outcome if outcome is not None else Outcome("error") for outcome in outcomes]

    @staticmethod
    def _finish(worker: _Worker, outcomes: list[Outcome | None], outcome: Outcome) -> None:
        if worker.job_index is not None:
            outcomes[worker.job_index] = outcome
        worker.job_index = None

    def _replace(self, worker: _Worker, selector: selectors.BaseSelector, idle: list) -> None:
        """Kill `worker` and start a fresh one; it joins `idle` once it says it is ready."""
        if worker in idle:
            idle.remove(worker)
        selector.unregister(worker.process.stdout)  # type: ignore[arg-type]
        worker.kill()
        fresh = _Worker(self.preload)
        self._workers[self._workers.index(worker)] = fresh
        selector.register(fresh.process.stdout, selectors.EVENT_READ, fresh)  # type: ignore[arg-type]

    def close(self) -> None:
        for worker in self._workers:
            worker.kill()
        self._workers = []


@functools.cache  # keyed by `preload`: required and positional, so one preload is one key
def shared_engine(preload: tuple[str, ...], /) -> Engine:
    """The process-wide engine whose workers warm up `preload` (MATH_PRELOAD or
    PROGRAM_PRELOAD): one per preload, its workers started on first use, one per CPU;
    closed at interpreter exit."""
    engine = Engine(preload=preload)
    atexit.register(engine.close)
    return engine
