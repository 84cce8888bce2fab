"""`compare BASE RL [RL ...]` with several RL runs: one table per task with a row per RL
run (its pass@1 and pass@k_max, ΔSE, crossover, coverage against the base), the curves of
every run, and figures with the base and all RL curves. Reads the document of
`summary.compare`; with one RL run the two-run renderers of render.py and plots.py apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lm_eval_passk.analysis.plots import (
    _pyplot,
    _save,
    cot_figure,
    coverage_n,
    curves_figure,
)
from lm_eval_passk.analysis.render import (
    ABOVE_N,
    _above_n_note,
    _csv,
    _grid,
    _ks,
    _percent,
    _series_rows,
    _with_ci,
)
from lm_eval_passk.analysis.styles import COLOURS

# Coverage at k = n, in the order the issue asks for: base only, RL only, both (then neither).
_COVERAGE = ("base_only", "rl_only", "both", "neither")
SUMMARY_HEADER = [
    "task", "base", "rl", "n", "base_pass@1", "base_pass@k_max", "base_k_max", "pass@1", "pass@k_max",
    "k_max", "delta_se_k", "delta_se", "crossover_k", *_COVERAGE,
]


def _k_max(summary: dict[str, Any]) -> str:
    return max(summary["pass_at_k"], key=int)


def summary_rows(task: str, comparison: dict[str, Any]) -> list[list[Any]]:
    """One row per RL run: SUMMARY_HEADER's columns, values as fractions."""
    base = comparison["base"]
    base_k = _k_max(base)
    rows = []
    for model, pair in comparison["comparisons"].items():
        rl, coverage = pair["rl"], pair["coverage"]
        k = _k_max(rl)
        rows.append([
            task, base["model"], model, rl["n"], base["pass_at_k"]["1"], base["pass_at_k"][base_k], int(base_k),
            rl["pass_at_k"]["1"], rl["pass_at_k"][k], int(k), pair["delta_se"]["k"], pair["delta_se"]["value"],
            pair["crossover_k"], *(coverage[name] for name in _COVERAGE),
        ])
    return rows


def compare_text(document: dict[str, Any], markdown: bool = False) -> str:
    """Per task: the summary table (a row per RL run), then pass@k of every run at each k."""
    blocks = []
    for task, comparison in document["tasks"].items():
        base = comparison["base"]
        headers = ["rl", "n", "pass@1", "pass@k_max", "ΔSE", "crossover k", "base only", "rl only", "both", "neither"]
        rows = []
        for row in summary_rows(task, comparison):
            crossover = row[12]
            rows.append([
                row[2], str(row[3]), _percent(row[7]), f"{_percent(row[8])} (k={row[9]})",
                f"{_percent(row[11])} (k={row[10]})", "none" if crossover is None else str(crossover),
                *(str(value) for value in row[13:]),
            ])
        summaries = [base, *(pair["rl"] for pair in comparison["comparisons"].values())]
        curve_headers = ["k", f"base: {base['model']}", *(f"rl: {s['model']}" for s in summaries[1:])]
        curve_rows = [
            [k, *(_with_ci(s["pass_at_k"][k], s["ci95"][k]) if k in s["pass_at_k"] else ABOVE_N for s in summaries)]
            for k in _ks(summaries)
        ]
        base_k = _k_max(base)
        title = f"## {task}" if markdown else task
        blocks.append(
            f"{title}\n\nbase: {base['model']} (n={base['n']}): pass@1 {_percent(base['pass_at_k']['1'])}, "
            f"pass@{base_k} {_percent(base['pass_at_k'][base_k])}; {base['problems']} problems shared by all runs\n\n"
            f"{_grid(headers, rows, markdown)}\n\n"
            "ΔSE = base pass@k - rl pass@1 (k = 256, or the base's largest k); crossover k: the smallest k "
            "where base >= rl (none: rl ahead at every k); coverage at k = n\n\n"
            f"{_grid(curve_headers, curve_rows, markdown)}{_above_n_note(curve_rows, markdown)}"
        )
    return "\n\n".join(blocks) + "\n"


def compare_csv(document: dict[str, Any]) -> str:
    """The curves in compare.csv's columns: `base pass@k` once, `rl pass@k` per RL run,
    and `base - rl pass@k` rows whose model is the RL run's."""
    rows: list[list[Any]] = [["task", "series", "model", "n", "k", "value", "ci95_low", "ci95_high"]]
    for task, comparison in document["tasks"].items():
        rows += _series_rows(task, comparison["base"], prefix="base ")
        for model, pair in comparison["comparisons"].items():
            rows += _series_rows(task, pair["rl"], prefix="rl ")
            for k, difference in pair["difference"].items():
                rows.append([task, "base - rl pass@k", model, "", k, difference["value"], *difference["ci95"]])
    return _csv(rows)


def summary_csv(document: dict[str, Any]) -> str:
    """The summary table as CSV (SUMMARY_HEADER): a row per task and RL run."""
    rows: list[list[Any]] = [SUMMARY_HEADER]
    for task, comparison in document["tasks"].items():
        rows += [["" if value is None else value for value in row] for row in summary_rows(task, comparison)]
    return _csv(rows)


def coverage_figure(task: str, comparison: dict[str, Any], directory: Path) -> list[Path]:
    """Grouped bars, one group per RL run: problems solved at k = n by both, the base only,
    the RL run only, neither."""
    plt = _pyplot()
    models = list(comparison["comparisons"])
    figure, axes = plt.subplots(figsize=(max(5.0, 1.2 * len(models) + 2), 3.8))
    width = 0.8 / len(_COVERAGE)
    hatches = ("", "//", "..", "xx")  # the bars stay apart in greyscale too
    for offset, (name, hatch) in enumerate(zip(_COVERAGE, hatches)):
        values = [comparison["comparisons"][model]["coverage"][name] for model in models]
        bars = axes.bar(
            [i + (offset - 1.5) * width for i in range(len(models))], values, width,
            label=name.replace("_", " "), color=COLOURS[offset], hatch=hatch, edgecolor="black", linewidth=0.4,
        )
        axes.bar_label(bars, fontsize=6)
    axes.set_xticks(range(len(models)), models, rotation=30 if len(models) > 3 else 0, ha="right" if len(models) > 3 else "center")
    axes.yaxis.get_major_locator().set_params(integer=True)  # counts of problems
    axes.set_ylabel("problems")
    n = coverage_n(comparison["base"]["n"], [pair["rl"]["n"] for pair in comparison["comparisons"].values()])
    axes.set_title(f"{task}: coverage at k = n ({n}) against base {comparison['base']['model']}")
    axes.legend(fontsize=7)
    paths = _save(figure, directory, f"coverage_{task}")
    plt.close(figure)
    return paths


def compare_figures(document: dict[str, Any], directory: Path) -> list[Path]:
    """Per task: the base and every RL curve on one figure (and CoT-Pass@k where judged),
    and the coverage bars."""
    paths = []
    for task, comparison in document["tasks"].items():
        series = [(f"base: {comparison['base']['model']}", comparison["base"])]
        series += [(f"rl: {model}", pair["rl"]) for model, pair in comparison["comparisons"].items()]
        paths += curves_figure(task, series, directory)
        paths += cot_figure(task, series, directory)
        paths += coverage_figure(task, comparison, directory)
    return paths
