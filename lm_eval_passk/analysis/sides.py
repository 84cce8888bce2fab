"""Which run and which problems each summary of a report or compare document stands for,
for the parts that add to every summary (answer diversity, response length)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lm_eval_passk.analysis.runs import TaskRun

# (summary to extend, its run, the problems it covers)
Side = tuple[dict[str, Any], TaskRun, list[str]]


def report_sides(document: dict[str, Any], runs: list[TaskRun]) -> Iterator[Side]:
    """Every model summary of a report document, over all of its run's problems."""
    by_key = {(run.task, run.model): run for run in runs}
    for task, models in document["tasks"].items():
        for model, summary in models.items():
            run = by_key[(task, model)]
            yield summary, run, sorted(run.problems)


def compare_sides(document: dict[str, Any], base_runs: list[TaskRun], rl_runs: list[list[TaskRun]]) -> Iterator[Side]:
    """The base summary and every RL summary of a compare document, over the problems the
    compared runs share (those its curves use). A one-RL compare's `rl` is the same dict
    as its `comparisons` entry, so it is extended once."""
    base = {run.task: run for run in base_runs}
    rls = {(run.task, run.model): run for runs in rl_runs for run in runs}
    for task, comparison in document["tasks"].items():
        chosen = {model: rls[(task, model)] for model in comparison["comparisons"]}
        ids = sorted(set(base[task].problems).intersection(*(run.problems for run in chosen.values())))
        yield comparison["base"], base[task], ids
        for model, pair in comparison["comparisons"].items():
            yield pair["rl"], chosen[model], ids
