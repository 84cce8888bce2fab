"""Read lm-eval output directories: find their files, stream samples, count correct samples.

A run is an lm-eval `--output_path` directory: results_*.json and samples_*.jsonl (or
.jsonl.gz) at any depth below it. Samples files reach gigabytes at n = 1024, so they are
read line by line and only each problem's (n, c) is kept.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lm_eval_passk.grading import TASKS as GRADED_BENCHMARKS
from lm_eval_passk.grading import grade_many
from lm_eval_passk.grading.extract import last_boxed

_DATE = r"\d{4}-\d{2}-\d{2}T[0-9.\-]+"
SAMPLES_NAME = re.compile(rf"^samples_(?P<task>.+)_(?P<date>{_DATE})\.jsonl(?:\.gz)?$")
RESULTS_NAME = re.compile(rf"^results_(?P<date>{_DATE})\.json(?:\.gz)?$")
# Rows graded together when regrading: bounds memory, keeps the grading pool busy.
REGRADE_CHUNK_ROWS = 64


class RunError(ValueError):
    """A run directory or file that cannot be read; the message names the file (and line)."""


@dataclass
class TaskRun:
    """One model's samples on one task: each problem's number of samples n and correct c."""

    model: str
    task: str
    source: Path
    problems: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Samples per problem (the smallest, should problems differ)."""
        return min(n for n, _ in self.problems.values())


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the JSON rows of a samples file; a bad line is an error naming file and line."""
    with _open(path) as lines:
        line_number = 0
        try:
            for line_number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise RunError(
                        f"{path}, line {line_number}: not valid JSON ({error.msg}); "
                        "the file may be truncated"
                    ) from None
                if not isinstance(row, dict):
                    raise RunError(f"{path}, line {line_number}: expected a JSON object")
                yield row
        except (EOFError, gzip.BadGzipFile, OSError) as error:
            raise RunError(f"{path}, after line {line_number}: {error}") from None


def _latest_by_task(run_dir: Path) -> dict[str, tuple[str, Path]]:
    latest: dict[str, tuple[str, Path]] = {}
    for path in sorted(run_dir.rglob("samples_*.jsonl*")):
        match = SAMPLES_NAME.match(path.name)
        if match and (match["task"] not in latest or match["date"] > latest[match["task"]][0]):
            latest[match["task"]] = (match["date"], path)
    return latest


def model_name(run_dir: Path, samples_path: Path, date: str) -> str:
    """The model a samples file belongs to, from the results file written with it."""
    for path in sorted(samples_path.parent.glob(f"results_{date}.json*")):
        with _open(path) as file:
            try:
                results = json.load(file)
            except json.JSONDecodeError as error:
                raise RunError(f"{path}: not valid JSON ({error.msg})") from None
        name = results.get("model_name") or results.get("config", {}).get("model_args")
        if name:
            return str(name)
    return run_dir.resolve().name


def benchmark_of(task: str, row: dict[str, Any]) -> str:
    """Which grader applies: our tasks log it per row; otherwise read it off the task name."""
    logged = row.get("doc", {}).get("passk_task") if isinstance(row.get("doc"), dict) else None
    if logged:
        return logged
    for benchmark in sorted(GRADED_BENCHMARKS, key=len, reverse=True):
        if task.startswith(benchmark) or task.replace("_", "").startswith(benchmark.replace("_", "")):
            return benchmark
    raise RunError(
        f"task {task!r}: cannot tell which grader applies (known: {', '.join(GRADED_BENCHMARKS)})"
    )


def gold_answer(row: dict[str, Any]) -> str:
    """The gold answer: our tasks log it in the doc; lm-eval's own tasks log a target that
    may be a whole solution (GSM8K's ends in `#### n`, MATH's boxes its answer)."""
    doc = row.get("doc")
    if isinstance(doc, dict) and "answer" in doc and "passk_task" in doc:
        return str(doc["answer"])
    target = str(row.get("target", ""))
    if "####" in target:
        return target.rsplit("####", 1)[1].strip().replace(",", "")
    return last_boxed(target) or target.strip()


def responses_of(row: dict[str, Any]) -> list[str]:
    """All responses of a row: [[r1, ..., rn]] for a repeated request, [[r]] per request."""
    return [r for request in row["resps"] for r in (request if isinstance(request, list) else [request])]


def problem_id(row: dict[str, Any]) -> str:
    doc = row.get("doc")
    if isinstance(doc, dict) and "problem_id" in doc:
        return str(doc["problem_id"])
    return str(row["doc_id"])


def read_task_run(
    path: Path, task: str, model: str, regrade: bool = False, grader: str = "default"
) -> TaskRun:
    """Each problem's (n, c) from a samples file: the counts our tasks logged, or, with
    `regrade` or when they are missing, a fresh grading of the logged responses."""
    run = TaskRun(model=model, task=task, source=path)
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if not pending:
            return
        benchmark = benchmark_of(task, pending[0])
        responses, targets, owners = [], [], []
        for row in pending:
            row_responses = responses_of(row)
            responses += row_responses
            targets += [gold_answer(row)] * len(row_responses)
            owners += [problem_id(row)] * len(row_responses)
        verdicts = grade_many(benchmark, responses, targets, grader=grader)
        for owner, verdict in zip(owners, verdicts):
            n, c = run.problems.get(owner, (0, 0))
            run.problems[owner] = (n + 1, c + verdict.correct)
        pending.clear()

    for index, row in enumerate(read_rows(path), start=1):
        try:
            if not regrade and "n_correct" in row and "n_samples" in row:
                run.problems[problem_id(row)] = (int(row["n_samples"]), int(row["n_correct"]))
                continue
            row["resps"]  # noqa: B018 - fail here, naming the line, when it is missing
        except KeyError as error:
            raise RunError(f"{path}, line {index}: missing field {error}") from None
        pending.append(row)
        if len(pending) >= REGRADE_CHUNK_ROWS:
            flush()
    flush()
    if not run.problems:
        raise RunError(f"{path}: no samples")
    return run


def read_run(run_dir: Path, regrade: bool = False, grader: str = "default") -> list[TaskRun]:
    """Every task of one run directory (the latest samples file of each task)."""
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: not a directory")
    latest = _latest_by_task(run_dir)
    if not latest:
        raise RunError(f"{run_dir}: no samples_*.jsonl files (was lm_eval run with --log_samples?)")
    return [
        read_task_run(path, task, model_name(run_dir, path, date), regrade, grader)
        for task, (date, path) in sorted(latest.items())
    ]
