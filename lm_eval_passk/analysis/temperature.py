"""`lm-eval-passk temperature`: runs of the same models at several sampling temperatures.

Runs are grouped by task, model (the results' `model_name`) and the temperature the run
logged (run_format.recorded_temperature: the command line's `--gen_kwargs` where it sets
one, else the task's `generation_kwargs`). For each model the best-temperature envelope is,
at each k, the largest pass@k over its temperatures and the temperature that gives it;
models are then compared envelope against envelope (crossover, ΔSE), the first model
given being the base. A maximum over temperatures is biased upward: with more
temperatures tried the envelope rises from noise alone (docs/ANALYSIS.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lm_eval_passk.analysis.plots import _curve, _k_axes, _pyplot, _save
from lm_eval_passk.analysis.render import ABOVE_N, _csv, _grid, _percent, _with_ci
from lm_eval_passk.analysis.runs import RunError, TaskRun
from lm_eval_passk.analysis.summary import (
    BootstrapSettings,
    model_summary,
    per_problem_pass_at_k,
)
from lm_eval_passk.metrics import report_ks
from lm_eval_passk.metrics.bootstrap import resample_weights
from lm_eval_passk.metrics.compare import crossover_k, delta_se

LEVEL = 0.95


def temperature_key(temperature: float) -> str:
    """The JSON key of a temperature: Python's shortest repr, "0.6", "1.0"."""
    return repr(float(temperature))


def group_runs(runs: list[TaskRun]) -> dict[str, dict[str, dict[float, TaskRun]]]:
    """{task: {model: {temperature: run}}}, models in the order first given, temperatures
    ascending. A run without a logged temperature, or two runs of one model at one
    temperature, is an error naming the files."""
    grouped: dict[str, dict[str, dict[float, TaskRun]]] = {}
    for run in runs:
        if run.temperature is None:
            raise RunError(
                f"{run.source}: no temperature logged (neither config.gen_kwargs nor "
                f"configs.{run.task}.generation_kwargs in its results file has one)"
            )
        by_temperature = grouped.setdefault(run.task, {}).setdefault(run.model, {})
        other = by_temperature.get(run.temperature)
        if other is not None:
            raise RunError(
                f"{run.task}: two runs of {run.model} at temperature {run.temperature} "
                f"({other.source} and {run.source}); merge them first (lm-eval-passk merge)"
            )
        by_temperature[run.temperature] = run
    return {
        task: {model: dict(sorted(temps.items())) for model, temps in models.items()}
        for task, models in grouped.items()
    }


def envelope(
    runs: dict[float, TaskRun], ids: list[str], weights: np.ndarray
) -> dict[str, Any]:
    """At each k every temperature reaches: the largest pass@k over temperatures, the
    temperature giving it (the lowest on a tie), and the percentile interval of that
    maximum over the bootstrap resamples (the maximum taken within each resample)."""
    temperatures = list(runs)
    ks = report_ks(min(run.n for run in runs.values()))
    # (temperatures x problems x ks) per-problem pass@k
    per_problem = np.stack([per_problem_pass_at_k(runs[t], ids, ks) for t in temperatures])
    means = per_problem.mean(axis=1)  # (temperatures x ks)
    best = means.argmax(axis=0)  # argmax takes the first: temperatures are ascending
    resampled = np.einsum("rp,tpk->rtk", weights, per_problem) / len(ids)
    maxima = resampled.max(axis=1)  # (resamples x ks)
    tail = (1.0 - LEVEL) / 2 * 100
    low, high = np.percentile(maxima, [tail, 100 - tail], axis=0)
    return {
        "pass_at_k": {str(k): float(means[b, i]) for i, (k, b) in enumerate(zip(ks, best))},
        "temperature": {str(k): temperatures[b] for k, b in zip(ks, best)},
        "ci95": {str(k): [float(lo), float(hi)] for k, lo, hi in zip(ks, low, high)},
    }


def _curve_of(summary: dict[str, Any]) -> dict[int, float]:
    return {int(k): v for k, v in summary["pass_at_k"].items()}


def temperature_report(runs: list[TaskRun], settings: BootstrapSettings) -> dict[str, Any]:
    """{"tasks": {task: {"problems", "models": {model: {"model", "temperatures": {T:
    summary}, "envelope"}}, "comparisons": {model: {...}}}}}: every run over the problems
    all runs of the task share, with one set of resamples."""
    tasks: dict[str, Any] = {}
    for task, models in group_runs(runs).items():
        every_run = [run for temps in models.values() for run in temps.values()]
        ids = sorted(set(every_run[0].problems).intersection(*(run.problems for run in every_run[1:])))
        if not ids:
            raise ValueError(f"{task}: the runs share no problem ids")
        weights = resample_weights(len(ids), settings.resamples, settings.seed)
        entries: dict[str, dict[str, Any]] = {
            model: {
                "model": model,
                "temperatures": {
                    temperature_key(t): model_summary(run, ids, weights) for t, run in temps.items()
                },
                "envelope": envelope(temps, ids, weights),
            }
            for model, temps in models.items()
        }
        base, *others = entries
        base_curve = _curve_of(entries[base]["envelope"])
        comparisons = {}
        for model in others:
            curve = _curve_of(entries[model]["envelope"])
            k_used, gap = delta_se(base_curve, curve)
            comparisons[model] = {
                "base": base,
                "rl": model,
                "crossover_k": crossover_k(base_curve, curve),
                "delta_se": {"k": k_used, "value": gap},
            }
        tasks[task] = {"problems": len(ids), "models": entries, "comparisons": comparisons}
    return {"tasks": tasks, "bootstrap": vars(settings) | {"level": LEVEL}}


