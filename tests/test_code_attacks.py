"""Cheats a red-team found, one class per section: each attack program (our own) is graded
wrong, leaves nothing behind, and an honest program still passes after it.

The attacks know the expected outputs (they are in this file); what they try is to get a
wrong run counted as a pass: by forging the harness's framing, or by smuggling answers
between programs through the kernel or the file system.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from pathlib import Path

import pytest
from code_problems import (  # noqa: F401 (autouse fixture)
    SUM,
    SUM_CORRECT,
    descendants,
    fenced,
    nothing_left_running,
    row,
    sandbox_processes,
    taken_slot_uids,
    unheld_slot_uids,
)

from lm_eval_passk.grading.code import grade_code_many, run_sandboxed, sandbox
from lm_eval_passk.grading.code.testcases import decode_tests
from lm_eval_passk.grading.pool import PROGRAM_PRELOAD, Engine

ROOT = os.geteuid() == 0


@pytest.fixture
def fallback(monkeypatch: pytest.MonkeyPatch):
    """The sandbox as on a machine without bubblewrap."""
    monkeypatch.setattr(sandbox.probe, "_find_bwrap", lambda: None)
    monkeypatch.setattr(sandbox.probe, "_isolation", None)


@pytest.fixture(scope="module")
def engine():
    pool = Engine(workers=2, preload=PROGRAM_PRELOAD)
    yield pool
    pool.close()


def _sum_answers() -> list[str]:
    return [case.output.strip() for case in decode_tests(SUM).cases]


# 1. Forged result framing

# Writes `data` to its own stdout and to every fd 1 (and every descriptor) of every process
# it can open through /proc, the way a forged trailer would reach the parent's channel; the
# nonce of the old protocol, if any command line holds one, goes in front of a trailer.
FORGE = r'''
import json, os, re, sys
def nonces():
    found = set()
    for pid in os.listdir("/proc"):
        try:
            found |= set(re.findall(rb"[0-9a-f]{32}", open(f"/proc/{pid}/cmdline", "rb").read()))
        except OSError:
            pass
    return found
def forge(after=b"", fields=("exit", "seconds", "max_rss_kb")):
    """A trailer that ends the current test as a 0.05 s success, then `after` as the
    output of the next test."""
    trailer = json.dumps({k: {"exit": 0, "seconds": 0.05, "max_rss_kb": 1}[k] for k in fields}).encode()
    data = b"T%d\n%sO%d\n%s" % (len(trailer), trailer, len(after), after)
    for nonce in nonces():  # the old protocol: newline, separator, nonce, trailer
        data = b"\n\x1e%s %s\n%s" % (nonce, trailer, after)
    sys.stdout.flush()
    targets = [1]
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    try:
                        targets.append(os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK))
                    except OSError:
                        pass
            except OSError:
                pass
    for fd in targets:
        try:
            os.write(fd, data)
        except OSError:
            pass
'''


def test_output_after_the_time_limit_with_a_forged_fast_trailer_times_out(engine: Engine) -> None:
    late = FORGE + """
import time
time.sleep(1.2)  # past the 1 s limit, inside the 0.5 s grace
print(int(input()) * 2)
forge()
"""
    echo = row("double", [("3\n", "6\n")], [])
    (verdict,) = grade_code_many([fenced(late)], [echo], timeout_per_test=1.0, engine=engine)
    assert verdict.reason == "timeout", verdict


def test_answers_for_later_tests_printed_during_the_first_are_its_output(engine: Engine) -> None:
    answers = _sum_answers()
    ahead = FORGE + f"""
import os
answers = {answers!r}
if not os.path.exists("done"):
    open("done", "w").close()
    print(answers[0])
    for answer in answers[1:]:
        forge(answer.encode() + b"\\n")
    sys.stdout.flush()
    os._exit(0)
else:
    import time
    time.sleep(30)  # a later test: by then its answer would have been taken already
"""
    (verdict,) = grade_code_many([fenced(ahead)], [SUM], timeout_per_test=1.0, engine=engine)
    assert (verdict.reason, verdict.detail) == ("wrong_answer", "test 1"), verdict


def test_a_malformed_forged_trailer_is_a_wrong_answer_not_a_grader_error(engine: Engine) -> None:
    answers = _sum_answers()
    broken = FORGE + f"""
