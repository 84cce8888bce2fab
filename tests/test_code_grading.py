"""The LiveCodeBench grader: reading tests, extracting programs, comparing outputs, and
grading whole batches through the engine."""

from __future__ import annotations

import base64
import json
import os
import pickle
import time
import zlib
from pathlib import Path

import pytest
from code_problems import (
    SUM,
    SUM_CORRECT,
    SUM_CRASH,
    SUM_SLOW,
    SUM_WRONG,
    TWO_SUM,
    TWO_SUM_CORRECT,
    TWO_SUM_WRONG,
    fenced,
    row,
)

from lm_eval_passk.grading.code import (
    decode_tests,
    extract_code,
    functional_output_matches,
    grade_code_many,
    stdin_output_matches,
)
from lm_eval_passk.grading.code.run import _load, run_program, write_tests
from lm_eval_passk.grading.pool import PROGRAM_PRELOAD, Engine


@pytest.fixture(scope="module")
def engine():
    pool = Engine(workers=2, preload=PROGRAM_PRELOAD)
    yield pool
    pool.close()


# Reading a row's tests


def test_private_tests_decode_from_the_dataset_format() -> None:
    tests = decode_tests(SUM)
    assert len(tests.cases) == 6 and tests.kind == "stdin" and tests.func_name is None
    assert tests.cases[0].input.startswith("3\n")  # public tests first


def test_plain_json_private_tests_are_accepted() -> None:
    plain = row("plain", [("1\n", "1\n")], [("2\n", "2\n")], plain_private=True)
    assert [case.input for case in decode_tests(plain).cases] == ["1\n", "2\n"]


def test_functional_tests_carry_the_method_name() -> None:
    tests = decode_tests(TWO_SUM)
    assert tests.kind == "functional" and tests.func_name == "twoSum" and len(tests.cases) == 4


class _CallsOsSystem:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_a_command_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    malicious = row("evil_1", [("1\n", "1\n")], [])
    payload = pickle.dumps(_CallsOsSystem(marker))
    malicious["private_test_cases"] = base64.b64encode(zlib.compress(payload)).decode()
    with pytest.raises(ValueError, match=r"evil_1.*refused.*system"):
        decode_tests(malicious)
    with pytest.raises(ValueError, match="evil_1"):
        grade_code_many([fenced("print(1)")], [malicious])
    assert not marker.exists()


def test_a_pickle_of_anything_but_plain_values_is_refused() -> None:
    for value in ({1, 2}, b"bytes", complex(1, 2)):
        bad = row("odd_1", [("1\n", "1\n")], [])
        bad["private_test_cases"] = base64.b64encode(zlib.compress(pickle.dumps(value))).decode()
        with pytest.raises(ValueError, match="odd_1.*refused"):
            decode_tests(bad)


def test_malformed_rows_name_the_problem() -> None:
    broken = row("broken_1", [("1\n", "1\n")], [])
    broken["private_test_cases"] = "not base64 at all!"
    with pytest.raises(ValueError, match="broken_1"):
        decode_tests(broken)
    functional = row("lc_1", [("not json", "1")], [], func_name="f")
    with pytest.raises(ValueError, match="lc_1.*JSON"):
        decode_tests(functional)


# Extraction


def test_the_last_python_block_is_the_program() -> None:
    response = "First try:\n```python\nprint(1)\n```\nBetter:\n```python\nprint(2)\n```\nOutput:\n```\n2\n```"
    assert extract_code(response) == "print(2)\n"


def test_an_untagged_block_counts_when_no_python_block_exists() -> None:
    assert extract_code("```\nprint(3)\n```") == "print(3)\n"
    assert extract_code("```bash\nls\n```") is None


def test_reasoning_is_skipped() -> None:
    response = "<think>```python\nprint('draft')\n```</think>Final:\n```python\nprint('final')\n```"
    assert extract_code(response) == "print('final')\n"
    assert extract_code("<think>```python\nprint(1)\n```") is None  # never finished thinking


def test_bare_code_is_a_program_and_prose_is_not() -> None:
    assert extract_code("n = int(input())\nprint(n * 2)\n") == "n = int(input())\nprint(n * 2)\n"
    assert extract_code("Yes") is None
    assert extract_code("The answer is to sort the list.") is None


def test_the_prompts_opening_fence_is_read_as_part_of_the_response() -> None:
    # LiveCodeBench's prompt ends with "```python": the response starts inside the block.
    response = "print(int(input()) * 2)\n```\nThis doubles the input."
    assert extract_code("```python\n" + response) == "print(int(input()) * 2)\n"


# Comparison (LiveCodeBench's rules)


def test_stdin_comparison_strips_lines_and_reads_numbers_as_decimals() -> None:
    assert stdin_output_matches("1 2\n3  \n\n", "1 2\n3")
    assert stdin_output_matches("0.50 1e2\r\n", "0.5 100")
    assert not stdin_output_matches("1 2", "1 2 3")
    assert not stdin_output_matches("0.3333", "0.3333333")  # exact Decimals, no tolerance
    assert not stdin_output_matches("Yes\nNo", "Yes")
    assert not stdin_output_matches("nan", "NaN") and not stdin_output_matches("sNaN", "1")


