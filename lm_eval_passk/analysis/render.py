"""Tables for people: terminal text, markdown and CSV, from the report/compare documents.

Tables show percentages with one decimal; the JSON keeps fractions in [0, 1].
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any


def _percent(value: float) -> str:
    return f"{100 * value:.1f}"


def _with_ci(value: float, ci: list[float]) -> str:
    return f"{_percent(value)} [{_percent(ci[0])}, {_percent(ci[1])}]"


def _grid(headers: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
        for line in [headers, *rows]
    )


# Cells with no value: k above the run's n, or (leaderboard) a model with no run on a task.
ABOVE_N = "-"
NO_RUN = ""
CSV_ABOVE_N = "above n"  # a CSV has no legend line: the cell says it
_ABOVE_N_MEANING = "k is above the run's n (samples per problem), where pass@k is undefined"


def _marker(text: str, markdown: bool) -> str:
    return f"`{text}`" if markdown else f"'{text}'"


def _above_n_note(rows: list[list[str]], markdown: bool) -> str:
    """A line under a table that says what its `-` cells mean, when it has any."""
    if not any(ABOVE_N in row for row in rows):
        return ""
    return f"\n\n{_marker(ABOVE_N, markdown)}: {_ABOVE_N_MEANING}"


def _ks(summaries: list[dict[str, Any]]) -> list[str]:
    return sorted({k for s in summaries for k in s["pass_at_k"]}, key=int)


def cot_text(summaries: list[dict[str, Any]], markdown: bool) -> str:
    """pass@k next to CoT-Pass@k under the three vote rules, for the judged models."""
    judged = [s for s in summaries if "cot_pass_at_k" in s]
    if not judged:
        return ""
    rules = ("any", "majority", "all")
    headers = ["k"] + [f"{s['model']} {name}" for s in judged for name in ("pass@k", *(f"cot-{r}" for r in rules))]
    rows = [
        [k]
        + [
            _percent(value) if value is not None else ABOVE_N
            for s in judged
            for value in (s["pass_at_k"].get(k), *(s["cot_pass_at_k"][r].get(k) for r in rules))
        ]
        for k in _ks(judged)
    ]
    counts = "; ".join(
        f"{s['model']}: {s['judge']['judged']} answer-correct responses judged, "
        f"{s['judge']['unjudged']} not judged, {s['judge']['abstentions']} abstaining votes"
        for s in judged
    )
    return f"\n\nCoT-Pass@k\n\n{_grid(headers, rows, markdown)}\n\n{counts}"


def majority_text(summaries: list[dict[str, Any]], markdown: bool) -> str:
    """pass@k next to maj@k (majority vote over k samples) for each model, and the notes:
    Monte Carlo errors, abstentions, and models with nothing to vote on."""
    voted = [s for s in summaries if s.get("maj_at_k") is not None]
    notes = [f"{s['model']}: {s['majority']['note']}" for s in summaries if s.get("maj_at_k") is None and "majority" in s]
    if voted:
        headers = ["k"] + [f"{s['model']} {name}" for s in voted for name in ("pass@k", "maj@k")]
        rows = [
            [k] + [_percent(v) if v is not None else ABOVE_N for s in voted for v in (s["pass_at_k"].get(k), s["maj_at_k"].get(k))]
            for k in _ks(voted)
        ]
        notes += [f"{s['model']}: {s['majority']['abstentions']} responses with no answer (no vote)" for s in voted]
        notes += [
            f"{s['model']} maj@{k}: Monte Carlo on {mc['problems']} problems, standard error {_percent(mc['se'])} points"
            for s in voted for k, mc in s["majority"]["monte_carlo"].items()
        ]
        table = f"{_grid(headers, rows, markdown)}{_above_n_note(rows, markdown)}\n\n"
    elif notes:
        table = ""
    else:
        return ""
    return "\n\nmaj@k (majority vote over k samples; docs/ANALYSIS.md)\n\n" + table + "\n".join(notes)


def adaptive_text(summaries: list[dict[str, Any]]) -> str:
    """Lines under a table for its adaptive runs: budget, precision, tail-estimated k."""
    lines = []
    for s in summaries:
        info = s.get("adaptive")
        if not info:
            continue
        worst = max(info["sd"].values())
        tail = info["tail_ks"]
        lines.append(
            f"{s['model']}: adaptive run (docs/ANALYSIS.md): {info['samples']} samples = "
            f"{100 * info['share']:.0f}% of fixed n = {s['n']} ({info['fixed_budget']}); n per problem "
            f"{info['n_min']}..{s['n']}; sampling sd at most {100 * worst:.2f} points "
            f"(per k: {', '.join(f'{k}: {100 * v:.2f}' for k, v in info['sd'].items())}); "
            + (
                f"k = {', '.join(map(str, tail))} rest on the tail estimate (for up to "
                f"{100 * max(info['tail_share'].values()):.0f}% of problems)"
                if tail
                else "no k rests on the tail estimate"
            )
        )
    return "\n\n" + "\n".join(lines) if lines else ""


def report_text(document: dict[str, Any], markdown: bool = False) -> str:
    """One table per task: a row per k, a column per model, pass@k with its 95% CI."""
    blocks = []
    for task, models in document["tasks"].items():
        summaries = list(models.values())
        headers = ["k", *[f"{s['model']} (n={s['n']})" for s in summaries]]
        rows = [
            [k, *[_with_ci(s["pass_at_k"][k], s["ci95"][k]) if k in s["pass_at_k"] else ABOVE_N for s in summaries]]
            for k in _ks(summaries)
        ]
        solved = ", ".join(f"{s['model']} {len(s['solved_ids'])}/{s['problems']}" for s in summaries)
        title = f"## {task}" if markdown else task
        blocks.append(
            f"{title}\n\n{_grid(headers, rows, markdown)}{_above_n_note(rows, markdown)}"
            f"\n\nsolved at k = n: {solved}"
            + adaptive_text(summaries)
            + cot_text(summaries, markdown)
            + majority_text(summaries, markdown)
        )
    return "\n\n".join(blocks) + "\n"


def compare_text(document: dict[str, Any], markdown: bool = False) -> str:
    """One table per task: base, RL and their paired difference at each k; then the
    crossover, ΔSE and coverage."""
    blocks = []
    for task, comparison in document["tasks"].items():
        base, rl = comparison["base"], comparison["rl"]
        headers = ["k", f"base: {base['model']}", f"rl: {rl['model']}", "base - rl"]
        rows = []
        for k in _ks([base, rl]):
            difference = comparison["difference"].get(k)
            rows.append(
                [
                    k,
                    _with_ci(base["pass_at_k"][k], base["ci95"][k]) if k in base["pass_at_k"] else ABOVE_N,
                    _with_ci(rl["pass_at_k"][k], rl["ci95"][k]) if k in rl["pass_at_k"] else ABOVE_N,
                    _with_ci(difference["value"], difference["ci95"]) if difference else ABOVE_N,
                ]
            )
        coverage = comparison["coverage"]
        gap = comparison["delta_se"]
        crossover = comparison["crossover_k"]
        summary = (
            f"problems: {base['problems']} shared, n = {base['n']} (base) / {rl['n']} (rl)\n"
            f"crossover_k: {crossover if crossover is not None else 'none (rl ahead at every k)'}\n"
            f"ΔSE = base pass@{gap['k']} - rl pass@1 = {_percent(gap['value'])} points\n"
            f"coverage at k = n: both {coverage['both']}, base only {coverage['base_only']}, "
            f"rl only {coverage['rl_only']}, neither {coverage['neither']}"
        )
        title = f"## {task}" if markdown else task
        blocks.append(
            f"{title}\n\n{_grid(headers, rows, markdown)}{_above_n_note(rows, markdown)}\n\n{summary}"
            + adaptive_text([base, rl])
            + cot_text([base, rl], markdown)
            + majority_text([base, rl], markdown)
        )
    return "\n\n".join(blocks) + "\n"


def _csv(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_optional_table(table: str | None, path: Path) -> list[Path]:
    """Write an optional section's CSV (None: no run has that section) and list what was written."""
    if table is None:
        return []
    path.write_text(table)
    return [path]