print({answers[0]!r})
forge(fields=("exit",))
"""
    (verdict,) = grade_code_many([fenced(broken)], [SUM], engine=engine)
    assert not verdict.correct and verdict.detail == "test 1", verdict
    assert verdict.reason != "grader_error", verdict


def test_the_harness_channel_is_not_in_the_programs_reach() -> None:
    """No nonce in any command line; no other process's descriptors open to the program."""
    probe = FORGE + """
print(sorted(nonces()))
opened = 0
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            opened += len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            pass
print(opened)
"""
    (completed,) = run_sandboxed(probe, [b""])
    assert completed.exit_code == 0, completed
    assert completed.stdout.splitlines() == [b"[]", b"0"]


def test_a_malformed_channel_is_a_failed_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever reaches the parent that is not a frame (here: the harness made to print
    garbage) ends the test without a pass and without an exception."""
    monkeypatch.setattr(
        sandbox.supervise, "HARNESS_SOURCE",
        sandbox.HARNESS_SOURCE.replace('_frame(b"T", json.dumps(trailer).encode())',
                                       '_frame(b"T", b"{not json")'),
    )  # fmt: skip
    (completed,) = run_sandboxed("print(1)", [b""])
    assert completed.exit_code is None and not completed.timed_out
    assert b"malformed" in completed.stderr


def test_an_honest_program_passes_after_the_forgeries(engine: Engine) -> None:
    echo = row("double", [("3\n", "6\n")], [("4\n", "8\n")])
    verdicts = grade_code_many([fenced(SUM_CORRECT), fenced("print(int(input()) * 2)")],
                               [SUM, echo], engine=engine)  # fmt: skip
    assert [v.reason for v in verdicts] == ["pass", "pass"]
    assert json.dumps([v.reason for v in verdicts])


# 2. Kernel keyrings

KEYS = r'''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
SYS_ADD_KEY, SYS_KEYCTL = {"x86_64": (248, 250), "aarch64": (217, 219)}[os.uname().machine]
RINGS = {"@s": -3, "@u": -4, "@us": -5}
def add(ring, description, payload):
    return libc.syscall(SYS_ADD_KEY, b"user", description.encode(), payload, ctypes.c_size_t(len(payload)), ctypes.c_long(ring))
def read(key):
    buffer = ctypes.create_string_buffer(4096)
    size = libc.syscall(SYS_KEYCTL, 11, ctypes.c_long(key), buffer, ctypes.c_size_t(4096), 0)
    return buffer.raw[:size] if size >= 0 else None
def search(ring, description):
    return libc.syscall(SYS_KEYCTL, 10, ctypes.c_long(ring), b"user", description.encode(), 0)
def persistent():
    return libc.syscall(SYS_KEYCTL, 22, ctypes.c_long(-1), ctypes.c_long(-2))  # links it to @p
'''


def _slot_key_counts() -> dict[int, int]:
    """Keys each sandbox uid owns, from /proc/key-users."""
    counts = {}
    with open("/proc/key-users") as listing:
        for line in listing:
            uid, rest = line.split(":", 1)
            if sandbox.SLOT_UID_BASE <= int(uid) < sandbox.SLOT_UID_BASE + sandbox.SLOT_COUNT:
                counts[int(uid)] = int(rest.split()[1].split("/")[0])
    return counts


keyrings = pytest.mark.skipif(
    os.uname().machine not in ("x86_64", "aarch64") or not os.path.exists("/proc/key-users"),
    reason="keyctl numbers known here for x86_64 and aarch64, with a kernel that has keys",
)


@keyrings
def test_keys_stored_by_one_program_are_gone_for_the_next(engine: Engine, taken_slot_uids: set[int]) -> None:  # noqa: F811 (a fixture)
    answers = _sum_answers()
    before = _slot_key_counts()
    store = KEYS + f"""
