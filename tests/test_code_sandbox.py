"""The sandbox against hostile programs: each attack is graded wrong or contained, ends
within its time bound, and leaves no process or file behind on the host.

Every attack is bounded by construction (a fork loop stops at a few hundred, a disk fill
at a few hundred megabytes) so that a sandbox that failed to contain it would fail the
test, not take the machine down.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from pathlib import Path

import pytest
from code_problems import (  # noqa: F401 (nothing_left_running: an autouse fixture)
    SUM,
    SUM_CORRECT,
    TWO_SUM,
    fenced,
    nothing_left_running,
    row,
    sandbox_processes,
)

from lm_eval_passk.grading.code import (
    Completed,
    Limits,
    SandboxUnavailable,
    grade_code_many,
    run_sandboxed,
    sandbox,
)
from lm_eval_passk.grading.pool import PROGRAM_PRELOAD, Engine

ROOT = os.geteuid() == 0
REPO = Path(__file__).resolve().parents[1]
QUICK = Limits(seconds=2.0)


def run_once(source: str, stdin: bytes = b"", limits: Limits = QUICK, **options) -> Completed:
    (completed,) = run_sandboxed(source, [stdin], limits=limits, **options)
    return completed


@pytest.fixture(scope="module")
def engine():
    pool = Engine(workers=2, preload=PROGRAM_PRELOAD)
    yield pool
    pool.close()


@pytest.fixture
def fallback(monkeypatch: pytest.MonkeyPatch):
    """The sandbox as on a machine without bubblewrap."""
    monkeypatch.setattr(sandbox.probe, "_find_bwrap", lambda: None)
    monkeypatch.setattr(sandbox.probe, "_isolation", None)  # probed again; restored afterwards


FORK_LOOP = """
import os, time
made = 0
for _ in range(300):
    try:
        if os.fork() == 0:
            time.sleep(1)
            os._exit(0)
        made += 1
    except OSError:
        break
print(made)
"""
MEMORY_BOMB = "block = bytearray(3 * 1024**3)\nprint('allocated', len(block))\n"
DISK_FILL = """
import os
written = 0
try:
    with open("fill", "wb") as out:
        for _ in range(256):  # 256 MiB at most
            out.write(b"x" * (1 << 20))
            out.flush()
            written += 1
except OSError as error:
    print("file stopped", written, error.errno)
files = 0
try:
    for index in range(16):  # 16 x 15 MiB at most, each under the file-size limit
        with open(f"part{index}", "wb") as out:
            out.write(b"x" * (15 << 20))
        files += 1
except OSError as error:
    print("scratch stopped", files, error.errno)
"""


@pytest.mark.parametrize("mode", ["bwrap", "fallback"])
def test_a_fork_loop_is_capped(mode: str, request: pytest.FixtureRequest) -> None:
    if mode == "fallback":
        request.getfixturevalue("fallback")
    elif sandbox.isolation().bwrap is None:
        pytest.skip("bubblewrap is not installed")
    completed = run_once(FORK_LOOP)
    assert completed.exit_code == 0
    assert int(completed.stdout) < QUICK.processes  # not the 300 it asked for


def test_a_new_user_namespace_does_not_lift_the_process_cap() -> None:
    escape = "import ctypes\nprint(ctypes.CDLL(None).unshare(0x10000000))\n"  # CLONE_NEWUSER
    completed = run_once(escape + FORK_LOOP)
    assert int(completed.stdout.split()[-1]) < QUICK.processes


@pytest.mark.parametrize("mode", ["bwrap", "fallback"])
def test_a_memory_bomb_fails(mode: str, request: pytest.FixtureRequest) -> None:
    if mode == "fallback":
        request.getfixturevalue("fallback")
    completed = run_once(MEMORY_BOMB)
    assert completed.exit_code == 1 and b"MemoryError" in completed.stderr
    assert b"allocated" not in completed.stdout


def test_a_disk_fill_stops_at_the_file_size_and_scratch_limits() -> None:
    completed = run_once(DISK_FILL, limits=Limits(seconds=10))
    lines = completed.stdout.decode().splitlines()
    assert lines[0] == "file stopped 16 27"  # EFBIG at RLIMIT_FSIZE = 16 MiB
    if sandbox.isolation().bwrap:
        assert lines[1].startswith("scratch stopped") and lines[1].endswith(" 28")  # ENOSPC


def test_writes_outside_the_working_directory_fail_or_vanish() -> None:
    name = f"lm_eval_passk_attack_{secrets.token_hex(4)}"
    targets = [f"/tmp/{name}", f"/var/tmp/{name}", f"/dev/shm/{name}", f"/root/{name}",
               f"/home/{name}", str(REPO / name), str(REPO / "tests" / name), f"/etc/{name}",
               f"/usr/lib/{name}"]  # fmt: skip
    program = f"""