def _series_rows(task: str, summary: dict[str, Any], prefix: str = "") -> list[list[Any]]:
    """pass@k with its interval, then CoT-Pass@k per vote rule when judged, then maj@k
    (no interval) where there are answers to vote on."""
    rows: list[list[Any]] = []
    for k, value in summary["pass_at_k"].items():
        rows.append([task, f"{prefix}pass@k", summary["model"], summary["n"], k, value, *summary["ci95"][k]])
    for rule, curve in summary.get("cot_pass_at_k", {}).items():
        for k, value in curve.items():
            rows.append([task, f"{prefix}cot-{rule}", summary["model"], summary["n"], k, value, "", ""])
    for k, value in (summary.get("maj_at_k") or {}).items():
        rows.append([task, f"{prefix}maj@k", summary["model"], summary["n"], k, value, "", ""])
    return rows


_CSV_HEADER = ["task", "series", "model", "n", "k", "value", "ci95_low", "ci95_high"]


def report_csv(document: dict[str, Any]) -> str:
    rows: list[list[Any]] = [_CSV_HEADER]
    for task, models in document["tasks"].items():
        for summary in models.values():
            rows += _series_rows(task, summary)
    return _csv(rows)


def compare_csv(document: dict[str, Any]) -> str:
    rows: list[list[Any]] = [_CSV_HEADER]
    for task, comparison in document["tasks"].items():
        for role in ("base", "rl"):
            rows += _series_rows(task, comparison[role], prefix=f"{role} ")
        for k, difference in comparison["difference"].items():
            rows.append([task, "base - rl pass@k", "", "", k, difference["value"], *difference["ci95"]])
    return _csv(rows)