stored = [add(ring, "lm_eval_passk_answer", "{' '.join(answers)}".encode()) for ring in RINGS.values()]
ring = persistent()
if ring > 0:
    stored.append(add(ring, "lm_eval_passk_answer", "{' '.join(answers)}".encode()))
input()
print(sum(map(int, input().split())))  # honest, and it stores the answers
import sys
print(stored, file=sys.stderr)
"""
    verdicts = grade_code_many([fenced(store)], [SUM], engine=engine)
    assert verdicts[0].correct
    steal = KEYS + """
found = b""
for ring in list(RINGS.values()) + [persistent()]:
    key = search(ring, "lm_eval_passk_answer")
    if key > 0:
        found = read(key) or found
n = int(input())
answers = found.decode().split()
index = {3: 0, 1: 1, 5: 2, 50: 3, 1000: 4, 20000: 5}[n]
print(answers[index] if answers else "nothing")
"""
    for _ in range(3):  # whichever slot uid the next programs get
        (verdict,) = grade_code_many([fenced(steal)], [SUM], engine=engine)
        assert (verdict.reason, verdict.detail) == ("wrong_answer", "test 1"), verdict
    (completed,) = run_sandboxed(steal, [b"3\n1 2 3\n"])
    assert completed.stdout == b"nothing\n", completed
    # nothing left: each slot uid owns at most its empty per-uid keyrings (user, user
    # session, persistent), once the cleared keys are collected
    def grown():  # of the uids this test's sandboxes took, read while no grader holds them
        return {
            u: n for u in unheld_slot_uids(sorted(taken_slot_uids))
            if (n := _slot_key_counts().get(u, 0)) > max(3, before.get(u, 0))
        }  # fmt: skip

    assert taken_slot_uids  # the sandboxes above were seen taking their uids

    deadline = time.monotonic() + 3
    while grown() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert grown() == {}
    assert grade_code_many([fenced(SUM_CORRECT)], [SUM], engine=engine)[0].correct


@keyrings
def test_the_graders_session_keyring_is_out_of_reach() -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    add_key, keyctl = {"x86_64": (248, 250), "aarch64": (217, 219)}[os.uname().machine]
    # This process joins a keyring of its own for the test, then keeps a secret in it.
    assert libc.syscall(keyctl, 1, b"lm_eval_passk-test", 0, 0, 0) > 0
    secret = b"the expected outputs"
    key = libc.syscall(add_key, b"user", b"lm_eval_passk_secret", secret,
                       ctypes.c_size_t(len(secret)), ctypes.c_long(-3))  # fmt: skip
    assert key > 0
    try:
        steal = KEYS + f"""
found = [read({key})]
for ring in RINGS.values():
    k = search(ring, "lm_eval_passk_secret")
    found.append(read(k) if k > 0 else None)
print(found)
"""
        (completed,) = run_sandboxed(steal, [b""])
        assert completed.exit_code == 0, completed
        assert secret not in completed.stdout and completed.stdout.strip() == b"[None, None, None, None]"
    finally:
        libc.syscall(keyctl, 21, ctypes.c_long(key), 0, 0, 0)  # KEYCTL_INVALIDATE


# 3. Readable expected outputs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def hub_cache(monkeypatch: pytest.MonkeyPatch):
    """A fake Hugging Face hub cache outside every directory hidden before (not under /tmp,
    /root or /home), holding the SUM problem's expected outputs; HF_HUB_CACHE names it."""
    path = Path(f"/var/tmp/lm_eval_passk_hub_{secrets.token_hex(4)}")
    (path / "datasets--livecodebench").mkdir(parents=True)
    (path / "datasets--livecodebench" / "answers.json").write_text(json.dumps(_sum_answers()))
    path.chmod(0o755)
    monkeypatch.setenv("HF_HUB_CACHE", str(path))
    yield path
    shutil.rmtree(path)


READ_ANSWERS = """
import json, os, sys
n = int(input())
try:
    answers = json.load(open({path!r}))
    print(answers[{{3: 0, 1: 1, 5: 2, 50: 3, 1000: 4, 20000: 5}}[n]])
except OSError as error:
    print("unreadable", error.errno)
"""


