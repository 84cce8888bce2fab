"""The leaderboard document (`leaderboard --format json`) and what its published forms
need beside it: each run's settings and versions, declared base/RL pairs, and each task's
per-problem counts and statements (docs/ANALYSIS.md, "Publishing").

The pass@k numbers are summary.report's; pairs are summary.compare_task's; the histograms
and perplexities are the report's sections. Nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lm_eval_passk.analysis import distributions, perplexity
from lm_eval_passk.analysis.runs import TaskRun
from lm_eval_passk.analysis.summary import BootstrapSettings, compare_task, report


def parse_pair(text: str, models: Sequence[str]) -> tuple[str, str]:
    """`--base BASE=RL`: two model names of the leaderboard. Names may hold `=` themselves
    (lm-eval names a model without `model_name` by its model_args), so the split taken is
    the one where both sides are models of the runs."""
    splits = [(text[:i], text[i + 1 :]) for i, char in enumerate(text) if char == "="]
    for base, rl in splits:
        if base in models and rl in models and base != rl:
            return base, rl
    if not splits:
        raise ValueError(f"--base {text}: expected BASE=RL, two model names (models: {', '.join(models)})")
    raise ValueError(f"--base {text}: BASE and RL must be two different models of the runs (models: {', '.join(models)})")


def run_rows(runs: list[TaskRun]) -> list[dict[str, Any]]:
    """One entry per (model, task) run: what it was sampled and graded with, and when."""
    return [
        {
            "model": run.model,
            "task": run.task,
            "n": run.n,
            "problems": len(run.problems),
            "grader": run.grader,
            "temperature": run.temperature,
            "date": run.versions.date if run.versions else None,
            "task_version": run.versions.task_version if run.versions else None,
            "lm_eval_version": run.versions.lm_eval_version if run.versions else None,
            "samples": run.source.name,
        }
        for run in runs
    ]


def pair_comparisons(
    runs: list[TaskRun], pairs: list[tuple[str, str]], settings: BootstrapSettings
) -> list[dict[str, Any]]:
    """For each declared (base, rl) pair, on every task both have: the crossover k, ΔSE and
    the coverage at k = n over the problems both have (as `compare BASE RL` reports them)."""
    by_key = {(run.model, run.task): run for run in runs}
    comparisons = []
    for base, rl in pairs:
        tasks = {}
        for (model, task), base_run in by_key.items():
            rl_run = by_key.get((rl, task))
            if model != base or rl_run is None:
                continue
            pair = compare_task(base_run, rl_run, settings)
            tasks[task] = {
                "problems": pair["base"]["problems"],
                "crossover_k": pair["crossover_k"],
                "delta_se": pair["delta_se"],
                "coverage": {key: value for key, value in pair["coverage"].items() if not key.endswith("_ids")},
            }
        if not tasks:
            raise ValueError(f"--base {base}={rl}: the two models share no task")
        comparisons.append({"base": base, "rl": rl, "tasks": tasks})
    return comparisons


def leaderboard_document(
    runs: list[TaskRun], settings: BootstrapSettings, ks: list[int],
    pairs: Sequence[tuple[str, str]] = (), majority: bool = False,
) -> dict[str, Any]:
    """summary.report's document at the leaderboard's `ks` (the table's columns, under
    "ks"), with each summary's accuracy histogram and perplexities, the runs' settings
    ("runs") and the declared pairs ("pairs"). `majority` adds maj@k (the HTML page shows it)."""
    document = report(runs, settings, extra_ks=ks, majority=majority)
    distributions.add_to_report(document, runs)
    perplexity.add_to_report(document, runs)
    return {
        **document,
        "ks": list(ks),
        "runs": run_rows(runs),
        "pairs": pair_comparisons(runs, list(pairs), settings),
    }


def problem_tables(runs: list[TaskRun]) -> dict[str, dict[str, Any]]:
    """Per task: the problem ids (every run's, sorted), each one's statement, and each
    model's (n, c) per problem (None where its run lacks that problem)."""
    tables: dict[str, dict[str, Any]] = {}
    for run in runs:
        table = tables.setdefault(run.task, {"texts": {}, "counts": {}})
        for problem, text in run.texts.items():
            table["texts"].setdefault(problem, text)
        table["counts"][run.model] = run.problems
    return {
        task: {
            "ids": sorted(table["texts"].keys() | {p for counts in table["counts"].values() for p in counts}),
            "texts": table["texts"],
            "counts": table["counts"],
        }
        for task, table in tables.items()
    }
