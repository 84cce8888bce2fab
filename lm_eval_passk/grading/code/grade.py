"""Grade LiveCodeBench responses: extract each program, run every distinct (program,
problem) once in the sandbox through the grading engine, map the results to Verdicts."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from lm_eval_passk.grading.code.extract import extract_code
from lm_eval_passk.grading.code.run import write_tests
from lm_eval_passk.grading.code.sandbox import GRACE_SECONDS, STARTUP_SECONDS, isolation
from lm_eval_passk.grading.code.testcases import decode_tests
from lm_eval_passk.grading.pool import (
    PROGRAM_PRELOAD,
    Engine,
    Job,
    Outcome,
    shared_engine,
)
from lm_eval_passk.grading.verdict import Verdict

RUN_CHECK = "lm_eval_passk.grading.code.run:run_program"
DEFAULT_SECONDS_PER_TEST = 6.0  # LiveCodeBench's per-test timeout
_PROBLEM_FIELDS = ("question_id", "public_test_cases", "private_test_cases", "metadata")


def grade_code(response: str, row: Mapping[str, Any], **options: Any) -> Verdict:
    """Grade one response against one `code_generation_lite` row; options as for
    grade_code_many."""
    return grade_code_many([response], [row], **options)[0]


# Programs take up to seconds each: a bar is worth showing for a few dozen.
PROGRESS_THRESHOLD_PROGRAMS = 32


def grade_code_many(
    responses: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    timeout_per_test: float = DEFAULT_SECONDS_PER_TEST,
    require_sandbox: bool = False,
    engine: Engine | None = None,
    response_prefix: str = "",
) -> list[Verdict]:
    """One Verdict per response, `rows[i]` being the problem of `responses[i]`. A program
    passes when it passes every public and private test. `response_prefix` is text the
    prompt put at the start of the assistant turn (LiveCodeBench's "```python\\n"), read as
    part of each response. Raises ValueError for a malformed row (e.g. a refused pickle) and
    SandboxUnavailable when `require_sandbox` is set and bubblewrap does not work; never
    for a response's sake."""
    if len(responses) != len(rows):
        raise ValueError(f"grade_code_many: {len(responses)} responses but {len(rows)} rows")
    isolation(require_sandbox)  # warn or refuse here, once, before any program runs
    programs = [extract_code(response_prefix + response) for response in responses]
    with tempfile.TemporaryDirectory(prefix="lm_eval_passk-tests-") as directory:
        test_files: dict[Hashable, tuple[str, int]] = {}
        jobs: list[Job] = []
        for program, row in zip(programs, rows):
            if program is None:
                continue
            key = _problem_key(row)
            if key not in test_files:
                tests = decode_tests(row)
                path = os.path.join(directory, f"{len(test_files)}.json")
                write_tests(path, tests)
                test_files[key] = (path, len(tests.cases))
            path, _ = test_files[key]
            jobs.append(Job(RUN_CHECK, (program, path, timeout_per_test, require_sandbox)))
        outcomes: list[Outcome] = []
        if jobs:
            # The engine's limit only catches a stuck worker: the sandbox times each test.
            most_tests = max(count for _, count in test_files.values())
            job_timeout = 2 * STARTUP_SECONDS + most_tests * (timeout_per_test + GRACE_SECONDS + 1)
            outcomes = (engine or shared_engine(PROGRAM_PRELOAD)).run(
                jobs, timeout=job_timeout, description="grading (code)",
                progress_threshold=PROGRESS_THRESHOLD_PROGRAMS,
            )
    verdicts, results = [], iter(outcomes)
    for program in programs:
        verdicts.append(
            Verdict(False, None, "no_code") if program is None else _verdict(program, next(results))
        )
    return verdicts


def _verdict(program: str, outcome: Outcome) -> Verdict:
    """The failing test's number goes in `detail`, never in the reason: a run's reason
    counts keep a fixed set of keys."""
    if outcome.status == "timeout":  # the engine's limit for the whole job, not a test's
        return Verdict(False, program, "timeout", "engine limit")
    if outcome.status != "ok":
        return Verdict(False, program, "grader_error", outcome.error or "")
    result = outcome.value
    if result["passed"]:
        return Verdict(True, program, "pass")
    return Verdict(False, program, result["failure"], f"test {result['test']}")


def _problem_key(row: Mapping[str, Any]) -> Hashable:
    """Rows with the same tests are one problem (the n responses of a problem usually
    share one row object, whose strings hash once)."""
    return tuple(
        value if isinstance(value, (str, type(None))) else json.dumps(value, sort_keys=True)
        for value in (row.get(field) for field in _PROBLEM_FIELDS)
    )

