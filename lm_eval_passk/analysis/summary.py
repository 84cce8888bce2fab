"""Turn per-problem counts into the report and compare documents (docs/ANALYSIS.md).

All values are fractions in [0, 1]; k keys are strings, as in the JSON output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lm_eval_passk.adaptive import problem_estimates
from lm_eval_passk.analysis.adaptive import (
    adaptive_summary,
    is_adaptive,
    study_ks,
    study_n,
)
from lm_eval_passk.analysis.majority import majority_fields
from lm_eval_passk.analysis.runs import TaskRun
from lm_eval_passk.metrics import pass_at_k, report_ks
from lm_eval_passk.metrics.bootstrap import bootstrap_ci, resample_weights
from lm_eval_passk.metrics.compare import crossover_k, delta_se


@dataclass(frozen=True)
class BootstrapSettings:
    resamples: int = 1000
    seed: int = 0


def label_runs(runs_by_directory: list[tuple[Path, list[TaskRun]]]) -> None:
    """Rename runs so no two runs of one task share a name: a model with two runs of a task
    gets its run directory's name appended in every run directory, then `#2`, `#3` where
    even that repeats (one directory given twice). A model whose tasks were run into
    separate directories keeps its name: one model, one leaderboard row."""
    counts = Counter((run.task, run.model) for _, runs in runs_by_directory for run in runs)
    repeated = {model for (_, model), count in counts.items() if count > 1}
    taken: Counter[str] = Counter()
    for directory, runs in runs_by_directory:
        labels: dict[str, str] = {}
        for model in dict.fromkeys(run.model for run in runs if run.model in repeated):
            label = f"{model} ({directory.resolve().name})"
            taken[label] += 1
            labels[model] = label if taken[label] == 1 else f"{label} #{taken[label]}"
        for run in runs:
            run.model = labels.get(run.model, run.model)


def same_run_warnings(base_runs: list[TaskRun], rl_runs: list[TaskRun]) -> list[str]:
    """One line per task on which the two sides of a compare look like one run: the same
    samples file (one directory twice, a link, a parent directory), or identical counts on
    every problem (a copy)."""
    rl_by_task = {run.task: run for run in rl_runs}
    warnings = []
    for base in base_runs:
        rl = rl_by_task.get(base.task)
        if rl is None:
            continue
        if base.source.resolve() == rl.source.resolve():
            warnings.append(f"{base.task}: base and rl are the same run (both read {base.source.resolve()})")
        elif base.problems == rl.problems:
            warnings.append(
                f"{base.task}: base and rl have the same counts on every problem "
                f"({base.source} and {rl.source}): is one a copy of the other?"
            )
    return warnings


def per_problem_pass_at_k(run: TaskRun, ids: list[str], ks: list[int]) -> np.ndarray:
    """(problems x ks) matrix of each problem's pass@k, in the order of `ids` (an adaptive
    run's: the empirical-Bayes estimates its curve averages)."""
    if is_adaptive(run):
        return problem_estimates({i: run.problems[i] for i in ids}, ks)[0]
    counts = np.array([run.problems[i] for i in ids], dtype=np.int64).reshape(-1, 2)
    return pass_at_k(counts[:, :1], counts[:, 1:], np.array(ks)[None, :])


def pass_at_k_curve(run: TaskRun, ids: list[str], weights: np.ndarray, ks: list[int]) -> dict[str, Any]:
    """`problems`, `pass_at_k` and its 95% bootstrap interval `ci95` over `ids`."""
    matrix = per_problem_pass_at_k(run, ids, ks)
    low, high = bootstrap_ci(matrix, weights)
    return {
        "problems": len(ids),
        "pass_at_k": {str(k): float(v) for k, v in zip(ks, matrix.mean(axis=0))},
        "ci95": {str(k): [float(lo), float(hi)] for k, lo, hi in zip(ks, low, high)},
    }


def model_summary(
    run: TaskRun, ids: list[str], weights: np.ndarray, ks: list[int] | None = None,
    majority: bool = True,
) -> dict[str, Any]:
    """pass@k with 95% bootstrap intervals over `ids`, the problems solved at k = n, and
    (with `majority`) maj@k."""
    ks = ks or study_ks(run)
    summary = {
        "model": run.model,
        "n": run.n,
        **pass_at_k_curve(run, ids, weights, ks),
        "solved_ids": sorted(i for i in ids if run.problems[i][1] > 0),
    }
    if is_adaptive(run):
        summary.update(adaptive_summary(run, ids, ks))
        ks = [k for k in ks if k <= run.n]  # maj@k and CoT-Pass@k: where every problem has k samples
    if majority:
        summary.update(majority_fields(run.votes, run.majority_note, ids, ks))
    if run.cot is not None:
        summary["cot_pass_at_k"] = {
            rule: {str(k): float(v) for k, v in zip(ks, cot_pass_at_k(run, ids, ks, rule))}
            for rule in run.cot
        }
        summary["judge"] = dict(run.judge_counts)
    return summary


def cot_pass_at_k(run: TaskRun, ids: list[str], ks: list[int], rule: str) -> np.ndarray:
    """CoT-Pass@k: the estimator with c replaced by the responses whose answer is correct
    and whose reasoning the judge accepts under `rule`; mean over problems."""
    assert run.cot is not None
    n = np.array([run.problems[i][0] for i in ids])[:, None]
    d = np.array([run.cot[rule].get(i, 0) for i in ids])[:, None]
    return pass_at_k(n, d, np.array(ks)[None, :]).mean(axis=0)


