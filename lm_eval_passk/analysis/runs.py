"""Read lm-eval output directories: find their files, stream samples, count correct samples.

A run is an lm-eval `--output_path` directory: results_*.json and samples_*.jsonl (or
.jsonl.gz) at any depth below it. Samples files reach gigabytes at n = 1024, so they are
read line by line and only each problem's (n, c) is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lm_eval_passk.grading import BENCHMARKS as GRADED_BENCHMARKS
from lm_eval_passk.grading import grade_many
from lm_eval_passk.grading.extract import last_boxed
from lm_eval_passk.jsonl import json_lines, open_text
from lm_eval_passk.judge.journal import read_votes
from lm_eval_passk.metrics.cot import RULES, accepted
from lm_eval_passk.tasks._common.dataset import grading_target

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
    # With a judge's journal beside the samples: per rule, each problem's count of
    # responses whose answer is correct and whose reasoning the judge accepts.
    cot: dict[str, dict[str, int]] | None = None
    judge_counts: dict[str, int] = field(default_factory=dict)  # judged, unjudged, abstentions

    @property
    def n(self) -> int:
        """Samples per problem (the smallest, should problems differ)."""
        return min(n for n, _ in self.problems.values())


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the JSON rows of a samples file; a bad line is an error naming file and line."""
    for _, row in json_lines(path):
        yield row


def _latest_by_task(run_dir: Path) -> dict[str, tuple[str, Path]]:
    latest: dict[str, tuple[str, Path]] = {}
    for path in sorted(run_dir.rglob("samples_*.jsonl*")):
        match = SAMPLES_NAME.match(path.name)
        if match and (match["task"] not in latest or match["date"] > latest[match["task"]][0]):
            latest[match["task"]] = (match["date"], path)
    return latest


def latest_samples(run_dir: Path) -> dict[str, Path]:
    """The latest samples file of each task under a run directory."""
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: not a directory")
    return {task: path for task, (_, path) in _latest_by_task(run_dir).items()}


def model_name(run_dir: Path, samples_path: Path, date: str) -> str:
    """The model a samples file belongs to, from the results file written with it."""
    for path in sorted(samples_path.parent.glob(f"results_{date}.json*")):
        with open_text(path) as file:
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


def gold_answer(row: dict[str, Any]) -> Any:
    """The grading target: our tasks log it in the doc; lm-eval's own tasks log a target
    that may be a whole solution (GSM8K's ends in `#### n`, MATH's boxes its answer)."""
    doc = row.get("doc")
    if isinstance(doc, dict) and "passk_task" in doc:
        return grading_target(doc)
    if isinstance(doc, dict) and {"prompt", "test", "entry_point"} <= doc.keys():
        return doc  # a HumanEval-style problem: its record is what programs are checked by
    target = str(row.get("target", ""))
    if "####" in target:
        return target.rsplit("####", 1)[1].strip().replace(",", "")
    return last_boxed(target) or target.strip()


def responses_of(row: dict[str, Any]) -> list[str]:
    """All responses of a row: [[r1, ..., rn]] for a repeated request, [[r]] per request;
    each after the text our task opened the model's turn with, if any."""
    doc = row.get("doc")
    prefix = doc.get("passk_response_prefix", "") if isinstance(doc, dict) else ""
    return [prefix + r for request in row["resps"] for r in (request if isinstance(request, list) else [request])]


def problem_id(row: dict[str, Any]) -> str:
    doc = row.get("doc")
    if isinstance(doc, dict) and "problem_id" in doc:
        return str(doc["problem_id"])
    return str(row["doc_id"])


@dataclass
class GradedRow:
    """One samples row with a correct/wrong flag per response."""

    problem_id: str
    doc: dict[str, Any]
    responses: list[str]
    correct: list[bool]


def _logged_verdicts(row: dict[str, Any]) -> list[bool] | None:
    """The per-response verdicts our filter logged (JSON strings), if this row has them."""
    if not isinstance(row.get("doc"), dict) or "passk_task" not in row["doc"]:
        return None
    (verdicts,) = row["filtered_resps"]
    return [bool(json.loads(verdict)["correct"]) for verdict in verdicts]


def graded_rows(
    path: Path, task: str, regrade: bool = False, grader: str = "default"
) -> Iterator[GradedRow]:
    """Stream a samples file as graded rows: the verdicts our tasks logged, or, with
    `regrade` or when there are none (a run written by another tool), a fresh grading of
    the logged responses, a chunk of rows at a time."""
    pending: list[tuple[dict[str, Any], list[str]]] = []

    def graded_pending() -> Iterator[GradedRow]:
        benchmark = benchmark_of(task, pending[0][0])
        targets = [gold_answer(row) for row, _ in pending]
        flat = [(r, t) for (row, responses), t in zip(pending, targets) for r in responses]
        verdicts = iter(grade_many(benchmark, [r for r, _ in flat], [t for _, t in flat], grader=grader))
        for row, responses in pending:
            correct = [next(verdicts).correct for _ in responses]
            yield GradedRow(problem_id(row), row.get("doc") or {}, responses, correct)
        pending.clear()

    for line, row in enumerate(read_rows(path), start=1):
        try:
            responses = responses_of(row)
            logged = None if regrade else _logged_verdicts(row)
            identity = problem_id(row)
        except (KeyError, ValueError, TypeError) as error:
            raise RunError(f"{path}, line {line}: unexpected row ({type(error).__name__}: {error})") from None
        if logged is not None:
            yield GradedRow(identity, row["doc"], responses, logged)
            continue
        pending.append((row, responses))
        if len(pending) >= REGRADE_CHUNK_ROWS:
            yield from graded_pending()
    if pending:
        yield from graded_pending()


def read_task_run(
    path: Path, task: str, model: str, regrade: bool = False, grader: str = "default",
    judge: str | None = None,
) -> TaskRun:
    """Each problem's (n, c) from a samples file (see `graded_rows`), and the CoT counts
    when a judge's journal lies beside it."""
    run = TaskRun(model=model, task=task, source=path)
    votes = read_votes(path, judge)
    if votes is not None:
        run.cot = {rule: {} for rule in RULES}
        run.judge_counts = {"judged": 0, "unjudged": 0, "abstentions": 0}
    for row in graded_rows(path, task, regrade, grader):
        n, c = run.problems.get(row.problem_id, (0, 0))
        run.problems[row.problem_id] = (n + len(row.correct), c + sum(row.correct))
        if run.cot is None or votes is None:
            continue
        for rule in RULES:
            run.cot[rule].setdefault(row.problem_id, 0)
        for index, correct in enumerate(row.correct):
            if not correct:
                continue
            response_votes = votes.get((row.problem_id, index))
            if not response_votes:
                run.judge_counts["unjudged"] += 1
                continue
            run.judge_counts["judged"] += 1
            run.judge_counts["abstentions"] += response_votes.count("abstain")
            for rule in RULES:
                run.cot[rule][row.problem_id] += accepted(response_votes, rule)
    if not run.problems:
        raise RunError(f"{path}: no samples")
    return run


def read_run(
    run_dir: Path, regrade: bool = False, grader: str = "default", judge: str | None = None
) -> list[TaskRun]:
    """Every task of one run directory (the latest samples file of each task)."""
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: not a directory")
    latest = _latest_by_task(run_dir)
    if not latest:
        raise RunError(f"{run_dir}: no samples_*.jsonl files (was lm_eval run with --log_samples?)")
    return [
        read_task_run(path, task, model_name(run_dir, path, date), regrade, grader, judge)
        for task, (date, path) in sorted(latest.items())
    ]
