"""pass@k per value of a problem field (`report --by level`): MATH500 `level` and `subject`,
LiveCodeBench `difficulty`, Minerva `type`, ... (run_format.problem_fields).

Each group's curve is a model summary over the group's problems, with the bootstrap of
`report` drawn over those problems alone. In compare, the base and RL runs of a group share
one set of resamples, as compare's curves do.
"""

from __future__ import annotations

import re
from typing import Any

from lm_eval_passk.analysis.runs import TaskRun
from lm_eval_passk.analysis.summary import BootstrapSettings, pass_at_k_curve
from lm_eval_passk.metrics import report_ks
from lm_eval_passk.metrics.bootstrap import resample_weights

MISSING = "(missing)"  # the group of problems that lack the field while others have it


def _order(value: str) -> tuple[int, float, str]:
    """Numbers in numeric order ("2" before "10"), then text in alphabetical order, with
    the missing group last."""
    number = re.fullmatch(r"-?\d+(\.\d+)?", value)
    return (2 if value == MISSING else 0 if number else 1, float(value) if number else 0.0, value)


def fields_present(runs: list[TaskRun]) -> list[str]:
    return sorted({name for run in runs for fields in run.fields.values() for name in fields})


def groups_of(run: TaskRun, field: str, ids: list[str]) -> dict[str, list[str]]:
    """The problems of `ids` by their value of `field`, groups in `_order`."""
    groups: dict[str, list[str]] = {}
    for problem in ids:
        groups.setdefault(run.fields.get(problem, {}).get(field, MISSING), []).append(problem)
    return {value: groups[value] for value in sorted(groups, key=_order)}


def breakdown(run: TaskRun, field: str, ids: list[str], settings: BootstrapSettings) -> dict[str, Any]:
    """{"by": field, "groups": {value: {"problems", "pass_at_k", "ci95"}}} over `ids`. The
    resamples depend only on a group's size and the seed, so in compare the base and rl
    runs of a group are resampled alike (paired), as compare's curves are."""
    groups = {}
    for value, members in groups_of(run, field, ids).items():
        weights = resample_weights(len(members), settings.resamples, settings.seed)
        groups[value] = pass_at_k_curve(run, members, weights, report_ks(run.n))
    return {"by": field, "groups": groups}


# (summary to extend, its run, the problems it covers) for each summary of one task
Parts = list[tuple[dict[str, Any], TaskRun, list[str]]]


def add_to_report(
    document: dict[str, Any], runs: list[TaskRun], fields: list[str], settings: BootstrapSettings
) -> list[str]:
    """Add `breakdowns` (one per field, in order) to every model summary of the tasks whose
    problems carry the field; return a warning per task without it. A field no task
    carries is an error naming the fields present."""
    parts: dict[str, Parts] = {}
    for run in runs:
        parts.setdefault(run.task, []).append((document["tasks"][run.task][run.model], run, sorted(run.problems)))
    return _add(fields, parts, settings)


def add_to_compare(
    document: dict[str, Any], base_runs: list[TaskRun], rl_runs: list[TaskRun], fields: list[str],
    settings: BootstrapSettings,
) -> list[str]:
    """As `add_to_report`, for the base and rl summaries of a compare document, over the
    problems both runs have."""
    base = {run.task: run for run in base_runs}
    rl = {run.task: run for run in rl_runs}
    parts: dict[str, Parts] = {}
    for task, comparison in document["tasks"].items():
        ids = sorted(set(base[task].problems) & set(rl[task].problems))
        parts[task] = [(comparison["base"], base[task], ids), (comparison["rl"], rl[task], ids)]
    return _add(fields, parts, settings)


def _add(fields: list[str], parts: dict[str, Parts], settings: BootstrapSettings) -> list[str]:
    present = {task: fields_present([run for _, run, _ in task_parts]) for task, task_parts in parts.items()}
    warnings = []
    for field in fields:
        if not any(field in names for names in present.values()):
            listed = "; ".join(f"{task}: {', '.join(names) or 'none'}" for task, names in present.items())
            raise ValueError(f"--by {field}: no problem has a field {field!r} (fields present: {listed})")
        for task, task_parts in parts.items():
            if field not in present[task]:
                warnings.append(
                    f"{task}: no problem has a field {field!r} (fields: {', '.join(present[task]) or 'none'}); "
                    "no breakdown by it"
                )
                continue
            for summary, run, ids in task_parts:
                summary.setdefault("breakdowns", []).append(breakdown(run, field, ids, settings))
    return warnings
