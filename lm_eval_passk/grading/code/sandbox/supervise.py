"""One running sandbox, supervised from outside: starts the harness (in bubblewrap or not),
sends it the program and one test's input at a time, and reads its frames back under the
test's deadline and the output cap."""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Generator, Iterable
from dataclasses import replace
from pathlib import Path

from lm_eval_passk.grading.code.sandbox import cgroups
from lm_eval_passk.grading.code.sandbox.definitions import (
    Completed,
    Isolation,
    Limits,
    SandboxError,
)
from lm_eval_passk.grading.code.sandbox.rlimits import limits_before_exec
from lm_eval_passk.grading.code.sandbox.slots import Slot
from lm_eval_passk.grading.code.sandbox.visibility import (
    PROGRAM_ENVIRONMENT,
    SYSTEM_READ_ONLY,
    bwrap_command,
    interpreter_paths,
    masked_paths,
)

STARTUP_SECONDS = 30.0  # interpreter start and imports, under whatever load the host has
GRACE_SECONDS = 0.5  # the harness times each test itself; this covers fork and transfer
STDERR_TAIL_BYTES = 4096
MAX_FRAME_HEADER = 24  # a tag, a decimal length and a newline
MAX_FRAME_BYTES = 1 << 20  # the harness frames at most one pipe read (1 MiB) at a time
BWRAP_PROCESSES = 2  # bubblewrap outside and its init inside: in the pids cgroup, not the uid's
HARNESS_SOURCE = (Path(__file__).with_name("_harness.py")).read_text(encoding="utf-8")
FUNCTION_CALLS_SOURCE = Path(__file__).with_name("_function_calls.py").read_text(encoding="utf-8")


def run_in_box(
    how: Isolation,
    source: str,
    inputs: Iterable[bytes],
    kind: str,
    func_name: str | None,
    limits: Limits,
) -> Generator[Completed, None, None]:
    box: _Box | None = None
    try:
        for payload in inputs:
            if box is None:
                program = {"kind": kind, "source": source, "func_name": func_name}
                if kind == "function":  # the harness's half for function tasks, as text
                    program["runner"] = FUNCTION_CALLS_SOURCE
                box = _Box(how, program, limits)
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
        self.slot = Slot() if how.root else None
        where = cgroups.hierarchy()
        try:
            self.cap = (
                cgroups.MemoryCap(
                    where, limits.sandbox_memory_bytes, limits.processes + BWRAP_PROCESSES
                )
                if where
                else None
            )
        except BaseException:
            if self.slot:
                self.slot.release(everything_ended=True)
            raise
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
            "system": list(SYSTEM_READ_ONLY),
            "mask": list(masked_paths()),
            "expose": list(interpreter_paths()),
            "scratch_bytes": limits.scratch_bytes,
            "cpu_seconds": int(limits.seconds) + 1,
            "file_bytes": limits.file_bytes,
        }
        harness = [sys.executable, "-s", "-c", HARNESS_SOURCE, json.dumps(config)]
        command = bwrap_command(how, limits, harness) if how.bwrap else harness
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd="/",
                env=PROGRAM_ENVIRONMENT,
                start_new_session=True,  # its own process group, killed as one
                preexec_fn=limits_before_exec(limits, how, self.cap),
            )
        except BaseException:
            if self.slot:
                self.slot.release(everything_ended=True)
            if self.cap:
                self.cap.remove()
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
        completed = self._run_one(payload)
        if self.cap is not None:
            kills = self.cap.oom_kills()
            if kills > self.cap.kills_before:
                self.cap.kills_before = kills
                note = b"\n[sandbox] killed at the sandbox's memory cap of %d MiB" % (
                    self.limits.sandbox_memory_bytes >> 20
                )
                completed = replace(completed, memory_exceeded=True, stderr=completed.stderr + note)
        return completed

    def _run_one(self, payload: bytes) -> Completed:
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
        if self.cap is not None:
            self.cap.remove()
            self.cap = None
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
