"""Per-problem accuracy c/n: its histogram per run, added to the report and compare documents.

Yue et al. 2025 (accuracy histograms) show that RL training moves problems to the two
extremes: solved by every sample (c/n = 1) or by none (c/n = 0). The bins therefore keep
both extremes as bins of their own: folded into (0, 0.1] or (0.9, 1], a problem never
solved would look like one solved now and then, and that difference is what pass@k at
large k measures. Between them, ten bins of width 0.1, closed on the right.

Which problems a run solves at k = n (c >= 1) is already in each summary (`solved_ids`),
and compare's `coverage` splits them into both / base only / rl only: the solvable-problems
tables are drawn from those, not recounted here.
"""

from __future__ import annotations

from typing import Any

from lm_eval_passk.analysis.runs import TaskRun

INTERIOR_BINS = 10  # (0, 0.1], (0.1, 0.2], ..., (0.9, 1): the paper's width
# Stable JSON keys, in order: "0", "(0, 0.1]", ..., "(0.8, 0.9]", "(0.9, 1)", "1".
BINS = (
    ["0"]
    + [f"({i / 10:g}, {(i + 1) / 10:g}]" for i in range(INTERIOR_BINS - 1)]
    + [f"({(INTERIOR_BINS - 1) / 10:g}, 1)", "1"]
)


def accuracy_bin(n: int, c: int) -> str:
    """The bin of accuracy c/n, computed in integers (0.3 is not exact in floating point)."""
    if c == 0:
        return BINS[0]
    if c >= n:
        return BINS[-1]
    return BINS[-(-INTERIOR_BINS * c // n)]  # ceil(10 c / n): 1 .. 10 for 0 < c < n


def accuracy_histogram(run: TaskRun, ids: list[str]) -> dict[str, int]:
    """Number of problems of `ids` in each accuracy bin (every bin, zeros included)."""
    counts = dict.fromkeys(BINS, 0)
    for problem in ids:
        counts[accuracy_bin(*run.problems[problem])] += 1
    return counts


def _task_runs(runs: list[TaskRun]) -> dict[tuple[str, str], TaskRun]:
    return {(run.task, run.model): run for run in runs}


def add_to_report(document: dict[str, Any], runs: list[TaskRun]) -> None:
    """Add `accuracy_histogram` to every model summary of a report document."""
    by_key = _task_runs(runs)
    for task, models in document["tasks"].items():
        for model, summary in models.items():
            run = by_key[(task, model)]
            summary["accuracy_histogram"] = accuracy_histogram(run, sorted(run.problems))


def add_to_compare(document: dict[str, Any], base_runs: list[TaskRun], rl_runs: list[TaskRun]) -> None:
    """Add `accuracy_histogram` to the base and rl summaries of a compare document, over
    the problems both runs have (those compare's curves use)."""
    sides = {"base": {r.task: r for r in base_runs}, "rl": {r.task: r for r in rl_runs}}
    for task, comparison in document["tasks"].items():
        ids = sorted(set(sides["base"][task].problems) & set(sides["rl"][task].problems))
        for role, by_task in sides.items():
            comparison[role]["accuracy_histogram"] = accuracy_histogram(by_task[task], ids)
