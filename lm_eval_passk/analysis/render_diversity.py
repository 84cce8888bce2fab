"""Answer diversity as tables (text, markdown, CSV) and a figure, for report and compare:
a row per run, so base and RL models stand side by side (analysis/diversity.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lm_eval_passk.analysis.perplexity import _series as labelled_summaries
from lm_eval_passk.analysis.plots import _pyplot, _save
from lm_eval_passk.analysis.render import _csv, _grid, write_optional_table


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _spread(stats: dict[str, Any]) -> str:
    """median [q1, q3]"""
    return f"{_number(stats['median'])} [{_number(stats['q1'])}, {_number(stats['q3'])}]"


def diversity_text(document: dict[str, Any], markdown: bool = False) -> str:
    """Per task: a row per run (distinct answers and entropy per problem: mean, median
    with quartiles, max), then the histogram of distinct answers; notes for runs without
    answers to group."""
    blocks = []
    headers = ["run", "n", "problems", "distinct mean", "distinct median [q1, q3]", "distinct max",
               "entropy mean", "entropy median [q1, q3]", "no answer at all"]
    for task, series in labelled_summaries(document).items():
        measured = [(label, s, s["answer_diversity"]) for label, s in series if "answer_diversity" in s]
        rows = [
            [label, str(s["n"]), str(d["problems"]), _number(d["distinct_answers"]["mean"]),
             _spread(d["distinct_answers"]), f"{d['distinct_answers']['max']:g}",
             _number(d["entropy_bits"]["mean"]), _spread(d["entropy_bits"]), str(d["problems_without_answers"])]
            for label, s, d in measured if "note" not in d
        ]
        notes = [f"{label}: {d['note']}" for label, _, d in measured if "note" in d]
        if not rows and not notes:
            continue
        block = (
            f"{task}: answer diversity per problem (distinct final answers among the n responses, grouped "
            "as maj@k groups them; entropy in bits of their distribution; docs/ANALYSIS.md)"
        )
        if rows:
            block += f"\n\n{_grid(headers, rows, markdown)}"
            voted = [(label, d) for label, _, d in measured if "note" not in d]
            bins = list(dict.fromkeys(b for _, d in voted for b in d["distinct_answers"]["histogram"]))
            histogram = [[b, *(str(d["distinct_answers"]["histogram"].get(b, 0)) for _, d in voted)] for b in bins]
            block += (
                f"\n\n{task}: problems by number of distinct answers\n\n"
                f"{_grid(['distinct answers', *(label for label, _ in voted)], histogram, markdown)}"
            )
        if notes:
            block += "\n\n" + "\n".join(notes)
        blocks.append(block)
    return "".join(f"\n{'### ' if markdown else ''}{block}\n" for block in blocks)


def diversity_csv(document: dict[str, Any]) -> str | None:
    """task,run,model,n,problem_id,distinct,entropy_bits,answered,no_answer: a row per
    problem and run; None when no run has answers to group."""
    rows: list[list[Any]] = []
    for task, series in labelled_summaries(document).items():
        for label, summary in series:
            for problem, entry in summary.get("answer_diversity", {}).get("per_problem", {}).items():
                entropy = entry["entropy_bits"]
                rows.append([task, label, summary["model"], summary["n"], problem, entry["distinct"],
                             "" if entropy is None else entropy, entry["answered"], entry["no_answer"]])
    if not rows:
        return None
    header = ["task", "run", "model", "n", "problem_id", "distinct", "entropy_bits", "answered", "no_answer"]
    return _csv([header, *rows])


def write_csv(document: dict[str, Any], directory: Path, kind: str) -> list[Path]:
    """`<kind>_diversity.csv`, where any run has answers to group."""
    return write_optional_table(diversity_csv(document), directory / f"{kind}_diversity.csv")


def diversity_figures(document: dict[str, Any], directory: Path) -> list[Path]:
    """Per task: problems by number of distinct answers (a bar per run in each bin) and
    the cumulative distribution of the answers' entropy over problems (a line per run)."""
    paths: list[Path] = []
    for task, series in labelled_summaries(document).items():
        voted = [(label, s["answer_diversity"]) for label, s in series if "per_problem" in s.get("answer_diversity", {})]
        if not voted:
            continue
        plt = _pyplot()
        figure, (bars, curves) = plt.subplots(1, 2, figsize=(11, 4))
        bins = list(dict.fromkeys(b for _, d in voted for b in d["distinct_answers"]["histogram"]))
        width = 0.8 / len(voted)
        for index, (label, d) in enumerate(voted):
            x = [i + (index - (len(voted) - 1) / 2) * width for i in range(len(bins))]
            bars.bar(x, [d["distinct_answers"]["histogram"].get(b, 0) for b in bins], width, label=label)
            entropies = sorted(e["entropy_bits"] for e in d["per_problem"].values() if e["entropy_bits"] is not None)
            if entropies:
                share = [(i + 1) / len(entropies) for i in range(len(entropies))]
                curves.step(entropies, share, where="post", label=label)
        bars.set_xticks(range(len(bins)), bins, rotation=45, ha="right")
        bars.set_xlabel("distinct final answers among the n responses")
        bars.set_ylabel("problems")
        bars.legend(fontsize=8)
        curves.set_xlabel("entropy of the answers (bits)")
        curves.set_ylabel("fraction of problems at or below")
        curves.grid(True, alpha=0.3)
        curves.legend(fontsize=8)
        figure.suptitle(f"{task}: answer diversity per problem (lower: narrower coverage)")
        paths += _save(figure, directory, f"diversity_{task}")
        plt.close(figure)
    return paths
