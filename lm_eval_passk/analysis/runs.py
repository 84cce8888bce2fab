"""Read lm-eval output directories into per-problem counts: each task's (n, c) per problem
and, where a judge's journal lies beside the samples, the CoT counts.

Files are found and rows read through lm_eval_passk.run_format. Samples files reach
gigabytes at n = 1024, so they are streamed and only each problem's (n, c) is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lm_eval_passk.analysis.majority import UNKNOWN_NOTE, AnswerTally, VoteCounts
from lm_eval_passk.metrics.cot import RULES, accepted
from lm_eval_passk.run_format import (
    RunError,
    RunVersions,
    SamplesFile,
    benchmark_of,
    graded_rows,
    grading_target,
    problem_fields,
    problem_text,
    read_votes,
    recorded_versions,
    samples_files,
)

__all__ = ["RunError", "TaskRun", "read_run", "read_task_run"]


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
    judge: str | None = None  # whose votes `cot` counts
    grader: str | None = None  # the grader the run recorded (None: not one of our tasks)
    temperature: float | None = None  # the sampling temperature logged (None: not logged)
    # Each problem's descriptive fields (level, subject, ...), for `report --by`.
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    # Each problem's (answer, correct) counts, grouped into votes only when maj@k is asked
    # for (the grouping may call the symbolic grader; leaderboard and breakdowns never need it).
    tally: AnswerTally | None = None
    # Each problem's statement, and the versions the results file recorded: what a
    # published leaderboard shows per problem and in its footer.
    texts: dict[str, str] = field(default_factory=dict)
    versions: RunVersions | None = None
    # Each problem's correct flags, one per response in the samples' order (response
    # lengths split by correct and incorrect, analysis/lengths.py).
    correct_flags: dict[str, list[bool]] = field(default_factory=dict)

    @cached_property
    def votes(self) -> dict[str, VoteCounts]:
        """Each problem's answer classes; empty where there is a majority note instead."""
        return self.tally.vote_counts() if self.tally is not None else {}

    @property
    def majority_note(self) -> str | None:
        """Why there is no maj@k (code tasks, answers not logged), or None."""
        return self.tally.note() if self.tally is not None else UNKNOWN_NOTE

    @property
    def n(self) -> int:
        """Samples per problem (the smallest, should problems differ)."""
        return min(n for n, _ in self.problems.values())


def read_task_run(
    samples: SamplesFile, regrade: bool = False, grader: str | None = None,
    judge: str | None = None,
) -> TaskRun:
    """Each problem's (n, c) from a samples file (see `run_format.graded_rows`; `grader`
    None regrades with the grader the run recorded), and the CoT counts when a judge's
    journal lies beside it."""
    run = TaskRun(
        model=samples.model, task=samples.task, source=samples.path,
        grader=samples.settings.grader if samples.settings else None,
        temperature=samples.temperature, versions=recorded_versions(samples),
    )
    votes = read_votes(samples.path, judge)
    if votes is not None:
        run.cot = {rule: {} for rule in RULES}
        run.judge_counts = {"judged": 0, "unjudged": 0, "abstentions": 0}
        run.judge = votes.judge
    try:
        benchmark: str | None = benchmark_of(samples.task, samples.settings)
    except RunError:
        benchmark = None  # an older run of ours names it in each doc: no majority vote
    tally = AnswerTally(benchmark, grader or run.grader or "default")
    for row in graded_rows(samples, regrade, grader):
        tally.add(row, grading_target(row.doc) if benchmark == "mathvista" else None)
        n, c = run.problems.get(row.problem_id, (0, 0))
        run.problems[row.problem_id] = (n + len(row.correct), c + sum(row.correct))
        run.correct_flags.setdefault(row.problem_id, []).extend(row.correct)
        if row.problem_id not in run.fields:
            run.fields[row.problem_id] = problem_fields(row.doc)
            run.texts[row.problem_id] = problem_text(row.doc)
        if run.cot is None or votes is None:
            continue
        for rule in RULES:
            run.cot[rule].setdefault(row.problem_id, 0)
        for index, correct in enumerate(row.correct):
            if not correct:
                continue
            response_votes = votes.by_response.get((row.problem_id, index))
            if not response_votes:
                run.judge_counts["unjudged"] += 1
                continue
            run.judge_counts["judged"] += 1
            run.judge_counts["abstentions"] += response_votes.count("abstain")
            for rule in RULES:
                run.cot[rule][row.problem_id] += accepted(response_votes, rule)
    if not run.problems:
        raise RunError(f"{samples.path}: no samples")
    run.tally = tally
    return run


def read_run(
    run_dir: Path, regrade: bool = False, grader: str | None = None, judge: str | None = None
) -> list[TaskRun]:
    """Every task of one run directory (the latest samples file of each task). With
    `judge`, at least one task must hold that judge's votes."""
    found = samples_files(run_dir)
    if not found:
        raise RunError(f"{run_dir}: no samples_*.jsonl files (was lm_eval run with --log_samples?)")
    runs = [read_task_run(samples, regrade, grader, judge) for samples in found.values()]
    if judge is not None and not any(run.judge == judge for run in runs):
        raise RunError(f"--judge {judge}: {run_dir} has no judge journal (run `lm-eval-passk judge` first)")
    return runs
