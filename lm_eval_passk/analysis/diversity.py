"""Answer diversity: how many different final answers a model gives to one problem over its
n samples, and the entropy of how its answers spread over them (docs/ANALYSIS.md).

Yue et al. 2025 argue that RL training narrows a model's output distribution: fewer
distinct answers, lower entropy. The answers are grouped exactly as maj@k groups them (a
run's `votes`, analysis/majority.py over grading/answer_groups.py): every response graded
correct is one answer, the wrong answers are classes of the grader's equivalence, and a
response with no answer is in no class (it does not vote, and does not count here).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lm_eval_passk.analysis.majority import VoteCounts
from lm_eval_passk.analysis.runs import TaskRun
from lm_eval_passk.analysis.sides import compare_sides, report_sides

# Quantiles kept per run, so tables and figures are drawn from the document alone.
QUANTILES = {"q1": 25, "median": 50, "q3": 75}


def answer_shares(votes: VoteCounts) -> list[int]:
    """The sizes of a problem's answer classes: the correct one (if any response is
    correct), then the wrong ones, largest first."""
    return ([votes.correct] if votes.correct else []) + list(votes.wrong)


def entropy_bits(sizes: list[int]) -> float | None:
    """Shannon entropy (bits) of the answers' distribution over classes of these sizes;
    None when no response gave an answer. log2(d) when d classes are equally large."""
    total = sum(sizes)
    if total == 0:
        return None
    return float(max(0.0, -sum(s / total * math.log2(s / total) for s in sizes if s)))


def distinct_bin(distinct: int) -> str:
    """The histogram bin of a distinct-answer count: 0, 1, 2, then powers of two
    (3-4, 5-8, 9-16, ...), so n = 1024 needs twelve bins."""
    if distinct <= 2:
        return str(distinct)
    upper = 1 << (distinct - 1).bit_length()
    return f"{upper // 2 + 1}-{upper}"


def distinct_bins(n: int) -> list[str]:
    """Every bin up to n distinct answers, in order."""
    return list(dict.fromkeys(distinct_bin(d) for d in range(max(n, 0) + 1)))


def _stats(values: list[float]) -> dict[str, float | None]:
    array = np.array(values, dtype=float)
    stats: dict[str, float | None] = {"mean": float(array.mean()) if array.size else None}
    for name, q in QUANTILES.items():
        stats[name] = float(np.percentile(array, q)) if array.size else None
    stats["max"] = float(array.max()) if array.size else None
    return stats


def diversity(run: TaskRun, ids: list[str]) -> dict[str, Any]:
    """The run's answer diversity over `ids`: per problem the distinct answers, their
    entropy, answered and unanswered responses; over problems their quantiles and the
    histogram of distinct answers. `{"note": ...}` where the run has nothing to vote on
    (code tasks, answers not logged)."""
    if run.majority_note is not None:
        return {"note": run.majority_note}
    votes = run.votes
    per_problem = {}
    for problem in ids:
        sizes = answer_shares(votes[problem])
        per_problem[problem] = {
            "distinct": len(sizes),
            "entropy_bits": entropy_bits(sizes),
            "answered": sum(sizes),
            "no_answer": votes[problem].abstain,
        }
    # Bins up to the most samples a problem has: problems may differ in n.
    histogram = dict.fromkeys(distinct_bins(max((run.problems[i][0] for i in ids), default=0)), 0)
    for entry in per_problem.values():
        histogram[distinct_bin(entry["distinct"])] += 1
    entropies = [e["entropy_bits"] for e in per_problem.values() if e["entropy_bits"] is not None]
    return {
        "problems": len(ids),
        "distinct_answers": _stats([e["distinct"] for e in per_problem.values()]) | {"histogram": histogram},
        "entropy_bits": _stats(entropies),
        "problems_without_answers": len(ids) - len(entropies),
        "per_problem": per_problem,
    }


def add_to_report(document: dict[str, Any], runs: list[TaskRun]) -> None:
    """Add `answer_diversity` to every model summary of a report document."""
    for summary, run, ids in report_sides(document, runs):
        summary["answer_diversity"] = diversity(run, ids)


def add_to_compare(
    document: dict[str, Any], base_runs: list[TaskRun], rl_runs: list[list[TaskRun]]
) -> None:
    """Add `answer_diversity` to the base summary and every RL summary of a compare document, over
    the problems the compared runs share."""
    for summary, run, ids in compare_sides(document, base_runs, rl_runs):
        summary["answer_diversity"] = diversity(run, ids)
