"""The one module that starts untrusted programs. Its entry point is `run_sandboxed`.

A program runs inside bubblewrap when it is installed and works: new PID, network, IPC and
UTS namespaces, a default-deny file system (only the system directories and the interpreter,
read-only, and a fresh /tmp; no home directories, caches, repository or /run), a
size-limited tmpfs as its working directory, a clean environment, a fresh session keyring. Started as root (CI, containers), bubblewrap sets up the mounts and the
in-box harness then drops to an unprivileged uid of its own (61000 + slot), because
RLIMIT_NPROC does not bind root: a capped fork loop made all 200 of its forks as root and
31 as uid 61000 on the development machine. Every process gets rlimits on address space,
open files, core size and process count; each test's process also on CPU time and file
size. Without bubblewrap the same harness runs directly, with the same uid drop and
rlimits, and, as root, its own network, IPC and mount namespaces; a loud warning says so,
and `require_sandbox=True` makes it an error. A slot uid's keyrings and System V objects
are cleared when the slot is released. docs/CODE.md gives the reasons for each limit.

The harness (`_harness.py`) runs a program's tests one after another in forked children,
so a program costs one sandbox start and a fork per test; `run_sandboxed` hands it one
input at a time, when the caller asks for the next result, and kills the whole sandbox
when a test runs past its time or prints more than the cap. Results come back in frames
only the harness writes (a test's program has its own output pipe), so no output of a
program can pass for a result, a time or another test's output.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import logging
import os
import pwd
import selectors
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

log = logging.getLogger("lm_eval.passk.sandbox")

MiB = 1024**2
GiB = 1024**3
# Unprivileged uids for sandboxes started as root: one per concurrently running sandbox,
# so that process counts (RLIMIT_NPROC is per uid) and the final kill of everything a uid
# runs never touch another sandbox. Uids that name an account on this machine are skipped.
SLOT_UID_BASE = 61000
SLOT_COUNT = 64
STARTUP_SECONDS = 30.0  # interpreter start and imports, under whatever load the host has
GRACE_SECONDS = 0.5  # the harness times each test itself; this covers fork and transfer
STDERR_TAIL_BYTES = 4096
MAX_FRAME_HEADER = 24  # a tag, a decimal length and a newline
MAX_FRAME_BYTES = 1 << 20  # the harness frames at most one pipe read (1 MiB) at a time
HARNESS_SOURCE = (Path(__file__).with_name("_harness.py")).read_text(encoding="utf-8")
# What a program sees of the host with bubblewrap, read-only: the system's programs,
# libraries and configuration; the interpreter's own directories are added where they live
# elsewhere. Everything else is absent (default-deny).
SYSTEM_READ_ONLY = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
# Without bubblewrap (the fallback, as root), the file system stays visible but for these,
# which become empty: home directories (keys, tokens, caches with the benchmark's own
# answers), /run (sockets of system services); `_hidden_paths` adds the temporary directory
# (the grader's test files), the Hugging Face caches and the repository.
HIDDEN = ("/root", "/home", "/run")
# Environment variables naming caches that hold datasets (so expected outputs).
CACHE_VARIABLES = (
    "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_DATASETS_CACHE",
    "TRANSFORMERS_CACHE", "XDG_CACHE_HOME",
)  # fmt: skip
# Never hidden, whatever the environment says.
_SYSTEM_DIRECTORIES = frozenset(
    {"/", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/dev", "/sys"}
)
# Programs see one core's worth of numeric libraries: otherwise numpy starts one thread
# per host core, against the process cap and the address-space limit.
PROGRAM_ENVIRONMENT = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class Limits:
    """What one program may use. Defaults: docs/CODE.md."""

    seconds: float = 6.0  # wall clock per test, LiveCodeBench's
    memory_bytes: int = 2 * GiB  # address space per process (RLIMIT_AS)
    file_bytes: int = 16 * MiB  # largest file a test may write (RLIMIT_FSIZE)
    processes: int = 32  # processes and threads of one sandbox (RLIMIT_NPROC)
    open_files: int = 256  # per process (RLIMIT_NOFILE)
    output_bytes: int = 64 * MiB  # stdout kept per test; more ends the test as a failure
    scratch_bytes: int = 64 * MiB  # the tmpfs that holds the working directory
    ipc_bytes: int = 64 * MiB  # System V shared memory in all (as root, in its IPC namespace)


@dataclass(frozen=True)
class Completed:
    """How one test's run ended."""

    stdout: bytes  # at most Limits.output_bytes
    exit_code: int | None  # negative: killed by that signal; None: ended by the sandbox
    timed_out: bool = False
    output_truncated: bool = False  # printed more than Limits.output_bytes
    seconds: float = 0.0
    stderr: bytes = b""  # the last few kilobytes, for diagnosis only


