"""pass@k with the guessable problems left out, beside the curves on every problem
(`report` / `compare --exclude-guessable`; analysis/guessable.py finds the problems).

Each summary gains `filtered`: the same summary over the problems kept. A compare's
comparisons gain `filtered` too: crossover, ΔSE, coverage and paired differences on the
kept problems (summary.compare_task over them, with resamples of the kept set). The
document gains `guessable`: per task, the problems removed and why.
"""

from __future__ import annotations

from typing import Any

from lm_eval_passk.analysis.guessable import TaskExclusion
from lm_eval_passk.analysis.runs import TaskRun
from lm_eval_passk.analysis.summary import (
    BootstrapSettings,
    compare_task,
    model_summary,
)
from lm_eval_passk.metrics.bootstrap import resample_weights


def _record(document: dict[str, Any], task: str, exclusion: TaskExclusion, ids: list[str]) -> list[str]:
    """Note the exclusion under document["guessable"][task]; return the kept problems of
    `ids`; the problems the check did not see are recorded as `unchecked`."""
    entry = exclusion.to_dict()
    removed = [problem for problem in ids if problem in exclusion.excluded]
    kept = [problem for problem in ids if problem not in exclusion.excluded]
    entry["removed"] = removed
    entry["problems"] = {"all": len(ids), "kept": len(kept), "removed": len(removed)}
    if exclusion.threshold is not None:
        entry["unchecked"] = [problem for problem in ids if problem not in exclusion.answer_only]
    document.setdefault("guessable", {})[task] = entry
    if not kept:
        raise ValueError(f"{task}: --exclude-guessable ({exclusion.source}) removes every problem; none left")
    return kept


def _warnings(document: dict[str, Any], exclusions: dict[str, TaskExclusion]) -> list[str]:
    warnings = []
    for task in document["tasks"]:
        if task not in exclusions:
            warnings.append(f"{task}: --exclude-guessable has no answer-only run of this task; all problems kept")
            continue
        entry = document["guessable"][task]
        if entry.get("unchecked"):
            warnings.append(
                f"{task}: {len(entry['unchecked'])} problems are not in the answer-only run ({exclusions[task].source}); kept"
            )
    return warnings


def add_to_report(
    document: dict[str, Any], runs: list[TaskRun], exclusions: dict[str, TaskExclusion], settings: BootstrapSettings
) -> list[str]:
    """Add `filtered` to every model summary of the tasks `exclusions` covers, and
    `guessable`; return a warning per task left unfiltered or partly unchecked."""
    for run in runs:
        if run.task not in exclusions:
            continue
        ids = sorted(run.problems)
        kept = _record(document, run.task, exclusions[run.task], ids)  # recorded once per model: the same
        weights = resample_weights(len(kept), settings.resamples, settings.seed)
        summary = document["tasks"][run.task][run.model]
        summary["filtered"] = model_summary(run, kept, weights, [int(k) for k in summary["pass_at_k"]], majority=False)
    return _warnings(document, exclusions)


def add_to_compare(
    document: dict[str, Any], base_runs: list[TaskRun], rl_runs: list[list[TaskRun]],
    exclusions: dict[str, TaskExclusion], settings: BootstrapSettings,
) -> list[str]:
    """Add `filtered` to the base summary, every RL summary and every comparison of the
    tasks `exclusions` covers, and `guessable`; return warnings as add_to_report."""
    base = {run.task: run for run in base_runs}
    rls = {(run.task, run.model): run for runs in rl_runs for run in runs}
    for task, comparison in document["tasks"].items():
        if task not in exclusions:
            continue
        models = list(comparison["comparisons"])
        ids = sorted(set(base[task].problems).intersection(*(rls[(task, m)].problems for m in models)))
        kept = _record(document, task, exclusions[task], ids)
        for model, pair in comparison["comparisons"].items():
            filtered = compare_task(base[task], rls[(task, model)], settings, kept)
            comparison["base"]["filtered"] = filtered.pop("base")  # the same for every RL run
            pair["rl"]["filtered"] = filtered.pop("rl")
            pair["filtered"] = filtered
        if len(models) == 1:
            comparison["filtered"] = comparison["comparisons"][models[0]]["filtered"]
    return _warnings(document, exclusions)