def _ks(curves: list[dict[str, Any]]) -> list[str]:
    return sorted({k for curve in curves for k in curve}, key=int)


def temperature_text(document: dict[str, Any], markdown: bool = False) -> str:
    """Per task and model: pass@k at each temperature and the envelope; then the
    envelopes side by side and their comparisons."""
    blocks = []
    for task, entry in document["tasks"].items():
        title = f"## {task}" if markdown else task
        parts = [f"{title}\n\n{entry['problems']} problems shared by all runs"]
        for model, data in entry["models"].items():
            temps = data["temperatures"]
            env = data["envelope"]
            headers = ["k", *(f"T={t} (n={s['n']})" for t, s in temps.items()), "best", "best T"]
            rows = []
            for k in _ks([s["pass_at_k"] for s in temps.values()]):
                cells = [_with_ci(s["pass_at_k"][k], s["ci95"][k]) if k in s["pass_at_k"] else ABOVE_N for s in temps.values()]
                best = [_with_ci(env["pass_at_k"][k], env["ci95"][k]), str(env["temperature"][k])] if k in env["pass_at_k"] else [ABOVE_N, ABOVE_N]
                rows.append([k, *cells, *best])
            heading = f"### {model}" if markdown else model
            parts.append(f"{heading}\n\n{_grid(headers, rows, markdown)}")
        if entry["comparisons"]:
            models = entry["models"]
            headers = ["k", *(f"{m} best (T)" for m in models)]
            rows = [
                [k, *(
                    f"{_percent(d['envelope']['pass_at_k'][k])} ({d['envelope']['temperature'][k]})"
                    if k in d["envelope"]["pass_at_k"] else ABOVE_N
                    for d in models.values()
                )]
                for k in _ks([d["envelope"]["pass_at_k"] for d in models.values()])
            ]
            lines = [
                f"{model} against {c['base']}: crossover_k "
                f"{c['crossover_k'] if c['crossover_k'] is not None else 'none (ahead at every k)'}, "
                f"ΔSE = {c['base']} best pass@{c['delta_se']['k']} - {model} best pass@1 = "
                f"{_percent(c['delta_se']['value'])} points"
                for model, c in entry["comparisons"].items()
            ]
            heading = "### best-temperature envelopes" if markdown else "best-temperature envelopes"
            parts.append(f"{heading}\n\n{_grid(headers, rows, markdown)}\n\n" + "\n".join(lines))
        blocks.append("\n\n".join(parts))
    caveat = (
        "best: the largest pass@k over the temperatures at each k, with the temperature giving it; "
        "a maximum over temperatures is biased upward (docs/ANALYSIS.md)"
    )
    return "\n\n".join(blocks) + f"\n\n{caveat}\n"


CSV_HEADER = ["task", "model", "temperature", "series", "n", "k", "value", "ci95_low", "ci95_high"]


def temperature_csv(document: dict[str, Any]) -> str:
    """`pass@k` rows per temperature, then `envelope` rows whose temperature is the best one."""
    rows: list[list[Any]] = [CSV_HEADER]
    for task, entry in document["tasks"].items():
        for model, data in entry["models"].items():
            for t, summary in data["temperatures"].items():
                for k, value in summary["pass_at_k"].items():
                    rows.append([task, model, t, "pass@k", summary["n"], k, value, *summary["ci95"][k]])
            env = data["envelope"]
            for k, value in env["pass_at_k"].items():
                rows.append([task, model, env["temperature"][k], "envelope", "", k, value, *env["ci95"][k]])
    return _csv(rows)


def model_figure(task: str, model: str, data: dict[str, Any], directory: Path) -> tuple[list[Path], list[str]]:
    """pass@k at each temperature and the envelope (black); the files and legend labels."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    series = [(f"T={t}", summary) for t, summary in data["temperatures"].items()]
    for index, (label, summary) in enumerate(series):
        _curve(axes, summary, label, index)
    env = data["envelope"]
    ks = sorted(env["pass_at_k"], key=int)
    label = "best T (envelope)"
    axes.plot([int(k) for k in ks], [100 * env["pass_at_k"][k] for k in ks], color="black", linewidth=2.2,
              alpha=0.6, label=label)
    _k_axes(axes, series, "pass@k (%)", f"{task}: {model} by temperature")
    paths = _save(figure, directory, f"temperature_{task}_{model}")
    plt.close(figure)
    return paths, [lbl for lbl, _ in series] + [label]


def envelope_figure(task: str, entry: dict[str, Any], directory: Path) -> tuple[list[Path], list[str]]:
    """Each model's best-temperature envelope with its band; the files and legend labels."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    series = [(f"{model} (best T)", data["envelope"]) for model, data in entry["models"].items()]
    for index, (label, env) in enumerate(series):
        _curve(axes, env, label, index)
    _k_axes(axes, series, "best pass@k over temperatures (%)", f"{task}: best-temperature envelopes")
    paths = _save(figure, directory, f"envelope_{task}")
    plt.close(figure)
    return paths, [label for label, _ in series]


def temperature_figures(document: dict[str, Any], directory: Path) -> list[Path]:
    """One figure per task and model, and one of the envelopes per task with several models."""
    paths = []
    for task, entry in document["tasks"].items():
        for model, data in entry["models"].items():
            paths += model_figure(task, model, data, directory)[0]
        if len(entry["models"]) > 1:
            paths += envelope_figure(task, entry, directory)[0]
    return paths
