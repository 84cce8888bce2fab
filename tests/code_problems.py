"""LiveCodeBench-shaped problems for the code grader's tests, written for them, with the
dataset's storage format, and a way to see what the sandbox left running of what this test
process started."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import pickle
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
# fixtures below check is what this test process started, or what runs as a sandbox uid that
# no grader holds (left over by whoever), never another grader's sandbox at work. Slots are
# held through lock files (grading/code/sandbox/slots.py): a grader takes the lock before
# anything runs as the uid, and lets go only after killing what did.


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
    """The processes this one started, and theirs, and so on."""
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


def _live_sandbox_processes() -> dict[int, int]:
    return {pid: uid for pid, (_, uid, zombie) in _process_table().items() if is_slot_uid(uid) and not zombie}


def sandbox_processes() -> list[tuple[int, int]]:
    """(pid, uid) of every live process running as a sandbox uid that this process started,
    or running as a uid that no grader holds (left over, daemonised out of its sandbox);
    another grader's sandboxes at work are neither."""
    table = _process_table()
    mine = descendants(table)
    found = {pid: uid for pid, (_, uid, zombie) in table.items() if pid in mine and is_slot_uid(uid) and not zombie}
    for uid in unheld_slot_uids(sorted(set(_live_sandbox_processes().values()))):
        found |= {pid: u for pid, u in _live_sandbox_processes().items() if u == uid}  # seen while held
    return sorted(found.items())


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


def _started_by_this_process(pid: int) -> bool:
    """Whether `pid` is this process or one of its descendants (its parent chain)."""
    me = os.getpid()
    while pid > 1:
        if pid == me:
            return True
        try:
            with open(f"/proc/{pid}/status", "rb") as status_file:
                pid = int(status_file.read(2048).split(b"\nPPid:", 1)[1].split(None, 1)[0])
        except (OSError, IndexError):
            return False
    return False


@contextmanager
def slot_uids_taken() -> Iterator[set[int]]:
    """The sandbox uids that this process or its descendants hold while the block runs,
    sampled from the slot locks in /proc/locks every few milliseconds: the uids whose
    leftovers are this test's to check (a very short sandbox may be missed, never another
    grader's counted)."""
    directory = _slot_directory()
    taken: set[int] = set()
    done = threading.Event()

    def sample() -> None:
        uid_of: dict[int, int] = {}
        while not done.wait(0.003):
            try:
                with open("/proc/locks") as locks:
                    lines = locks.read().splitlines()
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if len(fields) < 6 or fields[1] != "FLOCK":  # a waiter's line has "->" there
                    continue
                inode = int(fields[5].rsplit(":", 1)[1])
                if inode not in uid_of:  # a lock file made meanwhile: look again
                    uid_of = {os.stat(entry.path).st_ino: int(entry.name.split(".")[0])
                              for entry in os.scandir(directory) if entry.name.endswith(".lock")}  # fmt: skip
                if inode in uid_of and _started_by_this_process(int(fields[4])):
                    taken.add(uid_of[inode])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield taken
    finally:
        done.set()
        sampler.join()


@pytest.fixture
def taken_slot_uids() -> Iterator[set[int]]:
    """slot_uids_taken over the whole test."""
    with slot_uids_taken() as taken:
        yield taken


ROOT = os.geteuid() == 0


@pytest.fixture(autouse=True)
def nothing_left_running():
    """After every test of a module that imports this fixture: no process that the test
    started runs as a sandbox uid, nor any process as a uid that no grader holds (as root,
    where they exist)."""
    yield
    if ROOT:
        deadline = time.monotonic() + 2
        while sandbox_processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sandbox_processes() == []
