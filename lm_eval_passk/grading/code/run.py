"""The grading job for one program: run it on its problem's tests in the sandbox, stopping
at the first test it fails. Runs in the grading engine's workers (grading/pool.py).

A problem's tests reach the worker as a file written once per grading call (the path is
the job's argument, so a job stays small and equal programs of a problem are one job);
expected outputs stay in this process and are compared here, outside the sandbox.
"""

from __future__ import annotations

import json
import os
import re
import signal
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lm_eval_passk.grading.code.compare import (
    functional_output_matches,
    stdin_output_matches,
)
from lm_eval_passk.grading.code.sandbox import (
    Completed,
    Limits,
    isolation,
    run_sandboxed,
)
from lm_eval_passk.grading.code.testcases import ProblemTests, functional_arguments
from lm_eval_passk.grading.verdict import Reason


@dataclass(frozen=True)
class _Tests:
    kind: str
    func_name: str | None
    cases: tuple[tuple[str, str], ...]  # (what the sandbox gets, expected output)


def write_tests(path: str, tests: ProblemTests) -> None:
    """Store a problem's tests for the workers: inputs as the sandbox takes them
    (functional: the JSON argument list), with their expected outputs."""
    cases = [
        (
            json.dumps(functional_arguments(case.input))
            if case.kind == "functional"
            else case.input,
            case.output,
        )
        for case in tests.cases
    ]
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"kind": tests.kind, "func_name": tests.func_name, "cases": cases}, out)


def _load(path: str) -> _Tests:
    status = os.stat(path)  # a later grading call may reuse a deleted file's name
    return _load_version(path, status.st_ino, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=8)  # jobs arrive grouped by problem: a handful of files in use at once
def _load_version(path: str, inode: int, modified: int, size: int) -> _Tests:
    with open(path, encoding="utf-8") as source:
        stored = json.load(source)
    return _Tests(stored["kind"], stored["func_name"], tuple(map(tuple, stored["cases"])))


def failure(kind: str, expected: str, completed: Completed) -> Reason | None:
    """Why one test failed, or None when it passed."""
    if completed.timed_out or completed.exit_code == -signal.SIGXCPU:
        return "timeout"
    if completed.output_truncated:
        return "output_limit"
    if completed.memory_exceeded:
        return "memory_limit"  # killed at the sandbox's memory cap (a memory cgroup)
    if completed.exit_code != 0:
        return "runtime_error"
    actual = completed.stdout.decode("utf-8", errors="replace")
    if not _comparable(kind, actual, expected):
        return "wrong_answer"
    matches = functional_output_matches if kind == "functional" else stdin_output_matches
    return None if matches(actual, expected) else "wrong_answer"


_TOKEN = re.compile(r"\S+")  # str.split()'s tokens: \s is str.isspace() for str patterns
# A functional answer's JSON, as the harness writes it, is at most this many times as long
# as an expected output of equal value (\uXXXX escapes, 1e5 written 100000.0, ...).
FUNCTIONAL_LENGTH_RATIO = 16


def _comparable(kind: str, actual: str, expected: str) -> bool:
    """Whether `actual` could match at all, decided without building anything the size of
    the output: the comparison's lists of lines, tokens or JSON values for 64 MiB of output
    took the worker to 1.7 GB. stdin: compare.py's line count, then its token count (equal
    for every matching pair of lines), counted no further than one past the expected's.
    Functional: a length bound."""
    if kind == "functional":
        return len(actual) <= FUNCTIONAL_LENGTH_RATIO * len(expected) + 1024
    if actual.strip().count("\n") != expected.strip().count("\n"):
        return False
    wanted = sum(1 for _ in _TOKEN.finditer(expected))
    seen = 0
    for _ in _TOKEN.finditer(actual):
        seen += 1
        if seen > wanted:
            return False
    return seen == wanted


def run_program(
    source: str, tests_path: str, seconds: float, require_sandbox: bool
) -> dict[str, Any]:
    """{"passed": True} or {"passed": False, "test": n (1-based), "failure": a Reason}."""
    tests = _load(tests_path)
    inputs = (test_input.encode() for test_input, _ in tests.cases)
    results = run_sandboxed(
        source, inputs, kind=tests.kind, func_name=tests.func_name,
        limits=Limits(seconds=seconds), require_sandbox=require_sandbox,
    )  # fmt: skip
    with closing(results):
        for number, ((_, expected), completed) in enumerate(zip(tests.cases, results), 1):
            why = failure(tests.kind, expected, completed)
            if why is not None:
                return {"passed": False, "test": number, "failure": why}
    return {"passed": True}


def warm_up() -> None:
    """Probe the sandbox before the worker's first job, so that no job's time pays for it."""
    isolation()
