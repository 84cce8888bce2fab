"""Verdict reasons are a closed set (grading/verdict.py): whatever a grader meets, its
reason is one of REASONS and the particulars (test number, exception, signal) are in
`detail`, so a run's reason counts have a fixed handful of keys."""

from __future__ import annotations

import signal
from typing import get_args

import pytest
from code_problems import SUM, SUM_CORRECT, SUM_CRASH, SUM_SLOW, SUM_WRONG, fenced

from lm_eval_passk.grading import (
    BENCHMARKS,
    GRADERS,
    REASONS,
    Reason,
    Verdict,
    family,
    grade_many,
)
from lm_eval_passk.grading.code import grade as code_grade
from lm_eval_passk.grading.code import grade_code_many, humaneval
from lm_eval_passk.grading.code.sandbox import Completed
from lm_eval_passk.grading.math import _verdict_from_outcome
from lm_eval_passk.grading.pool import PROGRAM_PRELOAD, Engine, Outcome

# A HumanEval-style problem small enough to write here.
ADD = {
    "prompt": "def add(a, b):\n",
    "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
    "entry_point": "add",
}


@pytest.fixture(scope="module")
def engine():
    pool = Engine(workers=2, preload=PROGRAM_PRELOAD)
    yield pool
    pool.close()


def assert_closed(verdicts: list[Verdict]) -> None:
    for verdict in verdicts:
        assert verdict.reason in REASONS, verdict
        assert isinstance(verdict.detail, str), verdict


def test_the_reason_type_and_the_tuple_agree() -> None:
    assert REASONS == get_args(Reason)
    assert len(set(REASONS)) == len(REASONS)
    assert all(reason.isidentifier() and reason.islower() for reason in REASONS)


def test_one_grader_per_family_covers_every_benchmark() -> None:
    assert {family(benchmark) for benchmark in BENCHMARKS} == set(GRADERS)


def test_math_reasons_are_closed() -> None:
    responses = ["\\boxed{x+1}", "\\boxed{x+2}", "no answer here", "\\boxed{((((((((((((x+1)}"]
    verdicts = grade_many("math500", responses, ["x+1"] * len(responses))
    assert [v.reason for v in verdicts] == ["match", "mismatch", "no_answer", "parse_error"]
    assert_closed(verdicts)
    # What the engine can report besides a value: each maps into the set.
    stuck = _verdict_from_outcome("x", Outcome("timeout"))
    died = _verdict_from_outcome("x", Outcome("error", error="worker died"))
    assert (stuck.reason, died.reason, died.detail) == ("timeout", "grader_error", "worker died")


def test_mathvista_reasons_are_closed() -> None:
    record = {
        "pid": "1", "question": "q", "unit": None, "answer": "4", "question_type": "free_form",
        "answer_type": "integer", "precision": None, "choices": None,
    }  # fmt: skip
    responses = ["The answer is 4.", "The answer is 5.", "I cannot tell from this picture."]
    verdicts = grade_many("mathvista", responses, [record] * 3)
    assert [v.reason for v in verdicts] == ["match", "mismatch", "no_answer"]
    assert_closed(verdicts)


def test_code_reasons_are_closed_and_the_test_number_is_only_in_detail(engine: Engine) -> None:
    responses = [fenced(p) for p in (SUM_CORRECT, SUM_WRONG, SUM_CRASH, SUM_SLOW)] + ["none"]
    verdicts = grade_code_many(responses, [SUM] * 5, timeout_per_test=1.0, engine=engine)
    assert [(v.reason, v.detail) for v in verdicts] == [
        ("pass", ""),
        ("wrong_answer", "test 3"),
        ("runtime_error", "test 3"),
        ("timeout", "test 5"),
        ("no_code", ""),
    ]
    assert_closed(verdicts)
    assert not any(any(ch.isdigit() for ch in v.reason) for v in verdicts)
    for result in (
        {"passed": False, "test": 7, "failure": "output_limit"},
        {"passed": False, "test": 2, "failure": "memory_limit"},
    ):
        verdict = code_grade._verdict("p", Outcome("ok", result))
        assert (verdict.reason, verdict.detail) == (result["failure"], f"test {result['test']}")
    assert code_grade._verdict("p", Outcome("timeout")).reason == "timeout"
    assert code_grade._verdict("p", Outcome("error", error="worker died")).reason == "grader_error"


def test_humaneval_reasons_are_closed(engine: Engine) -> None:
    responses = ["    return a + b\n", "    return a - b\n", "    return 1 / 0\n", ""]
    verdicts = humaneval.grade_humaneval_many(responses, [ADD] * 4, engine=engine)
    assert [(v.reason, v.detail) for v in verdicts] == [
        ("pass", ""),
        ("wrong_answer", "AssertionError"),
        ("runtime_error", "ZeroDivisionError"),
        ("no_code", ""),
    ]
    assert_closed(verdicts)


@pytest.mark.parametrize(
    ("completed", "expected"),
    [
        (Completed(b"pass", 0), ("pass", "")),
        (Completed(b"", None, timed_out=True), ("timeout", "")),
        (Completed(b"", -signal.SIGXCPU), ("timeout", "")),
        (Completed(b"", 1, output_truncated=True), ("output_limit", "")),
        (Completed(b"", -signal.SIGKILL, memory_exceeded=True), ("memory_limit", "")),
        (Completed(b"", None), ("runtime_error", "ended by the sandbox")),
        (Completed(b"", -signal.SIGKILL), ("runtime_error", "killed by SIGKILL")),
        (Completed(b"exception AssertionError", 1), ("wrong_answer", "AssertionError")),
        (Completed(b"exception NameError", 1), ("runtime_error", "NameError")),
        (Completed(b"exit 3", 1), ("runtime_error", "exit status 3")),
        (Completed(b"exit 0", 1), ("runtime_error", "exited before check() returned")),
        (Completed(b"exited", 1), ("runtime_error", "exited before check() returned")),
        (Completed(b"malformed reply", 1), ("runtime_error", "malformed reply from the solution's process")),
        (Completed(b"", 1), ("runtime_error", "exit status 1")),
        # Only the test's process writes the verdict, and only a pass exits 0.
        (Completed(b"pass\n", 0), ("runtime_error", "malformed verdict")),
        (Completed(b"pass", 1), ("runtime_error", "exit status 1")),
    ],
)
def test_every_humaneval_ending_maps_into_the_set(completed: Completed, expected: tuple) -> None:
    reason, detail = humaneval.outcome_reason(completed)
    assert (reason, detail) == expected and reason in REASONS
    assert humaneval._verdict("p", Outcome("ok", {"reason": reason, "detail": detail})).reason == reason
