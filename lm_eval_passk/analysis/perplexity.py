"""Perplexity distributions: each run's responses under each scoring model, added to the
report and compare documents, as tables, CSV and a box-plot figure (docs/ANALYSIS.md).

Yue et al. 2025, section 4: an RL model's responses, scored under its base model, sit in
the low-perplexity part of the base model's own distribution; a distilled model's do not.
The perplexity files (`lm-eval-passk perplexity`) are read through run_format; a run
without one simply has no `perplexity` key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lm_eval_passk.analysis.plots import _pyplot, _save
from lm_eval_passk.analysis.render import _csv, _grid, write_optional_table
from lm_eval_passk.analysis.runs import TaskRun
from lm_eval_passk.run_format import TRUNCATED_PROMPT, Perplexity, read_perplexities

# Percentiles kept per (run, scorer): the box (quartiles, median) and whiskers at 5 and 95,
# so the figure is drawn from the document alone, without the per-response values.
PERCENTILES = {"p5": 5, "q1": 25, "median": 50, "q3": 75, "p95": 95}


def summarise(entries: list[Perplexity]) -> dict[str, dict[str, Any]]:
    """{scorer: {responses, not_scored, prompt_cut, median, q1, q3, p5, p95}}: responses
    counts those with a perplexity; the percentiles (None if there are none) are over them."""
    by_scorer: dict[str, list[Perplexity]] = {}
    for entry in entries:
        by_scorer.setdefault(entry.key.scorer, []).append(entry)
    summaries = {}
    for scorer, scored in sorted(by_scorer.items()):
        values = np.array([e.perplexity for e in scored if e.perplexity is not None], dtype=float)
        summary: dict[str, Any] = {
            "responses": int(values.size),
            "not_scored": sum(e.perplexity is None for e in scored),
            "prompt_cut": sum(e.truncated == TRUNCATED_PROMPT for e in scored),
        }
        for name, q in PERCENTILES.items():
            summary[name] = float(np.percentile(values, q)) if values.size else None
        summaries[scorer] = summary
    return summaries


def _add(summary: dict[str, Any], run: TaskRun) -> None:
    entries = read_perplexities(run.source)
    if entries:
        summary["perplexity"] = summarise(entries)


def add_to_report(document: dict[str, Any], runs: list[TaskRun]) -> None:
    """Add `perplexity` to each model summary whose samples have a perplexity file."""
    by_key = {(run.task, run.model): run for run in runs}
    for task, models in document["tasks"].items():
        for model, summary in models.items():
            _add(summary, by_key[(task, model)])


def add_to_compare(document: dict[str, Any], base_runs: list[TaskRun], rl_runs: list[list[TaskRun]]) -> None:
    """Add `perplexity` to the base summary and every RL summary of a compare document."""
    base = {run.task: run for run in base_runs}
    rls = {(run.task, run.model): run for runs in rl_runs for run in runs}
    for task, comparison in document["tasks"].items():
        _add(comparison["base"], base[task])
        for model, pair in comparison["comparisons"].items():
            _add(pair["rl"], rls[(task, model)])  # the same dict as a one-RL compare's "rl"


def _series(document: dict[str, Any]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Per task, (label, summary) of every run of a report or compare document."""
    series: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for task, entry in document["tasks"].items():
        if "base" in entry:  # a compare document
            series[task] = [(f"base: {entry['base']['model']}", entry["base"])]
            series[task] += [(f"rl: {model}", pair["rl"]) for model, pair in entry["comparisons"].items()]
        else:
            series[task] = [(summary["model"], summary) for summary in entry.values()]
    return series


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def perplexity_text(document: dict[str, Any], markdown: bool = False) -> str:
    """Per task with perplexity files: a row per run and scoring model (empty otherwise)."""
    blocks = []
    headers = ["run", "scorer", "responses", "median", "q1", "q3", "not scored", "prompt cut"]
    for task, series in _series(document).items():
        rows = [
            [label, scorer, str(s["responses"]), *(_number(s[q]) for q in ("median", "q1", "q3")),
             str(s["not_scored"]), str(s["prompt_cut"])]
            for label, summary in series
            for scorer, s in summary.get("perplexity", {}).items()
        ]
        if rows:
            head = f"{task}: perplexity of each run's responses under each scoring model"
            blocks.append(f"{head}\n\n{_grid(headers, rows, markdown)}")
    return "".join(f"\n{'### ' if markdown else ''}{block}\n" for block in blocks)


def perplexity_csv(document: dict[str, Any]) -> str | None:
    """task,run,model,scorer,responses,not_scored,prompt_cut,p5,q1,median,q3,p95; None
    without perplexity files."""
    rows: list[list[Any]] = []
    for task, series in _series(document).items():
        for label, summary in series:
            for scorer, s in summary.get("perplexity", {}).items():
                rows.append([task, label, summary["model"], scorer, s["responses"], s["not_scored"], s["prompt_cut"],
                             *("" if s[q] is None else s[q] for q in PERCENTILES)])
    if not rows:
        return None
    header = ["task", "run", "model", "scorer", "responses", "not_scored", "prompt_cut", *PERCENTILES]
    return _csv([header, *rows])


def write_csv(document: dict[str, Any], directory: Path, kind: str) -> list[Path]:
    """`<kind>_perplexity.csv`, where any run has a perplexity file."""
    return write_optional_table(perplexity_csv(document), directory / f"{kind}_perplexity.csv")


def perplexity_figures(document: dict[str, Any], directory: Path) -> list[Path]:
    """Per task: a panel per scoring model, a box per run (quartiles, median, whiskers at
    the 5th and 95th percentiles) on a log axis: whose responses the scorer finds likely."""
    paths: list[Path] = []
    for task, series in _series(document).items():
        scorers = list(dict.fromkeys(sc for _, s in series for sc in s.get("perplexity", {})))
        if not scorers:
            continue
        plt = _pyplot()
        width = max(5.0, 1.5 * len(series))  # per panel: room for each run's label
        figure, axes_row = plt.subplots(1, len(scorers), figsize=(width * len(scorers), 4), squeeze=False)
        for axes, scorer in zip(axes_row[0], scorers):
            boxes = [
                {"label": f"{label}\n({s['responses']})", "med": s["median"], "q1": s["q1"], "q3": s["q3"],
                 "whislo": s["p5"], "whishi": s["p95"], "fliers": []}
                for label, summary in series
                if (s := summary.get("perplexity", {}).get(scorer)) and s["responses"]
            ]
            if boxes:
                axes.bxp(boxes, showfliers=False)
                axes.set_yscale("log")
                # Plain numbers: a narrow log range is otherwise ticked as 1.7 x 10^1.
                for axis in (axes.yaxis.set_major_formatter, axes.yaxis.set_minor_formatter):
                    axis(plt.FuncFormatter(lambda value, _: f"{value:g}"))
            axes.tick_params(axis="x", labelsize=7, labelrotation=20)
            axes.set_ylabel("perplexity (log scale)")
            axes.set_title(f"under {scorer}", fontsize=9)
            axes.grid(True, axis="y", alpha=0.3)
            axes.set_xlabel("box: quartiles; whiskers: 5th to 95th percentile", fontsize=8)
        figure.suptitle(f"{task}: perplexity of each run's responses (responses scored)")
        paths += _save(figure, directory, f"perplexity_{task}")
        plt.close(figure)
    return paths