def report(
    runs: list[TaskRun], settings: BootstrapSettings, extra_ks: Sequence[int] = (),
    majority: bool = True,
) -> dict[str, Any]:
    """{"tasks": {task: {model: summary}}} for every task of every run; `extra_ks` (the
    leaderboard's, e.g. 3) are added to k = 1, 2, 4, ..., n where a run reaches them;
    `majority` False leaves maj@k out (the leaderboard shows pass@k only)."""
    tasks: dict[str, dict[str, Any]] = {}
    for run in runs:
        ids = sorted(run.problems)
        weights = resample_weights(len(ids), settings.resamples, settings.seed)
        ks = sorted(set(study_ks(run)) | {k for k in extra_ks if k <= study_n(run)})
        tasks.setdefault(run.task, {})[run.model] = model_summary(run, ids, weights, ks, majority)
    return {"tasks": tasks, "bootstrap": vars(settings) | {"level": 0.95}}


def _as_curve(summary: dict[str, Any]) -> dict[int, float]:
    return {int(k): v for k, v in summary["pass_at_k"].items()}


def compare_task(
    base: TaskRun, rl: TaskRun, settings: BootstrapSettings, ids: list[str] | None = None
) -> dict[str, Any]:
    """Both curves, crossover, ΔSE, coverage at k = n and paired bootstrap differences,
    over `ids` (default: the problems both runs have)."""
    ids = ids if ids is not None else sorted(set(base.problems) & set(rl.problems))
    if not ids:
        raise ValueError(f"{base.task}: the two runs share no problem ids")
    weights = resample_weights(len(ids), settings.resamples, settings.seed)
    base_summary = model_summary(base, ids, weights)
    rl_summary = model_summary(rl, ids, weights)
    base_curve, rl_curve = _as_curve(base_summary), _as_curve(rl_summary)
    k_used, gap = delta_se(base_curve, rl_curve)

    common = [k for k in report_ks(min(study_n(base), study_n(rl)))]
    difference = per_problem_pass_at_k(base, ids, common) - per_problem_pass_at_k(rl, ids, common)
    low, high = bootstrap_ci(difference, weights)

    base_solved, rl_solved = set(base_summary["solved_ids"]), set(rl_summary["solved_ids"])
    return {
        "base": base_summary,
        "rl": rl_summary,
        "crossover_k": crossover_k(base_curve, rl_curve),
        "delta_se": {"k": k_used, "value": gap},
        "coverage": {
            "both": len(base_solved & rl_solved),
            "base_only": len(base_solved - rl_solved),
            "rl_only": len(rl_solved - base_solved),
            "neither": len(set(ids) - base_solved - rl_solved),
            "base_only_ids": sorted(base_solved - rl_solved),
            "rl_only_ids": sorted(rl_solved - base_solved),
        },
        "difference": {
            str(k): {"value": float(d), "ci95": [float(lo), float(hi)]}
            for k, d, lo, hi in zip(common, difference.mean(axis=0), low, high)
        },
    }


def compare_many(base: TaskRun, rls: list[TaskRun], settings: BootstrapSettings) -> dict[str, Any]:
    """One base against each RL run, all over the problems every one of them has and with
    one set of resamples, so every curve and difference is paired with every other:
    {"base": summary, "comparisons": {rl model: comparison without its "base"}}."""
    ids = sorted(set(base.problems).intersection(*(rl.problems for rl in rls)))
    if not ids:
        raise ValueError(f"{base.task}: the base and RL runs share no problem ids")
    pairs = [compare_task(base, rl, settings, ids) for rl in rls]
    return {
        "base": pairs[0]["base"],  # the same in every pair: the same ids and resamples
        "comparisons": {pair["rl"]["model"]: {k: v for k, v in pair.items() if k != "base"} for pair in pairs},
    }


def compare(
    base_runs: list[TaskRun], rl_runs: Sequence[list[TaskRun]], settings: BootstrapSettings
) -> dict[str, Any]:
    """{"tasks": {task: {"base", "comparisons"}}} for the tasks the base and at least one RL
    run have. With one RL run (`compare BASE RL`), each task also keeps the two-run keys
    ("rl", "crossover_k", "delta_se", "coverage", "difference") at its top level."""
    base_by_task = {run.task: run for run in base_runs}
    rl_by_task: dict[str, list[TaskRun]] = {}
    for runs in rl_runs:
        for run in runs:
            rl_by_task.setdefault(run.task, []).append(run)
    shared = sorted(set(base_by_task) & set(rl_by_task))
    if not shared:
        raise ValueError(
            f"the runs share no task (base: {sorted(base_by_task)}, rl: {sorted(rl_by_task)})"
        )
    tasks = {}
    for task in shared:
        document = compare_many(base_by_task[task], rl_by_task[task], settings)
        if len(rl_runs) == 1:
            (only,) = document["comparisons"].values()
            document = {"base": document["base"], **only, "comparisons": document["comparisons"]}
        tasks[task] = document
    return {"tasks": tasks, "bootstrap": vars(settings) | {"level": 0.95}}
