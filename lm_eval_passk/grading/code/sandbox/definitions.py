"""What callers pass to and get back from the sandbox: its limits, a test's result, its
errors, and the isolation chosen on this machine."""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024**2
GiB = 1024**3


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
    # All memory of one sandbox, memfds, shared memory and tmpfs files included, where a
    # memory cgroup can be made (cgroups.py): one full-size process and the harness fit.
    sandbox_memory_bytes: int = 2 * GiB + 512 * MiB


@dataclass(frozen=True)
class Completed:
    """How one test's run ended."""

    stdout: bytes  # at most Limits.output_bytes
    exit_code: int | None  # negative: killed by that signal; None: ended by the sandbox
    timed_out: bool = False
    output_truncated: bool = False  # printed more than Limits.output_bytes
    seconds: float = 0.0
    stderr: bytes = b""  # the last few kilobytes, for diagnosis only
    memory_exceeded: bool = False  # the kernel killed in it for the sandbox's memory cap


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
