"""LiveCodeBench-shaped problems for the code grader's tests, written for them, with the
dataset's storage format, and a way to see what the sandbox left running of what this test
process started."""

from __future__ import annotations

import base64
import ctypes
import fcntl
import json
import os
import pickle
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from lm_eval_passk.grading.code.sandbox import SLOT_COUNT, SLOT_UID_BASE
from lm_eval_passk.grading.code.sandbox.slots import _slot_directory


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


# Several graders share a node (a second CI job, an evaluation on the same GPUs): what the
# fixtures below check is limited to what this test process started, never everything that
# runs as a sandbox uid.

PR_SET_CHILD_SUBREAPER = 36


def _process_table() -> dict[int, tuple[int, int, bool]]:
    """pid: (parent pid, real uid, zombie) of every process in /proc."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as status_file:
                status = status_file.read(2048)
        except OSError:
            continue  # ended meanwhile
        ppid = int(status.split(b"\nPPid:", 1)[1].split(None, 1)[0])
        uid = int(status.split(b"\nUid:", 1)[1].split(None, 1)[0])
        table[int(name)] = (ppid, uid, b"\nState:\tZ" in status)
    return table


def descendants(table: dict[int, tuple[int, int, bool]] | None = None) -> set[int]:
    """The processes this one started, and theirs, and so on (orphans among them included
    once `become_subreaper` has run)."""
    table = _process_table() if table is None else table
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    todo = [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def is_slot_uid(uid: int) -> bool:
    return SLOT_UID_BASE <= uid < SLOT_UID_BASE + SLOT_COUNT


def sandbox_processes() -> list[tuple[int, int]]:
    """(pid, uid) of every live process running as a sandbox uid that this process started
    (directly or not); another grader's sandboxes on the same machine are not among them."""
    table = _process_table()
    return sorted(
        (pid, table[pid][1]) for pid in descendants(table) if is_slot_uid(table[pid][1]) and not table[pid][2]
    )


def become_subreaper() -> None:
    """Make this process the one that orphans of its descendants are given to (not init), so
    that a program that daemonised out of its sandbox still counts as started by this test."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _reap_orphans() -> None:
    """Collect the ended orphans that became this process's children: they would count
    against their sandbox uid's process limit."""
    for pid, (ppid, uid, zombie) in _process_table().items():
        if ppid == os.getpid() and zombie and is_slot_uid(uid):
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def unheld_slot_uids(uids: Iterable[int]) -> Iterator[int]:
    """Each of `uids` that no grader holds now, held while the caller looks at it: what runs
    as it or belongs to it then is left over, not another grader's sandbox at work."""
    directory = _slot_directory()
    for uid in uids:
        handle = os.open(os.path.join(directory, f"{uid}.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # in use by a sandbox, of this test or another grader
            yield uid
        finally:
            os.close(handle)  # releases the lock


ROOT = os.geteuid() == 0


@pytest.fixture(autouse=True)
def nothing_left_running():
    """After every test of a module that imports this fixture: no process that the test
    started runs as a sandbox uid (as root, where they exist)."""
    if ROOT:
        become_subreaper()
    yield
    if ROOT:
        deadline = time.monotonic() + 2
        while sandbox_processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sandbox_processes() == []
        _reap_orphans()
