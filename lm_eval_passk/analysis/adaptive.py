"""Report an adaptive run (unequal n per problem, lm_eval_passk/adaptive.py): its curve up to
the largest n, the samples it used against the fixed budget, its precision per k and the k
that rest on the tail estimate (docs/ANALYSIS.md, "Adaptive sample budgets")."""

from __future__ import annotations

from typing import Any

from lm_eval_passk.adaptive import estimate_curve
from lm_eval_passk.analysis.runs import TaskRun
from lm_eval_passk.metrics import report_ks


def is_adaptive(run: TaskRun) -> bool:
    """Problems with unequal n: the rounds of an adaptive study, merged."""
    return len({n for n, _ in run.problems.values()}) > 1


def study_n(run: TaskRun) -> int:
    """The n a run's curve reaches: the largest n of an adaptive run, else n."""
    return max(n for n, _ in run.problems.values()) if is_adaptive(run) else run.n


def study_ks(run: TaskRun) -> list[int]:
    """The k reported for a run: 1, 2, 4, ... up to study_n."""
    return report_ks(study_n(run))


def adaptive_summary(run: TaskRun, ids: list[str], ks: list[int]) -> dict[str, Any]:
    """`n` (the largest) and `adaptive`: samples used, the fixed budget (problems x largest
    n), the sampling sd per k and the share of problems whose pass@k is extrapolated by the
    prior (the tail estimate). The curve itself is the mean of the per-problem estimates
    (summary.per_problem_pass_at_k), with its bootstrap interval over problems."""
    counts = {i: run.problems[i] for i in ids}
    curve = estimate_curve(counts, ks)
    n_max = max(n for n, _ in counts.values())
    samples = sum(n for n, _ in counts.values())
    return {
        "n": n_max,
        "adaptive": {
            "samples": samples,
            "fixed_budget": n_max * len(ids),
            "share": samples / (n_max * len(ids)),
            "n_min": min(n for n, _ in counts.values()),
            "sd": {str(k): s for k, s in zip(ks, curve.sd)},
            "tail_share": {str(k): t for k, t in zip(ks, curve.tail_share)},
            "tail_ks": curve.tail_ks,
        },
    }
