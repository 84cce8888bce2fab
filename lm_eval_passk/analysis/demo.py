"""Two synthetic runs in lm-eval's output format, for `lm-eval-passk demo`.

A broad base-like model solves many problems now and then; a sharpened RL-like model
solves the problems it knows almost always and the rare ones never. Their curves cross,
as in Yue et al. 2025. Nothing here needs a GPU or the network.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lm_eval_passk.grading import Verdict
from lm_eval_passk.metrics import pass_at_k, report_ks
from lm_eval_passk.run_format import (
    PROBLEM_ID,
    PROMPT,
    RESULTS_BLOCK,
    GradingSettings,
    verdict_json,
    write_rows,
)

DEMO_TASK = "demo_math_passk"
DEMO_DATE = "2025-01-01T00-00-00.000000"


def success_rates(problems: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-problem probability that one sample is correct, for (base, rl)."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["easy", "medium", "hard", "impossible"], size=problems, p=[0.3, 0.35, 0.25, 0.1])
    base = np.select(
        [kind == "easy", kind == "medium", kind == "hard"],
        [rng.uniform(0.4, 0.9, problems), rng.uniform(0.03, 0.3, problems), rng.uniform(0.002, 0.03, problems)],
        0.0,
    )
    # RL sharpens what the base model already does fairly often, up to every sample right
    # (the accuracy histogram's mass moves to 1), and drops most rare skills (mass at 0).
    forgets = rng.random(problems) < 0.7
    rl = np.where(kind == "hard", np.where(forgets, 0.0, base * 3), np.minimum(1.0, base * 2.5 + 0.3))
    rl = np.where(kind == "impossible", np.where(rng.random(problems) < 0.15, 0.02, 0.0), rl)
    return base, rl


def _wrong_answers(gold: int, count: int, rng: np.random.Generator) -> list[str | None]:
    """The answers of a problem's wrong responses, varied so that majority voting has
    something to decide: a few distractors of problem-specific popularity (a common slip
    can outvote the right answer), one-off answers, and now and then no answer at all."""
    distractors = [str(gold + d) for d in (1, 2, -1, 10)]
    popularity = rng.dirichlet(np.full(len(distractors), 0.5))
    kinds = rng.choice(3, size=count, p=[0.75, 0.2, 0.05])  # distractor, one-off, none
    picks = rng.choice(len(distractors), size=count, p=popularity)
    return [
        distractors[pick] if kind == 0 else str(gold * 100 + j) if kind == 1 else None
        for j, (kind, pick) in enumerate(zip(kinds, picks))
    ]


def _row(index: int, n: int, correct: int, rng: np.random.Generator) -> dict:
    gold = str(10 + index)
    flags = np.zeros(n, dtype=bool)
    flags[rng.choice(n, size=correct, replace=False)] = True
    wrong = iter(_wrong_answers(int(gold), n - correct, rng))
    answers = [gold if ok else next(wrong) for ok in flags]
    responses = [
        f"Step {j}: working through problem {index}. The final answer is $\\boxed{{{answer}}}$."
        if answer is not None
        else "I am not sure how to finish this one."  # no number: the grader reads no answer
        for j, answer in enumerate(answers)
    ]
    verdicts = [
        verdict_json(
            Verdict(bool(ok), answer, "match" if ok else "mismatch" if answer is not None else "no_answer")
        )
        for ok, answer in zip(flags, answers)
    ]
    ks = report_ks(n)
    doc = {
        PROBLEM_ID: f"demo-{index:03d}",
        "problem": f"Synthetic problem {index}.",
        "answer": gold,
        "solution": "",
        PROMPT: f"Synthetic problem {index}.",
    }
    return {
        "doc_id": index,
        "doc": doc,
        "target": gold,
        "resps": [responses],
        "filtered_resps": [verdicts],
        "filter": "passk",
        "n_samples": n,
        "n_correct": int(correct),
        **{f"pass@{k}": float(v) for k, v in zip(ks, pass_at_k(n, int(correct), ks))},
    }


def write_run(directory: Path, model: str, rates: np.ndarray, n: int, seed: int) -> Path:
    """One run directory as `lm_eval --output_path DIR --log_samples` would leave it."""
    rng = np.random.default_rng(seed)
    counts = rng.binomial(n, rates)
    folder = directory / model.replace("/", "__")
    folder.mkdir(parents=True, exist_ok=True)
    rows = [_row(i, n, int(c), rng) for i, c in enumerate(counts)]
    with (folder / f"samples_{DEMO_TASK}_{DEMO_DATE}.jsonl").open("w") as out:
        write_rows(out, rows)
    ks = report_ks(n)
    results = {
        "results": {DEMO_TASK: {f"pass@{k},passk": float(np.mean([r[f"pass@{k}"] for r in rows])) for k in ks}},
        "configs": {
            DEMO_TASK: {
                "task": DEMO_TASK,
                "repeats": n,
                RESULTS_BLOCK: {"n": n, "ks": ks, **GradingSettings("math500").to_dict()},
            }
        },
        "model_name": model,
        "date": DEMO_DATE,
    }
    (folder / f"results_{DEMO_DATE}.json").write_text(json.dumps(results, indent=2))
    return directory


def write_demo_runs(directory: Path, problems: int = 200, n: int = 256, seed: int = 0) -> tuple[Path, Path]:
    """Write the base and RL runs under `directory`; return their run directories."""
    base_rates, rl_rates = success_rates(problems, seed)
    base = write_run(directory / "base", "demo/base-model", base_rates, n, seed + 1)
    rl = write_run(directory / "rl", "demo/rl-model", rl_rates, n, seed + 2)
    return base, rl
