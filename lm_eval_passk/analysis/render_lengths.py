"""Response lengths as tables (text, markdown, CSV) and a box-plot figure, for report and
compare: a row per run, correct and incorrect responses apart (analysis/lengths.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lm_eval_passk.analysis.lengths import PERCENTILES, SUBSETS
from lm_eval_passk.analysis.perplexity import _series as labelled_summaries
from lm_eval_passk.analysis.plots import _pyplot, _save
from lm_eval_passk.analysis.render import _csv, _grid, write_optional_table


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _median(stats: dict[str, Any]) -> str:
    """median [q1, q3] (responses)"""
    if not stats["responses"]:
        return "- (0)"
    return f"{_number(stats['median'])} [{_number(stats['q1'])}, {_number(stats['q3'])}] ({stats['responses']})"


def _truncated(lengths: dict[str, Any]) -> str:
    truncated = lengths["truncated"]
    if truncated is None:
        return "?"
    total = lengths["all"]["responses"]
    share = f" ({100 * truncated['all'] / total:.1f}%)" if total else ""
    return f"{truncated['all']}{share}: {truncated['correct']} correct"


def lengths_text(document: dict[str, Any], markdown: bool = False) -> str:
    """Per task: a row per run with the median length and quartiles of all, correct and
    incorrect responses, the mean, and the responses that hit max_gen_toks."""
    blocks = []
    for task, series in labelled_summaries(document).items():
        measured = [(label, s["response_length"]) for label, s in series if "response_length" in s]
        if not measured:
            continue
        unit = measured[0][1]["unit"]
        headers = ["run", "all: median [q1, q3] (responses)", "correct", "incorrect", "mean", "max_gen_toks", "truncated"]
        rows = [
            [label, *(_median(lengths[subset]) for subset in SUBSETS), _number(lengths["all"]["mean"]),
             ",".join(map(str, lengths["max_gen_toks"])) or "?", _truncated(lengths)]
            for label, lengths in measured
        ]
        notes = list(dict.fromkeys(lengths["truncation_note"] for _, lengths in measured if "truncation_note" in lengths))
        tokenizer = measured[0][1]["tokenizer"]
        head = f"{task}: response length in {unit}" + (f" ({tokenizer})" if tokenizer else "")
        block = f"{head}\n\n{_grid(headers, rows, markdown)}"
        if notes:
            block += "\n\ntruncated '?': " + "; ".join(notes)
        blocks.append(block)
    return "".join(f"\n{'### ' if markdown else ''}{block}\n" for block in blocks)


def lengths_csv(document: dict[str, Any]) -> str | None:
    """task,run,model,unit,subset,responses,mean,p5,q1,median,q3,p95,max,truncated: a row
    per run and subset (all, correct, incorrect); None when no run was measured."""
    rows: list[list[Any]] = []
    for task, series in labelled_summaries(document).items():
        for label, summary in series:
            lengths = summary.get("response_length")
            if lengths is None:
                continue
            for subset in SUBSETS:
                stats = lengths[subset]
                truncated = "" if lengths["truncated"] is None else lengths["truncated"][subset]
                rows.append([task, label, summary["model"], lengths["unit"], subset, stats["responses"],
                             *("" if stats[q] is None else stats[q] for q in ("mean", *PERCENTILES, "max")),
                             truncated])
    if not rows:
        return None
    header = ["task", "run", "model", "unit", "subset", "responses", "mean", *PERCENTILES, "max", "truncated"]
    return _csv([header, *rows])


def write_csv(document: dict[str, Any], directory: Path, kind: str) -> list[Path]:
    """`<kind>_lengths.csv`."""
    return write_optional_table(lengths_csv(document), directory / f"{kind}_lengths.csv")


def lengths_figures(document: dict[str, Any], directory: Path) -> list[Path]:
    """Per task: a box per run and subset (correct, incorrect): quartiles, median,
    whiskers at the 5th and 95th percentiles; the generation limit as a dashed line."""
    paths: list[Path] = []
    for task, series in labelled_summaries(document).items():
        measured = [(label, s["response_length"]) for label, s in series if "response_length" in s]
        boxes = [
            {"label": f"{label}\n{subset} ({stats['responses']})", "med": stats["median"], "q1": stats["q1"],
             "q3": stats["q3"], "whislo": stats["p5"], "whishi": stats["p95"], "fliers": []}
            for label, lengths in measured
            for subset in ("correct", "incorrect")
            if (stats := lengths[subset])["responses"]
        ]
        if not boxes:
            continue
        plt = _pyplot()
        figure, axes = plt.subplots(figsize=(max(6.0, 1.6 * len(boxes)), 4))
        axes.bxp(boxes, showfliers=False)
        limits = sorted({limit for _, lengths in measured for limit in lengths["max_gen_toks"]})
        if measured[0][1]["unit"] == "tokens":
            for limit in limits:
                axes.axhline(limit, linestyle="--", color="grey", linewidth=1, label=f"max_gen_toks {limit}")
            if limits:
                axes.legend(fontsize=8)
        axes.tick_params(axis="x", labelsize=7)
        axes.set_ylabel(f"response length ({measured[0][1]['unit']})")
        axes.grid(True, axis="y", alpha=0.3)
        axes.set_xlabel("box: quartiles; whiskers: 5th to 95th percentile", fontsize=8)
        axes.set_title(f"{task}: response length, correct and incorrect responses")
        paths += _save(figure, directory, f"lengths_{task}")
        plt.close(figure)
    return paths
