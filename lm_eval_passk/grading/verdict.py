"""The result of grading one response, and the closed set of reasons it can give."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

# Why a response got its verdict. A closed set, so that a run's reason counts
# (results_*.json) have a fixed handful of keys whatever failed; the particulars (test
# number, exception, signal, error message) go in Verdict.detail.
Reason = Literal[
    "match",  # math, MathVista: the extracted answer equals the gold
    "mismatch",  # math, MathVista: it does not
    "no_answer",  # math, MathVista: no answer could be read from the response
    "parse_error",  # math: the answer could not be parsed for a symbolic comparison
    "pass",  # code: every test passed (LiveCodeBench), check() returned (HumanEval)
    "wrong_answer",  # code: a test's output was wrong; HumanEval: check() raised AssertionError
    "runtime_error",  # code: the program raised, exited non-zero, was killed, or left early
    "timeout",  # over the time limit: a test, a program, or a symbolic comparison
    "output_limit",  # code: a test printed more than the sandbox's output cap
    "memory_limit",  # code: the sandbox was killed at its memory cap
    "no_code",  # code: the response holds no program
    "grader_error",  # the grader itself failed (a worker died, a check raised); never correct
]
REASONS: tuple[Reason, ...] = get_args(Reason)


@dataclass(frozen=True)
class Verdict:
    """Whether one response is correct, what answer was read from it, why (one of
    `REASONS`) and, in free text, the particulars (e.g. "test 7", "NameError")."""

    correct: bool
    answer: str | None
    reason: Reason
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