@pytest.mark.parametrize("mode", ["bwrap", "fallback"])
def test_a_hub_cache_and_the_repository_are_not_readable(
    mode: str, request: pytest.FixtureRequest, hub_cache: Path, engine: Engine
) -> None:
    if mode == "fallback":
        if not ROOT:
            pytest.skip("the fallback hides directories only as root")
        request.getfixturevalue("fallback")
    elif sandbox.isolation().bwrap is None:
        pytest.skip("bubblewrap is not installed")
    answers = hub_cache / "datasets--livecodebench" / "answers.json"
    program = READ_ANSWERS.format(path=str(answers))
    (completed,) = run_sandboxed(program, [b"3\n1 2 3\n"])
    assert completed.stdout.startswith(b"unreadable"), completed
    probe = f"""
import os
for path in {[str(REPO / "pyproject.toml"), str(REPO / "tests" / "code_problems.py"), str(REPO / "tests" / "fixtures"), os.getcwd()]!r}:
    try:
        print(path, os.listdir(path) if os.path.isdir(path) else len(open(path).read()))
    except OSError as error:
        print(path, "unreadable", error.errno)
"""
    (completed,) = run_sandboxed(probe, [b""])
    lines = completed.stdout.decode().splitlines()
    assert len(lines) == 4 and all(
        line.endswith("unreadable 2") or line.endswith(" []") for line in lines
    ), lines
    if mode == "bwrap":  # graded through the engine too: wrong
        (verdict,) = grade_code_many([fenced(program)], [SUM], engine=engine)
        assert (verdict.reason, verdict.detail) == ("wrong_answer", "test 1"), verdict
    assert json.loads(answers.read_text()) == _sum_answers()  # untouched
    assert grade_code_many([fenced(SUM_CORRECT)], [SUM], engine=engine)[0].correct


def test_only_the_system_and_the_interpreter_are_visible() -> None:
    if sandbox.isolation().bwrap is None:
        pytest.skip("bubblewrap is not installed")
    (completed,) = run_sandboxed("import os\nprint(sorted(os.listdir('/')))\n", [b""])
    top = set(eval(completed.stdout))
    allowed = {"dev", "proc", "tmp"} | {p.strip("/") for p in sandbox.SYSTEM_READ_ONLY}
    allowed |= {Path(p).parts[1] for p in sandbox.visibility.interpreter_paths()}
    assert top <= allowed, top - allowed
    assert not {"home", "run", "var", "work", "opt", "mnt"} & (top - allowed)


# 4. System V IPC without bubblewrap

IPC = r'''
import ctypes, json
libc = ctypes.CDLL(None, use_errno=True)
IPC_CREAT, IPC_NOWAIT = 0o1000, 0o4000
QUEUE_KEY, SEGMENT_KEY = 0x4C4D4551, 0x4C4D4553
class Message(ctypes.Structure):
    _fields_ = [("mtype", ctypes.c_long), ("text", ctypes.c_char * 512)]
'''


def _slot_ipc_objects() -> list[str]:
    """System V objects in the host's namespace owned or created by a sandbox uid, of the
    uids no grader holds (read while holding each): another grader's sandbox may have some."""
    found = []
    for held in unheld_slot_uids(range(sandbox.SLOT_UID_BASE, sandbox.SLOT_UID_BASE + sandbox.SLOT_COUNT)):
        for kind in ("shm", "msg", "sem"):
            with open(f"/proc/sysvipc/{kind}") as listing:
                header, *entries = listing.read().splitlines()
            at_uid, at_cuid = header.split().index("uid"), header.split().index("cuid")
            for entry in entries:
                fields = entry.split()
                if held in (int(fields[at_uid]), int(fields[at_cuid])):
                    found.append(f"{kind}: {entry.strip()}")
    return found


