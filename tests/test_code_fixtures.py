"""The code tests' own fixtures look only at what the test started: another grader's sandbox on
the same machine (a second CI job, an evaluation beside it) is not a leftover of this test,
while a process left running as a sandbox uid that no grader holds still is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from code_problems import (  # noqa: F401 (nothing_left_running: an autouse fixture)
    ROOT,
    is_slot_uid,
    nothing_left_running,
    sandbox_processes,
    unheld_slot_uids,
)

pytestmark = pytest.mark.skipif(not ROOT, reason="sandbox uids are used as root only")

# Takes a sandbox uid as a grader does (its slot lock), then leaves a process running as that
# uid for SECONDS, detached from whoever started it (the starter exits; the process goes to
# init): with "hold", still holding the slot, as another grader's sandbox at work; with
# "release", having let go of it, as a program that outlived its sandbox.
DAEMON = """
import os, sys, time
from lm_eval_passk.grading.code.sandbox.slots import Slot
slot = Slot()
read, write = os.pipe()
if os.fork():
    os.close(write)
    sys.stdout.write(os.read(read, 64).decode())
    os._exit(0)
os.setsid()
devnull = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):  # the starter's pipes close with the starter
    os.dup2(devnull, fd)
if sys.argv[2] == "release":
    os.close(slot.handle)
os.setgroups([])
os.setgid(slot.uid)
os.setuid(slot.uid)
os.write(write, str(os.getpid()).encode())
time.sleep(float(sys.argv[1]))
"""


def detached_sandbox_process(seconds: float, slot: str) -> int:
    """A process running as a sandbox uid whose starter has exited; its pid."""
    started = subprocess.run([sys.executable, "-c", DAEMON, str(seconds), slot], capture_output=True, text=True,
                             timeout=60, check=True)  # fmt: skip
    pid = int(started.stdout)
    deadline = time.monotonic() + 5
    while not is_slot_uid(os.stat(f"/proc/{pid}").st_uid) and time.monotonic() < deadline:
        time.sleep(0.01)  # until it has become the uid
    return pid


def test_another_graders_sandbox_is_not_a_leftover_of_this_test() -> None:
    """A process of another grader, still running when this test ends (longer than the
    fixture's 2 s grace), does not fail this test, nor is its uid taken for a free one."""
    other = detached_sandbox_process(seconds=6, slot="hold")
    assert other not in [pid for pid, _ in sandbox_processes()]
    uid = os.stat(f"/proc/{other}").st_uid
    assert uid not in list(unheld_slot_uids([uid]))  # its grader holds the uid


def test_a_process_outliving_its_sandbox_is_still_found() -> None:
    """A process left running as a uid that no grader holds is a leftover, whoever started
    it (here a detached one, no longer this process's descendant)."""
    left = detached_sandbox_process(seconds=60, slot="release")
    try:
        assert left in [pid for pid, _ in sandbox_processes()]
    finally:
        os.kill(left, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox_processes() == []