def test_functional_comparison_is_json_equality() -> None:
    assert functional_output_matches("[1, 2]", "[1,2]")
    assert functional_output_matches("true", "true") and functional_output_matches("2.0", "2")
    assert not functional_output_matches("[2, 1]", "[1, 2]")
    assert not functional_output_matches("", "[1]") and not functional_output_matches("junk", "1")


# Whole programs


def test_run_program_stops_at_the_first_failing_test(tmp_path: Path) -> None:
    path = str(tmp_path / "sum.json")
    write_tests(path, decode_tests(SUM))
    assert run_program(SUM_CORRECT, path, 6.0, False) == {"passed": True}
    assert run_program(SUM_WRONG, path, 6.0, False) == {
        "passed": False,
        "test": 3,
        "failure": "wrong_answer",
    }
    assert run_program(SUM_CRASH, path, 6.0, False) == {
        "passed": False,
        "test": 3,
        "failure": "runtime_error",
    }
    assert _load(path).kind == "stdin"


def test_a_mixed_batch_is_graded(engine: Engine) -> None:
    correct = [fenced(SUM_CORRECT)] * 5 + [fenced(TWO_SUM_CORRECT)] * 3
    responses = [
        *correct,
        fenced(SUM_WRONG),
        fenced(SUM_CRASH),
        fenced(SUM_SLOW),
        fenced(TWO_SUM_WRONG),
        "I could not solve it.",
    ]
    rows = [SUM] * 5 + [TWO_SUM] * 3 + [SUM, SUM, SUM, TWO_SUM, SUM]
    start = time.monotonic()
    verdicts = grade_code_many(responses, rows, timeout_per_test=1.0, engine=engine)
    assert time.monotonic() - start < 30
    assert [(v.reason, v.detail) for v in verdicts] == [("pass", "")] * 8 + [
        ("wrong_answer", "test 3"),
        ("runtime_error", "test 3"),
        ("timeout", "test 5"),  # n = 1000 sleeps past the limit
        ("wrong_answer", "test 2"),  # [0, 1] is right for the public test
        ("no_code", ""),
    ]
    assert [v.correct for v in verdicts] == [True] * 8 + [False] * 5
    assert verdicts[0].answer == SUM_CORRECT and verdicts[-1].answer is None


def test_equal_programs_of_a_problem_run_once(engine: Engine) -> None:
    # Every run of this program takes 6 tests x 0.2 s: ten runs on two workers take 6 s.
    slow_but_right = "import time\ntime.sleep(0.2)\n" + SUM_CORRECT
    start = time.monotonic()
    verdicts = grade_code_many([fenced(slow_but_right)] * 10, [SUM] * 10, engine=engine)
    assert all(v.correct for v in verdicts)
    assert time.monotonic() - start < 4.0


def test_livecodebench_conventions(engine: Engine) -> None:
    """The `__main__` block runs; the prelude's names (List, defaultdict, ...) exist;
    the competitive-programming idioms work."""
    echo = row("echo", [("5\n", "10\n")], [("21\n", "42\n")])
    programs = {
        "main block": "def main():\n    print(int(input()) * 2)\n\nif __name__ == '__main__':\n    main()\n",
        "prelude": "d = defaultdict(int)\nd['x'] += int(input())\nprint(d['x'] * 2)\n",
        "open(0)": "print(int(open(0).read()) * 2)\n",
        "buffer": "import sys\nprint(int(sys.stdin.buffer.readline()) * 2)\n",
        "thread": "import threading\nthreading.stack_size(1 << 26)\ndef main():\n    print(int(input()) * 2)\nthreading.Thread(target=main).start()\n",
        "recursion": "import sys\nsys.setrecursionlimit(10**6)\ndef f(n):\n    return 0 if n == 0 else 2 + f(n - 1)\nprint(f(int(input())))\n",
        "exit": "import sys\nprint(int(input()) * 2)\nsys.exit(0)\n",
    }
    verdicts = grade_code_many(
        [fenced(p) for p in programs.values()], [echo] * len(programs), engine=engine
    )
    assert {name: v.reason for name, v in zip(programs, verdicts)} == dict.fromkeys(
        programs, "pass"
    )
    nonzero = grade_code_many([fenced("print(int(input()) * 2)\nexit(3)\n")], [echo], engine=engine)
    assert nonzero[0].reason == "runtime_error"


def test_functional_programs_without_a_class_and_with_prints(engine: Engine) -> None:
    top_level = (
        "def twoSum(nums, target):\n"
        "    print('debug output is ignored')\n"
        "    for i in range(len(nums)):\n"
        "        for j in range(i + 1, len(nums)):\n"
        "            if nums[i] + nums[j] == target:\n"
        "                return [i, j]\n"
    )
    verdicts = grade_code_many([fenced(top_level)], [TWO_SUM], engine=engine)
    assert verdicts[0].reason == "pass"


def test_verdicts_are_json_serialisable(engine: Engine) -> None:
    (verdict,) = grade_code_many([fenced(SUM_CORRECT)], [SUM], engine=engine)
    assert json.loads(json.dumps(verdict.to_dict()))["reason"] == "pass"


def test_require_sandbox_runs_when_bubblewrap_works(engine: Engine) -> None:
    from lm_eval_passk.grading.code import isolation

    if isolation().bwrap is None:
        pytest.skip("bubblewrap is not installed or does not work here")
    verdicts = grade_code_many([fenced(SUM_CORRECT)], [SUM], require_sandbox=True, engine=engine)
    assert verdicts[0].reason == "pass"
