"""Figures: pass@k curves on a log2 k axis with 95% CI bands, and coverage bars.

Each figure is written as PNG and SVG. matplotlib is imported here only, with the
non-interactive Agg backend, so a machine without a display can draw them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lm_eval_passk.analysis.styles import style


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _save(figure: Any, directory: Path, stem: str) -> list[Path]:
    paths = [directory / f"{_safe(stem)}.{suffix}" for suffix in ("png", "svg")]
    for path in paths:
        figure.savefig(path, dpi=150, bbox_inches="tight")
    return paths


def _curve(axes: Any, summary: dict[str, Any], label: str, index: int = 0, band_alpha: float = 0.2) -> None:
    ks = sorted(summary["pass_at_k"], key=int)
    x = [int(k) for k in ks]
    y = [100 * summary["pass_at_k"][k] for k in ks]
    low = [100 * summary["ci95"][k][0] for k in ks]
    high = [100 * summary["ci95"][k][1] for k in ks]
    (line,) = axes.plot(x, y, markersize=3, label=label, **style(index).kwargs())
    axes.fill_between(x, low, high, color=line.get_color(), alpha=band_alpha, linewidth=0)


def _k_axes(axes: Any, series: list[tuple[str, dict[str, Any]]], ylabel: str, title: str) -> None:
    """A log2 k axis ticked at the reported k, labels, grid and legend."""
    axes.set_xscale("log", base=2)
    ks = sorted({int(k) for _, summary in series for k in summary["pass_at_k"]})
    axes.set_xticks(ks, [str(k) for k in ks])
    axes.set_xlabel("k (samples)")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.3)
    if len(series) <= 6:
        axes.legend(fontsize=8)
    else:  # more curves than fit over the plot: the legend goes to its right
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def curves_figure(task: str, series: list[tuple[str, dict[str, Any]]], directory: Path) -> list[Path]:
    """pass@k against k for each (label, summary); returns the files written."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    # Beyond 6 curves, bands at 0.2 stack into one grey mass: fainter bands keep lines legible.
    band_alpha = 0.2 if len(series) <= 6 else 0.07
    for index, (label, summary) in enumerate(series):
        _curve(axes, summary, label, index, band_alpha)
    _k_axes(axes, series, "pass@k (%)", f"{task}: pass@k with 95% bootstrap CI")
    paths = _save(figure, directory, f"passk_{task}")
    plt.close(figure)
    return paths


def cot_figure(task: str, series: list[tuple[str, dict[str, Any]]], directory: Path) -> list[Path]:
    """pass@k (solid) against CoT-Pass@k (dashed: majority of votes; band: from "all"
    votes yes to "any" vote yes) for each judged (label, summary)."""
    judged = [(label, s) for label, s in series if "cot_pass_at_k" in s]
    if not judged:
        return []
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    for label, summary in judged:
        ks = sorted(summary["pass_at_k"], key=int)
        x = [int(k) for k in ks]
        cot = summary["cot_pass_at_k"]
        (line,) = axes.plot(x, [100 * summary["pass_at_k"][k] for k in ks], marker="o", markersize=3, label=f"{label} pass@k")
        axes.plot(x, [100 * cot["majority"][k] for k in ks], linestyle="--", color=line.get_color(), label=f"{label} CoT-Pass@k")
        axes.fill_between(x, [100 * cot["all"][k] for k in ks], [100 * cot["any"][k] for k in ks], color=line.get_color(), alpha=0.15, linewidth=0)
    _k_axes(axes, judged, "%", f"{task}: pass@k and CoT-Pass@k (band: all .. any vote)")
    paths = _save(figure, directory, f"cot_{task}")
    plt.close(figure)
    return paths


def majority_series(series: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, list[int], list[float]]]:
    """The curves of the maj@k figure: (legend label, k, percent) for each model's pass@k
    and, where it has answers to vote on, its maj@k."""
    curves = []
    for label, summary in series:
        for name, curve in (("pass@k", summary["pass_at_k"]), ("maj@k", summary.get("maj_at_k"))):
            if curve:
                ks = sorted(curve, key=int)
                curves.append((f"{label} {name}", [int(k) for k in ks], [100 * curve[k] for k in ks]))
    return curves


def majority_figure(task: str, series: list[tuple[str, dict[str, Any]]], directory: Path) -> list[Path]:
    """pass@k (solid) and maj@k (dashed, same colour) against k for each (label, summary)
    that has maj@k; nothing when none has (code tasks)."""
    voted = [(label, s) for label, s in series if s.get("maj_at_k")]
    if not voted:
        return []
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    color = None
    for label, x, y in majority_series(voted):
        dashed = label.endswith("maj@k")
        (line,) = axes.plot(x, y, marker="o", markersize=3, label=label, linestyle="--" if dashed else "-", color=color if dashed else None)
        color = line.get_color()
    _k_axes(axes, voted, "%", f"{task}: pass@k and maj@k (majority vote)")
    paths = _save(figure, directory, f"majority_{task}")
    plt.close(figure)
    return paths


def coverage_n(base_n: int, rl_ns: list[int]) -> str:
    """The n that "coverage at k = n" means: one number where every run has it."""
    if set(rl_ns) == {base_n}:
        return f"n = {base_n}"
    return f"base n = {base_n}, rl n = {'/'.join(map(str, sorted(set(rl_ns))))}"


def coverage_figure(task: str, coverage: dict[str, Any], directory: Path, n: str) -> list[Path]:
    """Problems solved at k = n by both, the base model only, the RL model only, neither;
    `n` says which n (coverage_n)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(5, 3.5))
    names = ["both", "base_only", "rl_only", "neither"]
    values = [coverage[name] for name in names]
    bars = axes.bar([name.replace("_", " ") for name in names], values, color=["#4c72b0", "#55a868", "#c44e52", "#8c8c8c"])
    axes.bar_label(bars)
    axes.set_ylim(0, max(values) * 1.15 + 1)  # room for the labels above the bars
    axes.set_ylabel("problems")
    axes.set_title(f"{task}: coverage at k = n ({n})")
    paths = _save(figure, directory, f"coverage_{task}")
    plt.close(figure)
    return paths


def report_figures(document: dict[str, Any], directory: Path) -> list[Path]:
    paths = []
    for task, models in document["tasks"].items():
        series = list(models.items())
        paths += curves_figure(task, series, directory)
        paths += cot_figure(task, series, directory)
        paths += majority_figure(task, series, directory)
    return paths


def compare_figures(document: dict[str, Any], directory: Path) -> list[Path]:
    paths = []
    for task, comparison in document["tasks"].items():
        series = [
            (f"base: {comparison['base']['model']}", comparison["base"]),
            (f"rl: {comparison['rl']['model']}", comparison["rl"]),
        ]
        paths += curves_figure(task, series, directory)
        paths += cot_figure(task, series, directory)
        paths += majority_figure(task, series, directory)
        n = coverage_n(comparison["base"]["n"], [comparison["rl"]["n"]])
        paths += coverage_figure(task, comparison["coverage"], directory, n)
    return paths