@pytest.mark.skipif(not os.path.exists("/proc/sysvipc/msg"), reason="no System V IPC")
@pytest.mark.parametrize("mode", ["bwrap", "fallback", "fallback-without-ipc-namespace"])
def test_system_v_objects_do_not_outlive_their_program(
    mode: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if mode.startswith("fallback"):
        if not ROOT:
            pytest.skip("the fallback's IPC namespace needs root (docs/CODE.md)")
        request.getfixturevalue("fallback")
    if mode == "fallback-without-ipc-namespace":  # as where a container refuses it
        source = sandbox.HARNESS_SOURCE.replace("_libc.unshare(CLONE_NEWIPC)", "-1")
        assert source != sandbox.HARNESS_SOURCE
        monkeypatch.setattr(sandbox.supervise, "HARNESS_SOURCE", source)
    if mode == "bwrap" and sandbox.isolation().bwrap is None:
        pytest.skip("bubblewrap is not installed")
    answers = _sum_answers()
    store = IPC + f"""
queue = libc.msgget(QUEUE_KEY, IPC_CREAT | 0o666)
message = Message(1, json.dumps({answers!r}).encode())
sent = libc.msgsnd(queue, ctypes.byref(message), ctypes.c_size_t(512), IPC_NOWAIT)
segment = libc.shmget(SEGMENT_KEY, ctypes.c_size_t(1 << 20), IPC_CREAT | 0o666)
print(queue >= 0 and sent == 0, segment >= 0)
"""
    (completed,) = run_sandboxed(store, [b""])
    assert completed.stdout == b"True True\n", completed
    steal = IPC + """
n = int(input())
queue, segment = libc.msgget(QUEUE_KEY, 0), libc.shmget(SEGMENT_KEY, ctypes.c_size_t(0), 0)
message = Message()
if queue >= 0 and libc.msgrcv(queue, ctypes.byref(message), ctypes.c_size_t(512), 0, IPC_NOWAIT) > 0:
    print(json.loads(message.text)[{3: 0, 1: 1, 5: 2, 50: 3, 1000: 4, 20000: 5}[n]])
else:
    print("nothing", queue, segment)
"""
    (completed,) = run_sandboxed(steal, [b"3\n1 2 3\n"])
    assert completed.stdout == b"nothing -1 -1\n", completed
    if ROOT:
        assert _slot_ipc_objects() == []
    (completed,) = run_sandboxed(SUM_CORRECT, [b"3\n1 2 3\n"])
    assert completed.stdout == b"6\n"


# 5. Memory: the grader's own, whatever a program prints

GRADER_MEMORY = r'''
import json, sys
from lm_eval_passk.grading.code.run import run_program
kind, program = sys.argv[1], sys.argv[2]
case = ("[1]", "[2]") if kind == "functional" else ("3\n1 2 3\n", "6\n")
with open(sys.argv[3], "w") as out:
    json.dump({"kind": kind, "func_name": "f" if kind == "functional" else None, "cases": [case]}, out)
# A generous clock: this checks memory, and a machine busy with other graders (a second
# suite beside this one) writes 100 MiB of output slower.
verdict = run_program(program, sys.argv[3], 60.0, False)
# VmHWM, this process's own peak: ru_maxrss carries the parent's peak over fork and exec,
# so it read 545 MiB when pytest itself had grown that large during a full suite run.
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps([verdict, peak_kib // 1024]))
'''


@pytest.mark.parametrize(
    "kind, program",
    [
        ("stdin", "import sys\nsys.stdout.write('12\\n' * (20 << 20))\n"),  # 60 MiB of lines
        ("stdin", "import sys\nsys.stdout.write('12 ' * (20 << 20))\n"),  # one line, 20M tokens
        ("functional", "class Solution:\n    def f(self, x):\n        return [0.5] * (12 << 20)\n"),
    ],
)
def test_a_large_output_does_not_blow_up_the_graders_memory(
    kind: str, program: str, tmp_path: Path
) -> None:
    """Just under the 64 MiB output cap: the worker's peak stays a few times the cap (it
    was 1.7 GB when the comparison split such an output into lines and tokens)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", GRADER_MEMORY, kind, program, str(tmp_path / "tests.json")],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    verdict, peak_mib = json.loads(result.stdout.splitlines()[-1])
    assert verdict == {"passed": False, "test": 1, "failure": "wrong_answer"}
    assert peak_mib < 512, peak_mib


HOARD_SHARED_MEMORY = r"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
IPC_CREAT, IPC_PRIVATE = 0o1000, 0
held = 0
for _ in range(32):  # 1 GiB at most, in 32 MiB segments, each touched then detached
    segment = libc.shmget(IPC_PRIVATE, ctypes.c_size_t(32 << 20), IPC_CREAT | 0o600)
    if segment < 0:
        break
    address = libc.shmat(segment, None, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        break
    ctypes.memset(address, 1, 32 << 20)
    libc.shmdt(ctypes.c_void_p(address))
    held += 32
print(held)
"""


@pytest.mark.skipif(not ROOT, reason="the IPC limits are set as root, in the sandbox's namespace")
@pytest.mark.parametrize("mode", ["bwrap", "fallback"])
def test_system_v_shared_memory_is_bounded(mode: str, request: pytest.FixtureRequest) -> None:
    if mode == "fallback":
        request.getfixturevalue("fallback")
    elif sandbox.isolation().bwrap is None:
        pytest.skip("bubblewrap is not installed")
    with open("/proc/sys/kernel/shmall") as setting:
        host_shmall = setting.read()
    (completed,) = run_sandboxed(HOARD_SHARED_MEMORY, [b""])
    assert completed.exit_code == 0, completed
    assert int(completed.stdout) <= sandbox.Limits().ipc_bytes // (1 << 20)
    with open("/proc/sys/kernel/shmall") as setting:
        assert setting.read() == host_shmall  # the host's limits untouched
    assert _slot_ipc_objects() == []


@pytest.mark.skipif(not ROOT, reason="the fallback's PID namespace needs root")
@pytest.mark.parametrize("mode", ["bwrap", "fallback"])
def test_a_program_sees_only_its_own_sandboxs_processes(
    mode: str, request: pytest.FixtureRequest
) -> None:
    if mode == "fallback":
        request.getfixturevalue("fallback")
    elif sandbox.isolation().bwrap is None:
        pytest.skip("bubblewrap is not installed")
    probe = f"""
import os
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print(len(pids), {os.getpid()} in pids and os.path.exists("/proc/{os.getpid()}/cmdline"))
"""
    (completed,) = run_sandboxed(probe, [b""])
    count, sees_the_grader = completed.stdout.split()
    assert int(count) <= 3 and sees_the_grader == b"False", completed


# 7. Memory held outside one process's address space

# RLIMIT_AS sees neither memfd pages nor the sum over processes: both programs hold twice
# the sandbox's cap (512 MiB in the tests below, as is RLIMIT_AS per process), then answer
# correctly if they kept it all.
HOARD_MEMFDS = """
import os
held = []
chunk = b"x" * (1 << 20)
for _ in range(70):  # 1 GiB in memfds of 15 MiB (under RLIMIT_FSIZE), none mapped
    descriptor = os.memfd_create("hoard")
    for _ in range(15):
        os.write(descriptor, chunk)
    held.append(descriptor)
"""
HOARD_PROCESSES = """
import os, sys, time
children = []
for _ in range(4):  # 1 GiB: 256 MiB in each of four processes, each under its RLIMIT_AS
    pid = os.fork()
    if pid == 0:
        block = bytearray(256 << 20)
        for at in range(0, len(block), 4096):
            block[at] = 1
        time.sleep(2)
        os._exit(0)
    children.append(pid)
if any(os.waitpid(pid, 0)[1] != 0 for pid in children):
    sys.exit(0)  # a child was killed: exit cleanly without the answer
"""


def _sandbox_cgroups() -> list[str]:
    """The sandbox cgroups made by this process or one it started (their names carry the
    maker's pid): another grader's are not this test's."""
    where = sandbox.cgroups.hierarchy()
    assert where is not None
    ours = {str(pid) for pid in descendants() | {os.getpid()}}
    found = []
    for directory in {where.memory, where.pids} - {None}:
        found += [
            p.name for p in directory.glob(f"{sandbox.cgroups.PREFIX}-*-*")  # type: ignore[union-attr]
            if p.name.removeprefix(f"{sandbox.cgroups.PREFIX}-").split("-")[0] in ours
        ]  # fmt: skip
    return found


needs_memory_cgroup = pytest.mark.skipif(
    sandbox.cgroups.hierarchy() is None,
    reason=f"no memory cgroup can be made here: {sandbox.cgroups.memory_cap_reason()}",
)


@needs_memory_cgroup
@pytest.mark.parametrize("mode", ["bwrap", "fallback"])
@pytest.mark.parametrize("hoard", [HOARD_MEMFDS, HOARD_PROCESSES], ids=["memfds", "processes"])
def test_memory_held_in_memfds_or_across_processes_stops_at_the_sandbox_cap(
    mode: str, hoard: str, request: pytest.FixtureRequest
) -> None:
    if mode == "fallback":
        request.getfixturevalue("fallback")
    elif sandbox.isolation().bwrap is None:
        pytest.skip("bubblewrap is not installed")
    test_input, expected = decode_tests(SUM).cases[0].input, decode_tests(SUM).cases[0].output
    # A 512 MiB cap (and RLIMIT_AS 512 MiB per process) and a generous clock: the cap, not the
    # time limit, must end them.
    limits = sandbox.Limits(seconds=30, memory_bytes=512 << 20, sandbox_memory_bytes=512 << 20)
    (completed,) = run_sandboxed(hoard + SUM_CORRECT, [test_input.encode()], limits=limits)
    assert completed.memory_exceeded, completed
    assert completed.stdout != expected.encode()
    assert _sandbox_cgroups() == []
    (honest,) = run_sandboxed(SUM_CORRECT, [test_input.encode()])
    assert honest.exit_code == 0 and honest.stdout == expected.encode(), honest


@needs_memory_cgroup
def test_a_program_over_the_memory_cap_is_graded_memory_limit(engine: Engine) -> None:
    hoarder = fenced(HOARD_MEMFDS.replace("range(70)", "range(270)") + SUM_CORRECT)  # 4 GiB
    honest = fenced(SUM_CORRECT)
    # The default 2.5 GiB cap; the clock is generous so that a loaded machine's slower
    # writes still end at the cap, not at the time limit.
    verdicts = grade_code_many([hoarder, honest], [SUM, SUM], timeout_per_test=30, engine=engine)
    assert [v.reason for v in verdicts] == ["memory_limit", "pass"], verdicts
    assert verdicts[0].detail == "test 1", verdicts


V1_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
V1_CGROUP = "8:pids:/\n4:memory:/jobs/42\n1:cpu:/\n0::/\n"


def test_a_v1_memory_hierarchy_is_found_from_the_process_files() -> None:
    found = sandbox.cgroups.find_hierarchy(
        sandbox.cgroups.parse_mountinfo(V1_MOUNTINFO), sandbox.cgroups.parse_cgroup_file(V1_CGROUP)
    )
    assert found == sandbox.cgroups.Hierarchy(
        1, Path("/sys/fs/cgroup/memory/jobs/42"), Path("/sys/fs/cgroup/pids")
    )


def test_a_v2_hierarchy_is_used_only_with_a_memory_controller(tmp_path: Path) -> None:
    # A container's view: the mount shows the hierarchy from /kubepods/pod1 down.
    own = tmp_path / "job"
    own.mkdir()
    mountinfo = f"50 40 0:40 /kubepods/pod1 {tmp_path} rw - cgroup2 cgroup2 rw,nsdelegate\n"
    paths = sandbox.cgroups.parse_cgroup_file("0::/kubepods/pod1/job\n")
    mounts = sandbox.cgroups.parse_mountinfo(mountinfo)
    (own / "cgroup.controllers").write_text("cpu io memory pids\n")
    assert sandbox.cgroups.find_hierarchy(mounts, paths) == sandbox.cgroups.Hierarchy(2, own, own)
    (own / "cgroup.controllers").write_text("hugetlb\n")  # as on hybrid v1 machines
    assert "no cgroup hierarchy with a memory controller" in str(
        sandbox.cgroups.find_hierarchy(mounts, paths)
    )
    # A process whose cgroup lies outside what is mounted gets none.
    outside = sandbox.cgroups.parse_cgroup_file("0::/elsewhere\n")
    assert isinstance(sandbox.cgroups.find_hierarchy(mounts, outside), str)
