"""Turn per-problem counts into the report and compare documents (docs/ANALYSIS.md).

All values are fractions in [0, 1]; k keys are strings, as in the JSON output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lm_eval_passk.analysis.runs import TaskRun
from lm_eval_passk.metrics import pass_at_k, report_ks
from lm_eval_passk.metrics.bootstrap import bootstrap_ci, resample_weights
from lm_eval_passk.metrics.compare import crossover_k, delta_se


@dataclass(frozen=True)
class BootstrapSettings:
    resamples: int = 1000
    seed: int = 0


def per_problem_pass_at_k(run: TaskRun, ids: list[str], ks: list[int]) -> np.ndarray:
    """(problems x ks) matrix of each problem's pass@k, in the order of `ids`."""
    counts = np.array([run.problems[i] for i in ids], dtype=np.int64).reshape(-1, 2)
    return pass_at_k(counts[:, :1], counts[:, 1:], np.array(ks)[None, :])


def model_summary(
    run: TaskRun, ids: list[str], weights: np.ndarray, ks: list[int] | None = None
) -> dict[str, Any]:
    """pass@k with 95% bootstrap intervals over `ids`, and the problems solved at k = n."""
    ks = ks or report_ks(run.n)
    matrix = per_problem_pass_at_k(run, ids, ks)
    low, high = bootstrap_ci(matrix, weights)
    summary = {
        "model": run.model,
        "n": run.n,
        "problems": len(ids),
        "pass_at_k": {str(k): float(v) for k, v in zip(ks, matrix.mean(axis=0))},
        "ci95": {str(k): [float(lo), float(hi)] for k, lo, hi in zip(ks, low, high)},
        "solved_ids": sorted(i for i in ids if run.problems[i][1] > 0),
    }
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
    runs: list[TaskRun], settings: BootstrapSettings, extra_ks: Sequence[int] = ()
) -> dict[str, Any]:
    """{"tasks": {task: {model: summary}}} for every task of every run; `extra_ks` (the
    leaderboard's, e.g. 3) are added to k = 1, 2, 4, ..., n where a run reaches them."""
    tasks: dict[str, dict[str, Any]] = {}
    for run in runs:
        ids = sorted(run.problems)
        weights = resample_weights(len(ids), settings.resamples, settings.seed)
        ks = sorted(set(report_ks(run.n)) | {k for k in extra_ks if k <= run.n})
        tasks.setdefault(run.task, {})[run.model] = model_summary(run, ids, weights, ks)
    return {"tasks": tasks, "bootstrap": vars(settings) | {"level": 0.95}}


def _as_curve(summary: dict[str, Any]) -> dict[int, float]:
    return {int(k): v for k, v in summary["pass_at_k"].items()}


def compare_task(base: TaskRun, rl: TaskRun, settings: BootstrapSettings) -> dict[str, Any]:
    """Both curves, crossover, ΔSE, coverage at k = n and paired bootstrap differences,
    over the problems both runs have."""
    ids = sorted(set(base.problems) & set(rl.problems))
    if not ids:
        raise ValueError(f"{base.task}: the two runs share no problem ids")
    weights = resample_weights(len(ids), settings.resamples, settings.seed)
    base_summary = model_summary(base, ids, weights)
    rl_summary = model_summary(rl, ids, weights)
    base_curve, rl_curve = _as_curve(base_summary), _as_curve(rl_summary)
    k_used, gap = delta_se(base_curve, rl_curve)

    common = [k for k in report_ks(min(base.n, rl.n))]
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


def compare(
    base_runs: list[TaskRun], rl_runs: list[TaskRun], settings: BootstrapSettings
) -> dict[str, Any]:
    """{"tasks": {task: comparison}} for the tasks both runs have."""
    base_by_task = {run.task: run for run in base_runs}
    rl_by_task = {run.task: run for run in rl_runs}
    shared = sorted(set(base_by_task) & set(rl_by_task))
    if not shared:
        raise ValueError(
            f"the runs share no task (base: {sorted(base_by_task)}, rl: {sorted(rl_by_task)})"
        )
    return {
        "tasks": {task: compare_task(base_by_task[task], rl_by_task[task], settings) for task in shared},
        "bootstrap": vars(settings) | {"level": 0.95},
    }
