"""LiveCodeBench-shaped problems for the code grader's tests, written for them, with the
dataset's storage format, and a way to see what the sandbox left running."""

from __future__ import annotations

import base64
import json
import os
import pickle
import time
import zlib
from typing import Any

import pytest

from lm_eval_passk.grading.code.sandbox import SLOT_COUNT, SLOT_UID_BASE


def encode_private(tests: list[dict[str, str]]) -> str:
    """As `code_generation_lite` stores private tests: base64(zlib(pickle(JSON string)))."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()


def row(
    question_id: str,
    public: list[tuple[str, str]],
    private: list[tuple[str, str]],
    func_name: str | None = None,
    plain_private: bool = False,
) -> dict[str, Any]:
    kind = "functional" if func_name else "stdin"
    tests = lambda pairs: [{"input": i, "output": o, "testtype": kind} for i, o in pairs]  # noqa: E731
    return {
        "question_title": f"problem {question_id}",
        "question_content": "...",
        "platform": "leetcode" if func_name else "atcoder",
        "question_id": question_id,
        "contest_id": "c1",
        "contest_date": "2024-09-01T00:00:00",
        "starter_code": f"class Solution:\n    def {func_name}(self):\n        "
        if func_name
        else "",
        "difficulty": "easy",
        "public_test_cases": json.dumps(tests(public)),
        "private_test_cases": json.dumps(tests(private))
        if plain_private
        else encode_private(tests(private)),
        "metadata": json.dumps({"func_name": func_name} if func_name else {}),
    }


# Sum of a list of integers: "n\na1 ... an" -> the sum.
def _sum_case(n: int) -> tuple[str, str]:
    numbers = [(i * 7919) % 1000 - 500 for i in range(n)]
    return f"{n}\n{' '.join(map(str, numbers))}\n", f"{sum(numbers)}\n"


SUM = row("abc_sum", [_sum_case(3)], [_sum_case(n) for n in (1, 5, 50, 1000, 20000)])
SUM_CORRECT = "n = int(input())\nprint(sum(map(int, input().split())))\n"
SUM_WRONG = "n = int(input())\nprint(sum(map(int, input().split())) + (n > 4))\n"  # fails test 3
SUM_CRASH = "n = int(input())\nassert n != 5\nprint(sum(map(int, input().split())))\n"  # test 3
SUM_SLOW = "import time\nn = int(input())\ntime.sleep(0.01 if n < 100 else 60)\nprint(sum(map(int, input().split())))\n"

# Two-sum as LeetCode states it, functional: nums, target -> the two indices.
TWO_SUM = row(
    "lc_two_sum",
    [("[2,7,11,15]\n9", "[0, 1]")],
    [("[3,2,4]\n6", "[1, 2]"), ("[3,3]\n6", "[0, 1]"), ("[1,5,9,13]\n22", "[2, 3]")],
    func_name="twoSum",
)
TWO_SUM_CORRECT = """class Solution:
    def twoSum(self, nums: List[int], target: int) -> List[int]:
        seen = {}
        for index, value in enumerate(nums):
            if target - value in seen:
                return (seen[target - value], index)  # a tuple: becomes a list, as in LCB
            seen[value] = index
"""
TWO_SUM_WRONG = """class Solution:
    def twoSum(self, nums, target):
        return [0, 1]
"""


def fenced(code: str, before: str = "Here is my solution.\n", after: str = "\nDone.") -> str:
    """A response with `code` in a ```python block, between some prose."""
    return f"{before}```python\n{code.rstrip()}\n```{after}"


def sandbox_processes() -> list[tuple[int, int]]:
    """(pid, uid) of every live process running as one of the sandbox uids."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as status_file:
                status = status_file.read(2048)
        except OSError:
            continue
        uid = int(status.split(b"\nUid:", 1)[1].split(None, 1)[0])
        if SLOT_UID_BASE <= uid < SLOT_UID_BASE + SLOT_COUNT and b"\nState:\tZ" not in status:
            found.append((int(name), uid))
    return found


ROOT = os.geteuid() == 0


@pytest.fixture(autouse=True)
def nothing_left_running():
    """After every test of a module that imports this fixture: no process runs as a sandbox
    uid (as root, where they exist)."""
    yield
    if ROOT:
        deadline = time.monotonic() + 2
        while sandbox_processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sandbox_processes() == []
