"""The one package that starts untrusted programs. Its entry point is `run_sandboxed`.

A program runs inside bubblewrap when it is installed and works: new PID, network, IPC and
UTS namespaces, a default-deny file system (only the system directories and the interpreter,
read-only, and a fresh /tmp; no home directories, caches, repository or /run), a
size-limited tmpfs as its working directory, a clean environment, a fresh session keyring. Started as root (CI, containers), bubblewrap sets up the mounts and the
in-box harness then drops to an unprivileged uid of its own (61000 + slot), because
RLIMIT_NPROC does not bind root: a capped fork loop made all 200 of its forks as root and
31 as uid 61000 on the development machine. Every process gets rlimits on address space,
open files, core size and process count; each test's process also on CPU time and file
size. Without bubblewrap the same harness runs directly, with the same uid drop and
rlimits, and, as root, its own network, IPC and mount namespaces (the same default-deny
file system, built by the harness); a loud warning says so,
and `require_sandbox=True` makes it an error. A slot uid's keyrings and System V objects
are cleared when the slot is released. Where the grader may make cgroups, each sandbox also
gets a memory cgroup that counts what RLIMIT_AS misses (memfds, shared memory, the sum over
processes). docs/CODE.md gives the reasons for each limit.

The harness (`_harness.py`, in this package) runs a program's tests one after another in
forked children, so a program costs one sandbox start and a fork per test; `run_sandboxed`
hands it one input at a time, when the caller asks for the next result, and kills the whole sandbox
when a test runs past its time or prints more than the cap. Results come back in frames
only the harness writes (a test's program has its own output pipe), so no output of a
program can pass for a result, a time or another test's output.

Modules, in the order a program meets them: `definitions` (Limits, Completed, the errors,
Isolation), `probe` (bubblewrap found and working, or the fallback; `require_sandbox`),
`slots` (a uid of its own as root, and that uid's cleanup: processes, keyrings, System V
objects), `cgroups` (a memory and process cap per sandbox, where one can be made), `visibility` (the bubblewrap command: what is visible inside, which the fallback's
root copies; the masked dataset directories; the environment), `rlimits` (limits applied before exec), `kernel`
(libc and keyctl for those two), `supervise` (one running sandbox: sends tests, reads
frames), `_harness` (the trusted half that runs inside the sandbox), `_function_calls` (its
part for function tasks: the solution and the test in two processes, plain values between).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable

from lm_eval_passk.grading.code.sandbox.definitions import (
    Completed,
    GiB,
    Isolation,
    Limits,
    MiB,
    SandboxError,
    SandboxUnavailable,
)
from lm_eval_passk.grading.code.sandbox.probe import isolation
from lm_eval_passk.grading.code.sandbox.slots import SLOT_COUNT, SLOT_UID_BASE
from lm_eval_passk.grading.code.sandbox.supervise import (
    GRACE_SECONDS,
    HARNESS_SOURCE,
    STARTUP_SECONDS,
    run_in_box,
)
from lm_eval_passk.grading.code.sandbox.visibility import (
    PROGRAM_ENVIRONMENT,
    SYSTEM_READ_ONLY,
)

__all__ = [
    "GRACE_SECONDS",
    "HARNESS_SOURCE",
    "PROGRAM_ENVIRONMENT",
    "SLOT_COUNT",
    "SLOT_UID_BASE",
    "STARTUP_SECONDS",
    "SYSTEM_READ_ONLY",
    "Completed",
    "GiB",
    "Isolation",
    "Limits",
    "MiB",
    "SandboxError",
    "SandboxUnavailable",
    "isolation",
    "run_sandboxed",
]


def run_sandboxed(
    source: str,
    inputs: Iterable[bytes],
    *,
    kind: str = "stdin",
    func_name: str | None = None,
    limits: Limits = Limits(),
    require_sandbox: bool = False,
) -> Generator[Completed, None, None]:
    """Run the Python program `source` on each input in turn, one sandbox for all of them,
    yielding one Completed per input. An input is sent only when the next result is asked
    for: stop iterating (and close the iterator) to skip the rest. `kind` "stdin": the
    input is the program's stdin, its stdout the result; "functional": the input is a JSON
    list of arguments for `Solution().<func_name>`, the result that call's return value as
    JSON; "function": `source` defines the function `func_name`, and the one input is a
    test, JSON {"prompt", "test", "entry_point"}, run in a process of its own against that
    function (`_function_calls.py`): the result is its verdict (`pass`, `exception <Name>`,
    ...), exit status 0 only on a pass. A test that times out or prints too much ends its sandbox; a later input starts
    a fresh one."""
    return run_in_box(isolation(require_sandbox), source, inputs, kind, func_name, limits)
