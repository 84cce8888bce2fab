"""Grade LiveCodeBench responses by running them, sandboxed, on the problem's tests, and
HumanEval-style responses by running the problem's `check` on them.

    >>> from lm_eval_passk.grading.code import grade_code_many, grade_humaneval_many
    >>> verdicts = grade_code_many(responses, rows)   # rows: code_generation_lite records
    >>> verdicts = grade_humaneval_many(responses, problems)  # {prompt, test, entry_point}

Modules, in the order a response meets them: `extract` (the program in a response),
`testcases` (a row's tests, pickles loaded without globals), `grade` (deduplication and
the engine), `run` (one program's tests, in an engine worker), `sandbox` (the only package
that starts programs; its docstring lists its modules, the inside half `_harness` among
them), `compare` (LiveCodeBench's output rules); `humaneval` (programs checked by test code, through the same engine and sandbox).
docs/CODE.md describes the sandbox and its limits.
"""

from __future__ import annotations

from lm_eval_passk.grading.code.compare import (
    functional_output_matches,
    stdin_output_matches,
)
from lm_eval_passk.grading.code.extract import extract_code
from lm_eval_passk.grading.code.grade import grade_code, grade_code_many
from lm_eval_passk.grading.code.humaneval import grade_humaneval, grade_humaneval_many
from lm_eval_passk.grading.code.sandbox import (
    Completed,
    Limits,
    SandboxError,
    SandboxUnavailable,
    isolation,
    run_sandboxed,
)
from lm_eval_passk.grading.code.testcases import ProblemTests, TestCase, decode_tests

__all__ = [
    "Completed",
    "Limits",
    "ProblemTests",
    "SandboxError",
    "SandboxUnavailable",
    "TestCase",
    "decode_tests",
    "extract_code",
    "functional_output_matches",
    "grade_code",
    "grade_code_many",
    "grade_humaneval",
    "grade_humaneval_many",
    "isolation",
    "run_sandboxed",
    "stdin_output_matches",
]