for path in {targets!r}:
    try:
        with open(path, "w") as out:
            out.write("x")
        print("wrote", path)
    except OSError as error:
        print("refused", path, error.errno)
with open("inside.txt", "w") as out:
    out.write("the working directory is writable")
print(open("inside.txt").read())
"""
    completed = run_once(program)
    assert completed.exit_code == 0 and b"the working directory is writable" in completed.stdout
    for target in targets:
        assert not os.path.exists(target), f"{target} reached the host"
    for name_in_repo in os.listdir(REPO):  # this test's name: another suite beside it has its own
        assert name not in name_in_repo


@pytest.mark.parametrize("mode", ["bwrap", "fallback"])
def test_no_loopback_connection(mode: str, request: pytest.FixtureRequest) -> None:
    if mode == "fallback":
        if not ROOT:
            pytest.skip("the fallback isolates the network only as root")
        request.getfixturevalue("fallback")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        program = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=1).sendall(b"leak")
    print("connected")
except OSError as error:
    print("refused", error.errno)
"""
        completed = run_once(program)
        assert completed.stdout.startswith(b"refused")
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked


def test_environment_secrets_are_not_inherited(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = secrets.token_hex(8)
    monkeypatch.setenv("LM_EVAL_PASSK_TEST_SECRET", secret)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    completed = run_once(
        "import os\nprint(dict(os.environ))\n"
        "try:\n    print(open('/proc/1/environ', 'rb').read())\nexcept OSError as error:\n    print(error)\n"
    )
    assert secret.encode() not in completed.stdout
    allowed = {*sandbox.PROGRAM_ENVIRONMENT, "HOME"}
    shown = eval(completed.stdout.decode().splitlines()[0])  # a dict literal we printed
    assert set(shown) <= allowed


@pytest.mark.parametrize("mode", ["bwrap", "fallback"])
def test_home_directories_and_run_are_hidden(mode: str, request: pytest.FixtureRequest) -> None:
    if mode == "fallback":
        if not ROOT:
            pytest.skip("the fallback hides directories only as root")
        request.getfixturevalue("fallback")
    hidden = ["/root", "/home", "/run"]
    program = f"import os\nfor path in {hidden!r}:\n    print(sorted(os.listdir(path)) if os.path.isdir(path) else [])\n"
    listings = [eval(line) for line in run_once(program).stdout.decode().splitlines()]
    for path, listing in zip(hidden, listings):
        # Only the way to the interpreter, where it lives in a hidden directory, remains.
        leading = {
            Path(p).relative_to(path).parts[0]
            for p in sandbox.visibility.interpreter_paths()
            if p.startswith(path + "/")
        }
        assert set(listing) <= leading, (path, listing)


def test_killing_the_parent_fails_the_program_and_nothing_else(engine: Engine) -> None:
    attack = "import os, signal\nfor pid in (os.getppid(), 1):\n    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\nprint(6)\n"
    completed = run_once(attack, b"3\n")
    assert completed.exit_code != 0  # its harness died with it: no result
    echo = row("double", [("3\n", "6\n")], [])
    verdicts = grade_code_many(
        [fenced(attack), fenced("print(int(input()) * 2)")], [echo, echo], engine=engine
    )
    assert [v.reason for v in verdicts] == ["runtime_error", "pass"]
    assert grade_code_many([fenced(SUM_CORRECT)], [SUM], engine=engine)[0].correct  # still works


def test_exiting_before_the_tests_run_is_wrong(engine: Engine) -> None:
    early_exits = [
        "import os\nos._exit(0)\nclass Solution:\n    def twoSum(self, nums, target):\n        return [0, 1]\n",
        "import sys\nsys.exit(0)\n",
        "import os\nos.close(1)\nclass Solution:\n    def twoSum(self, nums, target):\n        return [0, 1]\n",
    ]
    verdicts = grade_code_many([fenced(p) for p in early_exits], [TWO_SUM] * 3, engine=engine)
    assert not any(v.correct for v in verdicts), verdicts


def test_a_rigged_equality_cannot_pass(engine: Engine) -> None:
    always_equal = """
class Always:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
class Solution:
    def twoSum(self, nums, target):
        return Always()
"""
    equal_list = """
class Equal(list):
    def __eq__(self, other):
        return True
class Solution:
    def twoSum(self, nums, target):
        return Equal()
"""
    verdicts = grade_code_many(
        [fenced(always_equal), fenced(equal_list)], [TWO_SUM] * 2, engine=engine
    )
    assert [(v.reason, v.detail) for v in verdicts] == [
        ("runtime_error", "test 1"),
        ("wrong_answer", "test 1"),
    ]


def test_huge_output_is_cut_off_and_fails() -> None:
    flood = "import sys\nline = 'x' * (1 << 20) + '\\n'\nfor _ in range(400):\n    sys.stdout.write(line)\n"
    start = time.monotonic()
    completed = run_once(flood, limits=Limits(seconds=10))
    assert completed.output_truncated and len(completed.stdout) <= Limits().output_bytes
    assert time.monotonic() - start < 10


def test_a_long_sleep_times_out_in_bounded_time() -> None:
    start = time.monotonic()
    completed = run_once("import time\ntime.sleep(600)\n", limits=Limits(seconds=1.0))
    assert completed.timed_out and completed.exit_code is None
    assert time.monotonic() - start < 1.0 + sandbox.GRACE_SECONDS + 1.5


@pytest.mark.parametrize("mode", ["bwrap", "fallback"])
def test_orphaned_children_are_killed(mode: str, request: pytest.FixtureRequest) -> None:
    if mode == "fallback":
        request.getfixturevalue("fallback")
    daemon = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        sys.stdout.close()
        time.sleep(300)
    os._exit(0)
print(int(input()) * 2)
"""
    results = list(run_sandboxed(daemon, [b"1\n", b"2\n", b"3\n"], limits=QUICK))
    assert [r.stdout for r in results] == [b"2\n", b"4\n", b"6\n"]
    # the `nothing_left_running` fixture checks that none of the daemons survived


# Without bubblewrap


def test_the_fallback_warns_once(fallback, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="lm_eval.passk.sandbox"):
        assert run_once("print(1)").stdout == b"1\n"
        assert run_once("print(2)").stdout == b"2\n"
    warnings = [r for r in caplog.records if "WITHOUT bubblewrap" in r.getMessage()]
    assert len(warnings) == 1


def test_the_fallback_still_enforces_time_and_isolates_secrets(
    fallback, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LM_EVAL_PASSK_TEST_SECRET", "hunter2")
    assert b"hunter2" not in run_once("import os\nprint(dict(os.environ))").stdout
    start = time.monotonic()
    assert run_once("while True:\n    pass\n", limits=Limits(seconds=1.0)).timed_out
    assert time.monotonic() - start < 4
    if ROOT:
        assert run_once("import os\nprint(os.getuid())").stdout.strip() != b"0"


def test_require_sandbox_makes_a_missing_bubblewrap_an_error(fallback) -> None:
    with pytest.raises(SandboxUnavailable, match="not installed"):
        run_once("print(1)", require_sandbox=True)
    with pytest.raises(SandboxUnavailable):
        grade_code_many([fenced(SUM_CORRECT)], [SUM], require_sandbox=True)


def test_a_broken_bubblewrap_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.probe, "_find_bwrap", lambda: "/bin/false")
    monkeypatch.setattr(sandbox.probe, "_isolation", None)
    how = sandbox.isolation()
    assert how.bwrap is None and "does not work here" in how.reason
    with pytest.raises(SandboxUnavailable, match="does not work here"):
        sandbox.isolation(require_sandbox=True)
    monkeypatch.setattr(sandbox.probe, "_isolation", None)
