"""Grade math responses (GSM8K, MATH500, AIME 2024/2025, Minerva, AMC23, OlympiadBench) in
one deduplicated pass.

Extraction runs here, in the calling process (linear string work). Each distinct
(answer, gold) pair is compared once: by the quick path when it can decide without sympy,
otherwise in the grading pool under the mode's timeout.
"""

from __future__ import annotations

from collections.abc import Sequence

from lm_eval_passk.grading.config import MathGraderConfig
from lm_eval_passk.grading.equivalence import quick_equal
from lm_eval_passk.grading.extract import extract_answer, gold_answer
from lm_eval_passk.grading.pool import MATH_PRELOAD, Engine, Job, Outcome, shared_engine
from lm_eval_passk.grading.verdict import Verdict

MATH_BENCHMARKS = (
    "gsm8k", "math500", "aime24", "minerva_math", "aime25", "amc23", "olympiadbench",
)
EQUAL_CHECK = "lm_eval_passk.grading.equivalence:equal_in_mode"


def _verdict_from_outcome(answer: str, outcome: Outcome) -> Verdict:
    if outcome.status == "ok":
        correct = bool(outcome.value)
        return Verdict(correct, answer, "match" if correct else "mismatch")
    if outcome.status == "timeout":
        return Verdict(False, answer, "timeout")
    if outcome.error and outcome.error.startswith("ParseError"):
        return Verdict(False, answer, "parse_error", outcome.error.removeprefix("ParseError: "))
    return Verdict(False, answer, "grader_error", outcome.error or "")


def grade_math_many(
    benchmarks: Sequence[str],
    responses: Sequence[str],
    targets: Sequence[str],
    config: MathGraderConfig,
    engine: Engine | None = None,
) -> list[Verdict]:
    """One Verdict per response, `benchmarks[i]` (one of MATH_BENCHMARKS) naming the
    benchmark of `responses[i]`; never raises for a response's sake."""
    answers = [
        extract_answer(benchmark, response, config)
        for benchmark, response in zip(benchmarks, responses)
    ]
    return compare_many(answers, [gold_answer(target) for target in targets], config, engine)


def compare_many(
    answers: Sequence[str | None],
    targets: Sequence[str],
    config: MathGraderConfig,
    engine: Engine | None = None,
) -> list[Verdict]:
    """One Verdict per extracted answer (None: no answer) against its gold text, by the
    math equivalence of `config`; each distinct pair compared once (MathVision's free-form
    answers use it too)."""
    decided: dict[tuple[str, str], Verdict] = {}
    undecided: dict[tuple[str, str], None] = {}  # an ordered set
    for answer, target in zip(answers, targets):
        if answer is None or (answer, target) in decided or (answer, target) in undecided:
            continue
        quick = quick_equal(answer, target, config)
        if quick is None:
            undecided[(answer, target)] = None
        else:
            decided[(answer, target)] = Verdict(quick, answer, "match" if quick else "mismatch")
    if undecided:
        jobs = [Job(EQUAL_CHECK, (a, g, config.name)) for a, g in undecided]
        outcomes = (engine or shared_engine(MATH_PRELOAD)).run(
            jobs, timeout=config.timeout_seconds, description="grading (symbolic)"
        )
        for pair, outcome in zip(undecided, outcomes):
            decided[pair] = _verdict_from_outcome(pair[0], outcome)
    return [
        Verdict(False, None, "no_answer") if answer is None else decided[(answer, target)]
        for answer, target in zip(answers, targets)
    ]
