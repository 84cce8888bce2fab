"""Guessable problems as tables (text, markdown, CSV) and figures: which problems were
removed and why, and pass@k on the kept problems beside pass@k on all of them
(analysis/guessable.py, analysis/filtered.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lm_eval_passk.analysis.guessable import REASONS
from lm_eval_passk.analysis.perplexity import _series as labelled_summaries
from lm_eval_passk.analysis.plots import curves_figure
from lm_eval_passk.analysis.render import ABOVE_N, _csv, _grid, _ks, _percent, _with_ci


def _removed_table(task: str, entry: dict[str, Any], markdown: bool) -> str:
    problems = entry["problems"]
    criterion = (
        f"answer-only run {entry['source']}, threshold {entry['threshold']:g}"
        if entry["threshold"] is not None else f"ids from {entry['source']}"
    )
    head = (
        f"{task}: guessable problems removed ({criterion}): {problems['removed']} of {problems['all']}, "
        f"{problems['kept']} kept"
    )
    rows = [
        [problem, "/".join(map(str, reversed(entry["answer_only"][problem]))) if problem in entry["answer_only"] else "",
         ", ".join(entry["excluded"][problem])]
        for problem in entry["removed"]
    ]
    table = f"\n\n{_grid(['problem', 'answer-only c/n', 'reasons'], rows, markdown)}" if rows else ""
    used = sorted({reason for problem in entry["removed"] for reason in entry["excluded"][problem]})
    legend = "".join(f"\n{reason}: {REASONS[reason]}" for reason in used)
    return head + table + (f"\n{legend}" if legend else "")


def _curves_table(task: str, series: list[tuple[str, dict[str, Any]]], markdown: bool) -> str:
    """A row per k: each run's pass@k on all problems, then on the kept problems."""
    filtered = [(label, s) for label, s in series if "filtered" in s]
    columns = [(f"{label} (all {s['problems']})", s) for label, s in filtered]
    columns += [(f"{label} (kept {s['filtered']['problems']})", s["filtered"]) for label, s in filtered]
    rows = [
        [k, *(_with_ci(s["pass_at_k"][k], s["ci95"][k]) if k in s["pass_at_k"] else ABOVE_N for _, s in columns)]
        for k in _ks([s for _, s in columns])
    ]
    return f"{task}: pass@k on all problems and without the guessable ones\n\n" + _grid(
        ["k", *(name for name, _ in columns)], rows, markdown
    )


def _comparison_lines(task: str, document: dict[str, Any]) -> str:
    """Crossover, ΔSE and coverage on the kept problems, per RL run."""
    entry = document["tasks"][task]
    lines = []
    for model, pair in entry.get("comparisons", {}).items():
        filtered = pair.get("filtered")
        if filtered is None:
            continue
        gap, coverage, crossover = filtered["delta_se"], filtered["coverage"], filtered["crossover_k"]
        lines.append(
            f"without guessable problems, {model}: crossover_k "
            f"{crossover if crossover is not None else 'none'}; ΔSE = base pass@{gap['k']} - rl pass@1 = "
            f"{_percent(gap['value'])} points; coverage both {coverage['both']}, base only {coverage['base_only']}, "
            f"rl only {coverage['rl_only']}, neither {coverage['neither']}"
        )
    return "\n".join(lines)


def guessable_text(document: dict[str, Any], markdown: bool = False) -> str:
    """Per task with --exclude-guessable: the removed problems with their reasons, the
    curves on all and on the kept problems, and (compare) the filtered comparison."""
    blocks = []
    series_by_task = labelled_summaries(document)
    for task, entry in document.get("guessable", {}).items():
        parts = [_removed_table(task, entry, markdown), _curves_table(task, series_by_task[task], markdown)]
        lines = _comparison_lines(task, document) if "base" in document["tasks"][task] else ""
        blocks.append("\n\n".join(parts) + (f"\n\n{lines}" if lines else ""))
    return "".join(f"\n{'### ' if markdown else ''}{block}\n" for block in blocks)


def guessable_csv(document: dict[str, Any]) -> str | None:
    """task,problem_id,answer_only_n,answer_only_c,structural_flags,removed,reasons: a row
    per problem checked or removed; None without --exclude-guessable."""
    rows: list[list[Any]] = []
    for task, entry in document.get("guessable", {}).items():
        for problem in sorted(set(entry["answer_only"]) | set(entry["excluded"])):
            n, c = entry["answer_only"].get(problem, ["", ""])
            rows.append([task, problem, n, c, " ".join(entry["structural_flags"].get(problem, [])),
                         problem in entry["excluded"], " ".join(entry["excluded"].get(problem, []))])
    if not rows:
        return None
    header = ["task", "problem_id", "answer_only_n", "answer_only_c", "structural_flags", "removed", "reasons"]
    return _csv([header, *rows])


def filtered_curves_csv(document: dict[str, Any]) -> str:
    """task,run,model,problems,set,k,value,ci95_low,ci95_high: each run's pass@k on all
    problems (set "all") and on the kept ones (set "kept")."""
    rows: list[list[Any]] = [["task", "run", "model", "problems", "set", "k", "value", "ci95_low", "ci95_high"]]
    for task, series in labelled_summaries(document).items():
        for label, summary in series:
            if "filtered" not in summary:
                continue
            for name, s in (("all", summary), ("kept", summary["filtered"])):
                rows += [[task, label, summary["model"], s["problems"], name, k, v, *s["ci95"][k]]
                         for k, v in s["pass_at_k"].items()]
    return _csv(rows)


def write_csv(document: dict[str, Any], directory: Path, kind: str) -> list[Path]:
    """`<kind>_guessable.csv` and `<kind>_filtered.csv`, with --exclude-guessable."""
    table = guessable_csv(document)
    if table is None:
        return []
    paths = [directory / f"{kind}_guessable.csv", directory / f"{kind}_filtered.csv"]
    paths[0].write_text(table)
    paths[1].write_text(filtered_curves_csv(document))
    return paths


def guessable_figures(document: dict[str, Any], directory: Path) -> list[Path]:
    """Per task with --exclude-guessable: every run's curve on all problems and on the
    kept ones, in one figure (passk_<task>_kept)."""
    paths: list[Path] = []
    series_by_task = labelled_summaries(document)
    for task in document.get("guessable", {}):
        series = []
        for label, summary in series_by_task[task]:
            if "filtered" in summary:
                series += [(f"{label}, all {summary['problems']}", summary),
                           (f"{label}, kept {summary['filtered']['problems']}", summary["filtered"])]
        if series:
            paths += curves_figure(f"{task}_kept", series, directory)
    return paths