class SandboxUnavailable(RuntimeError):
    """Bubblewrap was required but is missing or does not work here."""


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the program in it)."""


@dataclass(frozen=True)
class Isolation:
    """How programs are isolated on this machine."""

    bwrap: str | None  # a working bubblewrap; None: the fallback
    root: bool  # started as root: programs run under a slot uid
    reason: str = ""  # why the fallback is in use


def _find_bwrap() -> str | None:
    return shutil.which("bwrap")


_isolation: Isolation | None = None


def isolation(require_sandbox: bool = False) -> Isolation:
    """The isolation in use, probed once per process; warns loudly (once) when it is the
    fallback, and raises SandboxUnavailable then if `require_sandbox`."""
    global _isolation
    if _isolation is None:
        _isolation = _choose_isolation()
        if _isolation.bwrap is None:
            log.warning(
                "\n%s\nRunning generated programs WITHOUT bubblewrap: %s.\nFallback: %s, "
                "rlimits, its own session; the file system is readable wherever Unix "
                "permissions allow. Install bubblewrap (apt-get install bubblewrap), or "
                "set require_sandbox to make this an error.\n%s",
                "!" * 80,
                _isolation.reason,
                "a separate unprivileged uid and (when the kernel permits) its own network "
                "and mount namespaces"
                if _isolation.root
                else "the current user, network allowed",
                "!" * 80,
            )
    if require_sandbox and _isolation.bwrap is None:
        raise SandboxUnavailable(f"require_sandbox is set but {_isolation.reason}")
    return _isolation


def _choose_isolation() -> Isolation:
    root = os.geteuid() == 0
    path = _find_bwrap()
    if path is None:
        return Isolation(None, root, "bubblewrap (bwrap) is not installed")
    candidate = Isolation(path, root)
    try:
        (completed,) = _run(candidate, "print(6 * 7)", [b""], "stdin", None, Limits(seconds=30))
        works = completed.exit_code == 0 and completed.stdout.strip() == b"42"
        problem = completed.stderr.decode(errors="replace").strip()[-300:]
    except (SandboxError, OSError) as error:
        works, problem = False, str(error)
    if not works:
        return Isolation(None, root, f"bubblewrap at {path} does not work here ({problem})")
    return candidate


def run_sandboxed(
    source: str,
    inputs: Iterable[bytes],
    *,
    kind: str = "stdin",
    func_name: str | None = None,
    limits: Limits = Limits(),
    require_sandbox: bool = False,
) -> Iterator[Completed]:
    """Run the Python program `source` on each input in turn, one sandbox for all of them,
    yielding one Completed per input. An input is sent only when the next result is asked
    for: stop iterating (and close the iterator) to skip the rest. `kind` "stdin": the
    input is the program's stdin, its stdout the result; "functional": the input is a JSON
    list of arguments for `Solution().<func_name>`, the result that call's return value as
    JSON. A test that times out or prints too much ends its sandbox; a later input starts
    a fresh one."""
    return _run(isolation(require_sandbox), source, inputs, kind, func_name, limits)


def _run(
    how: Isolation,
    source: str,
    inputs: Iterable[bytes],
    kind: str,
    func_name: str | None,
    limits: Limits,
) -> Iterator[Completed]:
    box: _Box | None = None
    try:
        for payload in inputs:
            if box is None:
                box = _Box(how, {"kind": kind, "source": source, "func_name": func_name}, limits)
            completed = box.run(payload)
            if not box.alive:
                box.close()
                box = None
            yield completed
    finally:
        if box is not None:
            box.close()


class _Box:
    """One running sandbox: the harness and whatever the current test started."""

    def __init__(self, how: Isolation, program: dict, limits: Limits) -> None:
        self.limits = limits
        self.bwrap = how.bwrap is not None
        self.slot = _Slot() if how.root else None
        self.workdir_on_host: str | None = None
        self.alive = True
        self.raw = bytearray()  # frames from the harness not yet taken apart
        self.out = bytearray()  # the current test's output
        self.err = bytearray()
        self.pending: deque[memoryview] = deque()  # bytes not yet written to the harness
        uid = self.slot.uid if self.slot else None
        config = {
            "uid": uid,
            "isolate": how.bwrap is None and how.root,
            "own_ipc": how.bwrap is not None,  # bubblewrap always unshares IPC
            "ipc_bytes": limits.ipc_bytes,
            "chdir_done": how.bwrap is not None,
            "kill_all": how.bwrap is not None or how.root,
            "hide": list(_hidden_paths()),
            "expose": list(_interpreter_paths()),
            "scratch_bytes": limits.scratch_bytes,
            "cpu_seconds": int(limits.seconds) + 1,
            "file_bytes": limits.file_bytes,
        }
        harness = [sys.executable, "-s", "-c", HARNESS_SOURCE, json.dumps(config)]
        command = _bwrap_command(how, limits, harness) if how.bwrap else harness
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd="/",
                env=PROGRAM_ENVIRONMENT,
                start_new_session=True,  # its own process group, killed as one
                preexec_fn=_limit(limits, how),
            )
        except BaseException:
            if self.slot:
                self.slot.release(everything_ended=True)
            raise
        self.selector = selectors.DefaultSelector()
        try:
            self._start(program)
        except BaseException:
            self.close()
            raise

    def _start(self, program: dict) -> None:
        """Send the program; wait until the harness says it is ready."""
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            assert stream is not None
            os.set_blocking(stream.fileno(), False)
        assert self.process.stdout and self.process.stderr
        self.selector.register(self.process.stdout, selectors.EVENT_READ)
        self.selector.register(self.process.stderr, selectors.EVENT_READ)
        self._send(json.dumps(program).encode())
        ready = self._pump(time.monotonic() + STARTUP_SECONDS, b"R")
        if not isinstance(ready, bytes):
            detail = self.err.decode(errors="replace").strip()[-500:]
            raise SandboxError(f"the sandbox did not start ({ready}): {detail}")
        info = json.loads(ready)
        self.workdir_on_host = info.get("workdir_on_host")

    def run(self, payload: bytes) -> Completed:
        """Send one test's input; wait for its end frame, its time limit or the output cap.
        Its time is the harness's (fork to exit), bounded by the wait here; nothing the
        program prints can end a test or set its time (it never holds the channel)."""
        self.err.clear()
        self.out.clear()
        self._send(payload)
        started = time.monotonic()
        state = self._pump(started + self.limits.seconds + GRACE_SECONDS, b"T")
        elapsed = time.monotonic() - started
        stderr = bytes(self.err[-STDERR_TAIL_BYTES:])
        stdout = bytes(self.out[: self.limits.output_bytes])
        self.out.clear()
        trailer = None
        if isinstance(state, bytes):
            try:
                trailer = json.loads(state)
                exit_code, seconds = trailer["exit"], trailer["seconds"]
                if not isinstance(exit_code, int) or not isinstance(seconds, (int, float)):
                    raise TypeError(trailer)
            except (ValueError, KeyError, TypeError):
                trailer, state = None, "malformed"
        if trailer is None:
            self._kill()
            if state == "eof":  # the harness died: the program killed it, or crashed it
                return Completed(
                    stdout, _died_code(self.process.returncode), seconds=elapsed, stderr=stderr
                )
            if state == "malformed":  # never a pass, never a grader error
                stderr += b"\n[sandbox] malformed frame from the harness"
                return Completed(stdout, None, seconds=elapsed, stderr=stderr)
            return Completed(stdout, None, state == "deadline", state == "cap", elapsed, stderr)
        return Completed(
            stdout,
            exit_code,
            timed_out=seconds > self.limits.seconds,
            seconds=float(seconds),
            stderr=stderr,
        )

    def _send(self, data: bytes) -> None:
        if not self.pending:
            self.selector.register(self.process.stdin, selectors.EVENT_WRITE)  # type: ignore[arg-type]
        self.pending += [memoryview(b"%d\n" % len(data)), memoryview(data)]

    def _frames(self, until: bytes) -> bytes | str | None:
        """Take the complete frames off the raw buffer: `O` frames go to the test's output;
        returns the body of an `until` frame, "cap" past the output cap, "malformed" for
        anything that is not a frame, None when more bytes are needed."""
        while self.raw:
            tag = bytes(self.raw[:1])
            newline = self.raw.find(b"\n", 0, MAX_FRAME_HEADER)
            if newline < 0:
                return "malformed" if len(self.raw) >= MAX_FRAME_HEADER else None
            size_text = bytes(self.raw[1:newline])
            if tag not in (b"R", b"O", b"T") or not size_text.isdigit():
                return "malformed"
            size = int(size_text)
            if size > MAX_FRAME_BYTES:
                return "malformed"
            if len(self.raw) < newline + 1 + size:
                return None
            body = bytes(self.raw[newline + 1 : newline + 1 + size])
            del self.raw[: newline + 1 + size]
            if tag == b"O":
                self.out += body[: self.limits.output_bytes + 1 - len(self.out)]
                if len(self.out) > self.limits.output_bytes:
                    return "cap"
            elif tag == until:
                return body
            else:
                return "malformed"
        return None

    def _pump(self, deadline: float, until: bytes) -> bytes | str:
        """Write what is pending and read frames until one tagged `until` is in: returns
        its body, or "deadline", "cap" (more than the output cap), "malformed" or "eof".
        At most the output cap and one frame are held in memory, whatever is printed."""
        while True:
            found = self._frames(until)
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "deadline"
            events = self.selector.select(remaining)
            for key, _ in events:
                stream = key.fileobj
                if stream is self.process.stdin:
                    try:
                        written = os.write(stream.fileno(), self.pending[0][: 1 << 20])  # type: ignore[union-attr]
                    except BrokenPipeError:  # the harness is gone; its stdout will say so
                        written = len(self.pending[0])
                    self.pending[0] = self.pending[0][written:]
                    while self.pending and not self.pending[0]:
                        self.pending.popleft()
                    if not self.pending:
                        self.selector.unregister(stream)
                    continue
                chunk = os.read(stream.fileno(), 1 << 20)  # type: ignore[union-attr]
                if not chunk:
                    self.selector.unregister(stream)
                    if stream is self.process.stdout:
                        found = self._frames(until)
                        return "eof" if found is None else found
                elif stream is self.process.stdout:
                    self.raw += chunk
                else:
                    self.err += chunk
                    del self.err[:-STDERR_TAIL_BYTES]

    def _kill(self) -> None:
        """End the sandbox and everything in it."""
        if not self.alive:
            return
        self.alive = False
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.kill()
        self.process.wait()

    def _drained(self) -> bool:
        """Whether the sandbox's stdout reached end of file within a second of the kill:
        then every process that held it has ended (in bubblewrap, the kernel ends the
        whole PID namespace with its first process)."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + 1.0
        with selectors.DefaultSelector() as waiting:
            waiting.register(self.process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if waiting.select(deadline - time.monotonic()):
                    try:
                        if not os.read(self.process.stdout.fileno(), 1 << 20):
                            return True
                    except BlockingIOError:
                        pass
        return False

    def close(self) -> None:
        self._kill()
        if self.slot is not None:
            self.slot.release(everything_ended=self.bwrap and self._drained())
            self.slot = None
        self.selector.close()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                try:
                    stream.close()
                except BrokenPipeError:
                    pass
        if self.workdir_on_host:
            shutil.rmtree(self.workdir_on_host, ignore_errors=True)
            self.workdir_on_host = None


def _died_code(returncode: int | None) -> int:
    """The exit code of a sandbox whose harness died; never 0, which would read as success."""
    return returncode if returncode else -signal.SIGKILL


# Kernel keyrings (keyctl(2) by number: libc has no wrapper).
_SYS_KEYCTL = {"x86_64": 250, "aarch64": 219, "ppc64le": 280, "s390x": 280}.get(os.uname().machine)
_KEYCTL_JOIN_SESSION_KEYRING = 1
_KEYCTL_CLEAR = 7
_KEYCTL_GET_PERSISTENT = 22
_KEY_SPEC_PROCESS_KEYRING = -2
_KEY_SPEC_USER_KEYRING = -4
_KEY_SPEC_USER_SESSION_KEYRING = -5


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _keyctl(*arguments: int | None) -> int:
    """keyctl(2), or -1 where it is unknown on this architecture. Loads nothing once
    `_libc()` has been called: a child that became a slot uid cannot read the interpreter's
    files where they live in /root."""
    if _SYS_KEYCTL is None:
        return -1
    return _libc().syscall(
        _SYS_KEYCTL, *[None if a is None else ctypes.c_long(a) for a in arguments]
    )


def _clear_keyrings() -> None:
    """Empty the calling uid's keyrings that outlive its processes: the user keyring, the
    user session keyring and the persistent keyring (kept three days by default). Keys
    linked only from them are then garbage-collected."""
    _keyctl(_KEYCTL_CLEAR, _KEY_SPEC_USER_KEYRING)
    _keyctl(_KEYCTL_CLEAR, _KEY_SPEC_USER_SESSION_KEYRING)
    persistent = _keyctl(_KEYCTL_GET_PERSISTENT, -1, _KEY_SPEC_PROCESS_KEYRING)
    if persistent > 0:
        _keyctl(_KEYCTL_CLEAR, persistent)


def _limit(limits: Limits, how: Isolation):
    """The rlimits every process in the sandbox inherits, set between fork and exec."""
    processes = limits.processes if how.root else _own_process_count() + limits.processes
    _libc()  # loaded before the fork

    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        # When the host runs out of memory, the kernel kills sandboxed programs first.
        with open("/proc/self/oom_score_adj", "w") as adjust:
            adjust.write("1000")
        # Not the grader's session keyring: the harness makes a fresh one again once it
        # has its uid, and each test's process one of its own.
        _keyctl(_KEYCTL_JOIN_SESSION_KEYRING, None)

    return apply


_own_count: int | None = None


def _own_process_count() -> int:
    """Tasks (processes and threads) the current user runs: without root, the sandbox
    shares the user's RLIMIT_NPROC count, so its cap sits this far above it."""
    global _own_count
    if _own_count is None:
        uid, count = os.getuid(), 0
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid == uid:
                        count += len(os.listdir(f"/proc/{entry.name}/task"))
                except OSError:
                    pass
        _own_count = count
    return _own_count


def _bwrap_command(how: Isolation, limits: Limits, harness: list[str]) -> list[str]:
    """Default-deny: the sandbox's root is an empty tmpfs into which only SYSTEM_READ_ONLY
    and the interpreter's own directories are bound, read-only, with a fresh /dev, /proc and
    a size-limited /tmp. Home directories, Hugging Face caches, the repository, the run's
    output directory, /run, /var, /opt, /mnt, ... do not exist in it."""
    assert how.bwrap is not None
    command = [how.bwrap]
    for path in SYSTEM_READ_ONLY:
        if os.path.islink(path):  # /bin -> usr/bin on merged-/usr systems
            command += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            command += ["--ro-bind", path, path]
    command += ["--dev", "/dev", "--remount-ro", "/dev"]
    command += [
        "--size",
        str(16 * MiB),
        "--perms",
        "1777",
        "--tmpfs",
        "/dev/shm",
        "--proc",
        "/proc",
    ]
    command += ["--size", str(limits.scratch_bytes), "--perms", "1777", "--tmpfs", "/tmp"]
    command += ["--perms", "0777", "--dir", "/tmp/work", "--chdir", "/tmp/work"]
    visible = [p for p in SYSTEM_READ_ONLY if os.path.isdir(p) and not os.path.islink(p)]
    made: set[str] = set()
    for path in _interpreter_paths():
        if any(path == v or path.startswith(v + "/") for v in visible):
            continue  # visible already
        parts = Path(path).parts
        for depth in range(2, len(parts)):  # bubblewrap would make these 0700
            parent = str(Path(*parts[:depth]))
            if parent not in made:
                made.add(parent)
                command += ["--perms", "0755", "--dir", parent]
        command += ["--ro-bind", path, path]
        visible.append(path)
    if how.root:
        # Privileged bubblewrap, no user namespace: the harness keeps CAP_SETUID/SETGID
        # just long enough to become the slot uid, whose process count the kernel caps.
        command += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        command += ["--unshare-cgroup-try", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        command += ["--unshare-all", "--unshare-user", "--disable-userns"]
    command += ["--die-with-parent", "--new-session", "--clearenv"]
    for name, value in PROGRAM_ENVIRONMENT.items():
        command += ["--setenv", name, value]
    command += ["--setenv", "HOME", "/tmp/work"]
    return command + harness


@cache
def _hidden_paths() -> tuple[str, ...]:
    """Directories that become empty in the fallback's sandbox: HIDDEN, the temporary
    directory, the caches CACHE_VARIABLES name (which hold the benchmark's expected outputs),
    the repository this package runs from and the current directory."""
    candidates = [*HIDDEN, tempfile.gettempdir()]
    candidates += [os.environ.get(name, "") for name in CACHE_VARIABLES]
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "pyproject.toml").is_file():
        candidates.append(str(checkout))
    candidates.append(os.getcwd())
    paths: list[str] = []
    for candidate in candidates:
        if not candidate:
            continue
        path = os.path.realpath(candidate)
        if path == "/tmp" or path in _SYSTEM_DIRECTORIES or not os.path.isdir(path):
            continue
        if path not in paths:
            paths.append(path)
    return tuple(paths)


@cache
def _interpreter_paths() -> tuple[str, ...]:
    """What the interpreter needs to start and import: its prefixes and site-packages."""
    candidates = {
        sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
        os.path.dirname(os.path.abspath(sys.executable)),
        os.path.dirname(os.path.realpath(sys.executable)),
        *site.getsitepackages(),
    }  # fmt: skip
    real = sorted({os.path.realpath(path) for path in candidates if os.path.isdir(path)})
    kept: list[str] = []
    for path in real:  # sorted: a directory comes before what it contains
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return tuple(kept)


class _Slot:
    """An unprivileged uid held for one sandbox, through a lock file that the kernel
    releases if this process dies. The file records whether its last holder let go
    cleanly; if not, whatever still runs as the uid is killed before it is used again."""

    def __init__(self) -> None:
        directory = _slot_directory()
        for uid in _slot_uids():
            handle = os.open(
                os.path.join(directory, f"{uid}.lock"),
                os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW,
                0o600,
            )
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(handle)
                continue
            self.uid, self.handle = uid, handle
            if os.pread(handle, 1, 0) != b"0":  # new, or its holder died holding it
                _kill_everything_of(uid)
                _clean_uid(uid)
            os.pwrite(handle, b"1", 0)
            return
        raise SandboxError(f"all {SLOT_COUNT} sandbox uids from {SLOT_UID_BASE} are in use")

    def release(self, everything_ended: bool) -> None:
        """Let go of the uid; kill what it runs first unless the caller knows it is done."""
        if not everything_ended:
            _kill_everything_of(self.uid)
        _clean_uid(self.uid)
        os.pwrite(self.handle, b"0", 0)
        os.close(self.handle)


_uids: list[int] | None = None


def _slot_uids() -> list[int]:
    global _uids
    if _uids is None:
        _uids = []
        for uid in range(SLOT_UID_BASE, SLOT_UID_BASE + SLOT_COUNT):
            try:
                pwd.getpwuid(uid)
            except KeyError:
                _uids.append(uid)
    return _uids


def _slot_directory() -> str:
    """A root-only directory for the slot locks, shared by every grading process."""
    base = "/run" if os.access("/run", os.W_OK) else tempfile.gettempdir()
    directory = os.path.join(base, "lm_eval_passk-sandbox")
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    status = os.lstat(directory)
    if (
        os.path.islink(directory)
        or not os.path.isdir(directory)
        or status.st_uid != 0
        or status.st_mode & 0o022
    ):
        raise SandboxError(f"{directory} must be a directory owned by root and writable only by it")
    return directory


def _processes_of(uid: int) -> list[int]:
    """Live (not zombie) processes whose real uid is `uid`."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as status_file:
                status = status_file.read(2048)
        except OSError:
            continue  # ended meanwhile
        uid_at = status.find(b"\nUid:")
        if uid_at >= 0 and int(status[uid_at + 5 :].split(None, 1)[0]) == uid:
            if b"\nState:\tZ" not in status:
                found.append(int(entry.name))
    return found


_IPC_RMID = 0


def _remove_ipc_objects_of(uid: int) -> None:
    """Remove the System V shared memory segments, message queues and semaphore sets that
    `uid` owns or created in this (the host's) IPC namespace: without bubblewrap, where the
    kernel refused the sandbox an IPC namespace of its own, they would outlive it."""
    removers = {
        "shm": lambda ident: _libc().shmctl(ident, _IPC_RMID, None),
        "msg": lambda ident: _libc().msgctl(ident, _IPC_RMID, None),
        "sem": lambda ident: _libc().semctl(ident, 0, _IPC_RMID),
    }
    for kind, remove in removers.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as listing:
                header, *rows = listing.read().splitlines()
        except OSError:
            continue
        columns = header.split()
        names = ("msqid" if kind == "msg" else f"{kind}id", "uid", "cuid")
        if not all(name in columns for name in names):
            continue
        at_id, at_uid, at_cuid = (columns.index(name) for name in names)
        for row in rows:
            fields = row.split()
            if len(fields) < len(columns):
                continue
            if uid in (int(fields[at_uid]), int(fields[at_cuid])):
                remove(int(fields[at_id]))


def _clean_uid(uid: int) -> None:
    """Remove what a program may have left to the uid beyond its processes and its
    sandbox: the keys in its per-uid keyrings, from a child that becomes `uid`."""
    _remove_ipc_objects_of(uid)
    _libc()  # loaded here, while every file is readable
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            _clear_keyrings()
            code = 0
        finally:
            os._exit(code)
    os.waitpid(pid, 0)


def _kill_everything_of(uid: int) -> None:
    """SIGKILL every process running as `uid`, from a child that becomes `uid`: kill(-1)
    reaches exactly the processes a uid may signal. Repeats until none is left or 2 s
    pass (a fork loop may add processes while it runs)."""
    if not _processes_of(uid):
        return
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            me = os.getpid()
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                os.kill(-1, signal.SIGKILL)
                if not [other for other in _processes_of(uid) if other != me]:
                    code = 0
                    break
                time.sleep(0.002)
        finally:
            os._exit(code)
    os.waitpid(pid, 0)