def leaderboard_rows(
    document: dict[str, Any], ks: list[int], above_n: str, no_run: str
) -> tuple[list[str], list[list[str]]]:
    """Rows are models, columns tasks x k; `above_n` where a run did not reach that k,
    `no_run` where a model has no run of that task."""
    tasks = list(document["tasks"])
    models = list(dict.fromkeys(m for models in document["tasks"].values() for m in models))
    headers = ["model", *[f"{task} pass@{k}" for task in tasks for k in ks]]
    rows = []
    for model in models:
        cells = [model]
        for task in tasks:
            summary = document["tasks"][task].get(model)
            for k in ks:
                value = summary["pass_at_k"].get(str(k)) if summary else None
                cells.append(_percent(value) if value is not None else above_n if summary else no_run)
        rows.append(cells)
    return headers, rows


def leaderboard_markdown(document: dict[str, Any], ks: list[int]) -> str:
    """The leaderboard as a markdown table, with a line saying what its empty cells mean."""
    headers, rows = leaderboard_rows(document, ks, ABOVE_N, NO_RUN)
    notes = []
    if any(ABOVE_N in row for row in rows):
        notes.append(f"{_marker(ABOVE_N, True)}: {_ABOVE_N_MEANING}")
    if any(NO_RUN in row for row in rows):
        notes.append("empty: no run of that model on that task")
    adaptive = [
        f"{model} on {task}: adaptive run, {100 * s['adaptive']['share']:.0f}% of fixed n = {s['n']}"
        + (f", pass@k for k >= {min(s['adaptive']['tail_ks'])} partly from the tail estimate" if s["adaptive"]["tail_ks"] else "")
        for task, models in document["tasks"].items() for model, s in models.items() if s.get("adaptive")
    ]
    if adaptive:
        notes.append("; ".join(adaptive) + " (docs/ANALYSIS.md)")
    note = "\n\n" + "; ".join(notes) if notes else ""
    return _grid(headers, rows, markdown=True) + note + "\n"


def leaderboard_csv(document: dict[str, Any], ks: list[int]) -> str:
    """The leaderboard as CSV: "above n" where k is above the run's n, an empty cell where
    that model has no run of that task."""
    headers, rows = leaderboard_rows(document, ks, above_n=CSV_ABOVE_N, no_run="")
    return _csv([headers, *rows])
