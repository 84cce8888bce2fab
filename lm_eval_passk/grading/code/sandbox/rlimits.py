"""Limits every process in a sandbox inherits, applied between fork and exec."""

from __future__ import annotations

import os
from collections.abc import Callable

from lm_eval_passk.grading.code.sandbox.cgroups import MemoryCap
from lm_eval_passk.grading.code.sandbox.definitions import Isolation, Limits
from lm_eval_passk.grading.code.sandbox.kernel import (
    KEYCTL_JOIN_SESSION_KEYRING,
    keyctl,
    libc,
)


def limits_before_exec(
    limits: Limits, how: Isolation, cap: MemoryCap | None = None
) -> Callable[[], None]:
    """The rlimits every process in the sandbox inherits, set between fork and exec, and
    the sandbox's cgroups joined, so that everything it starts is charged to them."""
    processes = limits.processes if how.root else _own_process_count() + limits.processes
    libc()  # loaded before the fork

    def apply() -> None:
        import resource

        if cap is not None:
            cap.join()
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
        # When the host runs out of memory, the kernel kills sandboxed programs first.
        with open("/proc/self/oom_score_adj", "w") as adjust:
            adjust.write("1000")
        # Not the grader's session keyring: the harness makes a fresh one again once it
        # has its uid, and each test's process one of its own.
        keyctl(KEYCTL_JOIN_SESSION_KEYRING, None)

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
