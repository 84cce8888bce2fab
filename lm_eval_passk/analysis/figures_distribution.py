"""Figures of accuracy histograms (runs side by side) and `--by` breakdowns (a curve per
group, a panel per run), as PNG and SVG, in the style of plots.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lm_eval_passk.analysis.distributions import BINS
from lm_eval_passk.analysis.plots import _curve, _k_axes, _pyplot, _save


def accuracy_figure(task: str, series: list[tuple[str, dict[str, Any]]], directory: Path) -> list[Path]:
    """Problems per accuracy bin, one bar per (label, summary) in each bin."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(series)
    for index, (label, summary) in enumerate(series):
        x = [b + (index - (len(series) - 1) / 2) * width for b in range(len(BINS))]
        axes.bar(x, [summary["accuracy_histogram"][name] for name in BINS], width, label=label)
    axes.set_xticks(range(len(BINS)), BINS, rotation=45, ha="right")
    axes.set_xlabel("accuracy c/n (0 and 1: never and always solved)")
    axes.set_ylabel("problems")
    axes.set_title(f"{task}: per-problem accuracy")
    axes.legend(fontsize=8)
    paths = _save(figure, directory, f"accuracy_{task}")
    plt.close(figure)
    return paths


def breakdown_figures(task: str, series: list[tuple[str, dict[str, Any]]], directory: Path) -> list[Path]:
    """For each field the summaries were broken down by: a panel per (label, summary) with
    a pass@k curve and band per group; one figure per task and field."""
    paths: list[Path] = []
    fields = list(dict.fromkeys(b["by"] for _, s in series for b in s.get("breakdowns", [])))
    plt = _pyplot()
    for field in fields:
        panels = [(label, b) for label, s in series for b in s.get("breakdowns", []) if b["by"] == field]
        figure, axes_row = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), sharey=True, squeeze=False)
        # One colour per group value in every panel, though a run may lack some groups.
        values = list(dict.fromkeys(value for _, b in panels for value in b["groups"]))
        palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for axes, (label, breakdown) in zip(axes_row[0], panels):
            axes.set_prop_cycle(color=[palette[values.index(v) % len(palette)] for v in breakdown["groups"]])
            groups = [(f"{value} ({group['problems']})", group) for value, group in breakdown["groups"].items()]
            for group_label, group in groups:
                _curve(axes, group, group_label)
            _k_axes(axes, groups, "pass@k (%)", label)
        figure.suptitle(f"{task}: pass@k by {field} (problems per group)")
        paths += _save(figure, directory, f"by_{field}_{task}")
        plt.close(figure)
    return paths


def report_figures(document: dict[str, Any], directory: Path) -> list[Path]:
    paths = []
    for task, models in document["tasks"].items():
        series = list(models.items())
        paths += accuracy_figure(task, series, directory)
        paths += breakdown_figures(task, series, directory)
    return paths


def compare_figures(document: dict[str, Any], directory: Path) -> list[Path]:
    paths = []
    for task, comparison in document["tasks"].items():
        series = [(f"{role}: {comparison[role]['model']}", comparison[role]) for role in ("base", "rl")]
        paths += accuracy_figure(task, series, directory)
        paths += breakdown_figures(task, series, directory)
    return paths
