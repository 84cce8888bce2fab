"""Tables of accuracy histograms, solvable problems and `--by` breakdowns (text, markdown, CSV).

They follow the pass@k tables of render.py, from the same documents. The CSVs are files of
their own (written with --out): the pass@k CSV keeps its columns, k stays an integer there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lm_eval_passk.analysis.distributions import BINS
from lm_eval_passk.analysis.render import ABOVE_N, _csv, _grid, _ks, _with_ci

SOLVED = "x"  # a problem a run solves at k = n, in the solvable-problems tables


def _histogram(task: str, series: list[tuple[str, dict[str, Any]]], markdown: bool) -> str:
    headers = ["c/n", *[label for label, _ in series]]
    rows = [[name, *[str(s["accuracy_histogram"][name]) for _, s in series]] for name in BINS]
    return f"{task}: problems by accuracy c/n (n samples, c correct)\n\n{_grid(headers, rows, markdown)}"


def _solved_table(task: str, series: list[tuple[str, dict[str, Any]]], markdown: bool) -> str:
    """Problems solved at k = n by some runs and not others; one column per run."""
    solved = [set(s["solved_ids"]) for _, s in series]
    every, some = set.intersection(*solved), set.union(*solved)
    headers = ["problem", *[label for label, _ in series]]
    rows = [[i, *[SOLVED if i in ids else "" for ids in solved]] for i in sorted(some - every)]
    head = f"{task}: solved at k = n by some runs only ({len(rows)}); by every run: {len(every)}"
    return head + (f"\n\n{_grid(headers, rows, markdown)}" if rows else "")


def _breakdowns(task: str, label: str, summary: dict[str, Any], markdown: bool) -> list[str]:
    blocks = []
    for breakdown in summary.get("breakdowns", []):
        groups = breakdown["groups"]
        headers = ["k", *[f"{value} ({group['problems']})" for value, group in groups.items()]]
        rows = [
            [k, *[_with_ci(g["pass_at_k"][k], g["ci95"][k]) if k in g["pass_at_k"] else ABOVE_N for g in groups.values()]]
            for k in _ks(list(groups.values()))
        ]
        blocks.append(
            f"{task}: {label} pass@k by {breakdown['by']} (problems per group)\n\n{_grid(headers, rows, markdown)}"
        )
    return blocks


def _sections(task: str, series: list[tuple[str, dict[str, Any]]], solved: str, markdown: bool) -> str:
    blocks = [_histogram(task, series, markdown), *([solved] if solved else [])]
    for label, summary in series:
        blocks += _breakdowns(task, label, summary, markdown)
    return "".join(f"\n{'### ' if markdown else ''}{block}\n" for block in blocks)


def report_sections(document: dict[str, Any], markdown: bool = False) -> str:
    """After the report's tables: per task, the accuracy histogram of every run, the
    problems some runs solve at k = n and others do not, and the breakdowns."""
    text = ""
    for task, models in document["tasks"].items():
        series = [(s["model"], s) for s in models.values()]
        # One run: its solved count is in the pass@k table's footer already.
        solved = _solved_table(task, series, markdown) if len(series) > 1 else ""
        text += _sections(task, series, solved, markdown)
    return text


def compare_sections(document: dict[str, Any], markdown: bool = False) -> str:
    """After compare's tables: per task, both accuracy histograms, the problems solved at
    k = n by one model only (from `coverage`), and the breakdowns."""
    text = ""
    for task, comparison in document["tasks"].items():
        series = [(f"{role}: {comparison[role]['model']}", comparison[role]) for role in ("base", "rl")]
        coverage = comparison["coverage"]
        rows = [[i, SOLVED, ""] for i in coverage["base_only_ids"]] + [[i, "", SOLVED] for i in coverage["rl_only_ids"]]
        solved = (
            f"{task}: solved at k = n by one model only (both: {coverage['both']}, "
            f"neither: {coverage['neither']})"
            + (f"\n\n{_grid(['problem', 'base', 'rl'], rows, markdown)}" if rows else "")
        )
        text += _sections(task, series, solved, markdown)
    return text


def _series(document: dict[str, Any], kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(task, series, summary) for every summary of a report or compare document."""
    if kind == "report":
        return [(task, "", s) for task, models in document["tasks"].items() for s in models.values()]
    return [(task, role, c[role]) for task, c in document["tasks"].items() for role in ("base", "rl")]


def accuracy_csv(document: dict[str, Any], kind: str) -> str:
    """task,series,model,n,bin,problems: one row per run and accuracy bin."""
    rows: list[list[Any]] = [["task", "series", "model", "n", "bin", "problems"]]
    for task, series, s in _series(document, kind):
        rows += [[task, series, s["model"], s["n"], name, count] for name, count in s["accuracy_histogram"].items()]
    return _csv(rows)


def solved_csv(document: dict[str, Any], kind: str) -> str:
    """task,series,model,problem_id: one row per problem a run solves at k = n."""
    rows: list[list[Any]] = [["task", "series", "model", "problem_id"]]
    for task, series, s in _series(document, kind):
        rows += [[task, series, s["model"], problem] for problem in s["solved_ids"]]
    return _csv(rows)


def breakdown_csv(document: dict[str, Any], kind: str) -> str:
    """task,series,model,n,by,group,problems,k,value,ci95_low,ci95_high."""
    rows: list[list[Any]] = [
        ["task", "series", "model", "n", "by", "group", "problems", "k", "value", "ci95_low", "ci95_high"]
    ]
    for task, series, s in _series(document, kind):
        for breakdown in s.get("breakdowns", []):
            for value, group in breakdown["groups"].items():
                rows += [
                    [task, series, s["model"], s["n"], breakdown["by"], value, group["problems"], k, v, *group["ci95"][k]]
                    for k, v in group["pass_at_k"].items()
                ]
    return _csv(rows)


def write_csvs(document: dict[str, Any], directory: Path, kind: str) -> list[Path]:
    """`<kind>_accuracy.csv`, `<kind>_solved.csv` and, with --by, `<kind>_by.csv`."""
    tables = {"accuracy": accuracy_csv, "solved": solved_csv}
    if any("breakdowns" in s for _, _, s in _series(document, kind)):
        tables["by"] = breakdown_csv
    paths = []
    for name, table in tables.items():
        path = directory / f"{kind}_{name}.csv"
        path.write_text(table(document, kind))
        paths.append(path)
    return paths
