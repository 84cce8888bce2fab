"""A memory and process cap per sandbox: a cgroup of its own, where this process may make one.

RLIMIT_AS bounds one process's address space. It does not see memfd pages, shared memory,
tmpfs files, or the sum over a sandbox's processes (32 x 2 GiB). A memory cgroup charges all
of these to the sandbox, and the kernel kills inside it, not elsewhere, when it is full.

Both cgroup versions are used, whichever the machine mounts with a memory controller the
grader may write to: v1 (`memory.limit_in_bytes`, `memory.memsw.limit_in_bytes`,
`pids.max` in the pids hierarchy) or v2 (`memory.max`, `memory.swap.max`, `pids.max`).
Under v2 a cgroup that holds processes cannot give its children controllers, so the grader
moves itself into a leaf of its own cgroup first, and only when it is the only process
there. Where no cgroup can be made (no root, a read-only hierarchy, no memory controller),
programs run with the per-process limits alone; `memory_cap_reason()` says why and the log
says so once. docs/CODE.md gives the numbers.
"""

from __future__ import annotations

import atexit
import errno
import itertools
import logging
import os
import signal
import time
import weakref
from dataclasses import dataclass
from functools import cache
from pathlib import Path

log = logging.getLogger("lm_eval.passk.sandbox")

PREFIX = "lm-eval-passk"
_names = itertools.count()
_open: weakref.WeakSet[MemoryCap] = weakref.WeakSet()  # removed at exit if still there


@dataclass(frozen=True)
class Hierarchy:
    """Where sandbox cgroups are made: one directory per controller (the same under v2)."""

    version: int
    memory: Path  # new memory cgroups are made here
    pids: Path | None  # and pids cgroups here, where a pids controller is available


@dataclass(frozen=True)
class Mount:
    root: str  # the part of the hierarchy mounted (mountinfo's fourth field)
    point: Path
    fstype: str
    options: frozenset[str]  # super options: v1 names its controllers here


def parse_mountinfo(text: str) -> list[Mount]:
    """The cgroup mounts in /proc/self/mountinfo's format."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 10:
            continue
        after = fields[fields.index("-") + 1 :]
        if after[0] in ("cgroup", "cgroup2"):
            point = Path(fields[4].replace("\\040", " "))
            mounts.append(Mount(fields[3], point, after[0], frozenset(after[2].split(","))))
    return mounts


def parse_cgroup_file(text: str) -> dict[str, str]:
    """/proc/self/cgroup as {controller: path}; the v2 hierarchy under the key ""."""
    paths = {}
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def own_directory(mount: Mount, path: str) -> Path | None:
    """The directory of cgroup `path` under `mount`, or None when the mount does not show it."""
    root = mount.root.rstrip("/")
    if path != root and not path.startswith(root + "/"):
        return None
    return mount.point / path[len(root) :].lstrip("/")


def find_hierarchy(mounts: list[Mount], paths: dict[str, str]) -> Hierarchy | str:
    """Where this process may make sandbox cgroups, or why it may not (before trying)."""
    for mount in mounts:
        if mount.fstype == "cgroup" and "memory" in mount.options and "memory" in paths:
            memory = own_directory(mount, paths["memory"])
            if memory is None:
                continue
            pids = None
            for other in mounts:
                if other.fstype == "cgroup" and "pids" in other.options and "pids" in paths:
                    pids = own_directory(other, paths["pids"])
            return Hierarchy(1, memory, pids)
    for mount in mounts:
        if mount.fstype == "cgroup2" and "" in paths:
            unified = own_directory(mount, paths[""])
            if unified is None:
                continue
            try:
                controllers = (unified / "cgroup.controllers").read_text().split()
            except OSError as error:
                return f"cannot read {unified / 'cgroup.controllers'}: {error}"
            if "memory" not in controllers:
                continue  # a v2 hierarchy beside v1 controllers, as on hybrid systems
            return Hierarchy(2, unified, unified if "pids" in controllers else None)
    return "no cgroup hierarchy with a memory controller is mounted for this process"


@cache
def hierarchy() -> Hierarchy | None:
    """The hierarchy sandbox cgroups are made in on this machine, probed once (by making
    and removing one); None when there is none, with the reason in memory_cap_reason()."""
    found = _probe()
    if isinstance(found, str):
        _without(found)
        return None
    return found


def _probe() -> Hierarchy | str:
    try:
        mounts = parse_mountinfo(Path("/proc/self/mountinfo").read_text())
        paths = parse_cgroup_file(Path("/proc/self/cgroup").read_text())
    except OSError as error:
        return f"cannot read this process's cgroups: {error}"
    found = find_hierarchy(mounts, paths)
    if isinstance(found, str):
        return found
    if found.version == 2:
        problem = _delegate_v2(found.memory)
        if problem:
            return problem
    for directory in (found.memory, found.pids):
        if directory is not None:
            _remove_stale(directory)
    try:
        MemoryCap(found, memory_bytes=64 << 20, processes=8).remove()
    except OSError as error:
        return f"cannot make a cgroup under {found.memory}: {error}"
    return found


_reason = ""


def memory_cap_reason() -> str:
    """Why sandboxes have no memory cgroup here ("" when they have one)."""
    hierarchy()
    return _reason


def _without(reason: str) -> None:
    """Record and log why sandboxes get no memory cgroup here."""
    global _reason
    _reason = reason
    log.warning(
        "No memory cgroup for sandboxed programs (%s): memory is bounded per process only "
        "(RLIMIT_AS), so memfds and many processes together can use more; see docs/CODE.md.",
        reason,
    )


def _delegate_v2(directory: Path) -> str:
    """Let `directory`'s children have memory and pids controllers: under v2 that needs a
    cgroup without processes of its own, so this process moves into the leaf
    `<directory>/lm-eval-passk-grader` when it is the only process there. "" or why not."""
    control = directory / "cgroup.subtree_control"
    try:
        if "memory" in control.read_text().split():
            return ""
        wanted = ["+memory"] + (["+pids"] if "pids" in _controllers(directory) else [])
        try:
            control.write_text(" ".join(wanted))
            return ""
        except OSError as error:
            if error.errno != errno.EBUSY:
                raise
        others = set((directory / "cgroup.procs").read_text().split()) - {str(os.getpid())}
        if others:
            return (
                f"{directory} holds other processes ({len(others)}), so cgroup v2 gives its "
                "children no memory controller; run the grader alone in a delegated cgroup"
            )
        leaf = directory / f"{PREFIX}-grader"
        leaf.mkdir(exist_ok=True)
        (leaf / "cgroup.procs").write_text(str(os.getpid()))
        control.write_text(" ".join(wanted))
        return ""
    except OSError as error:
        return f"cannot enable the memory controller below {directory}: {error}"


def _controllers(directory: Path) -> list[str]:
    return (directory / "cgroup.controllers").read_text().split()


class MemoryCap:
    """The cgroups of one sandbox: made on construction, joined by the sandbox's first
    process between fork and exec, emptied and removed by remove()."""

    def __init__(self, where: Hierarchy, memory_bytes: int, processes: int) -> None:
        self.where = where
        name = f"{PREFIX}-{os.getpid()}-{next(_names)}"
        self.directories: list[Path] = []
        try:
            memory = self._make(where.memory / name)
            if where.version == 1:
                (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
                swap = memory / "memory.memsw.limit_in_bytes"  # only with swap accounting
                if swap.exists():
                    swap.write_text(str(memory_bytes))
            else:
                (memory / "memory.max").write_text(str(memory_bytes))
                if (memory / "memory.swap.max").exists():
                    (memory / "memory.swap.max").write_text("0")
            if where.pids is not None:
                pids = memory if where.pids == where.memory else self._make(where.pids / name)
                (pids / "pids.max").write_text(str(processes))
        except BaseException:
            self.remove()
            raise
        self.memory = memory
        self.kills_before = self.oom_kills()
        _open.add(self)

    def _make(self, directory: Path) -> Path:
        directory.mkdir()
        self.directories.append(directory)
        return directory

    def join(self) -> None:
        """Move the calling process into the sandbox's cgroups (between fork and exec:
        only what the file system calls need, no allocation-heavy Python)."""
        for directory in self.directories:
            with open(directory / "cgroup.procs", "w") as procs:
                procs.write("0")

    def oom_kills(self) -> int:
        """Processes the kernel killed for this sandbox's memory cap so far."""
        events = "memory.oom_control" if self.where.version == 1 else "memory.events"
        try:
            for line in (self.memory / events).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except OSError:
            pass
        return 0

    def remove(self) -> None:
        """Kill whatever is still in the cgroups and remove them."""
        for directory in reversed(self.directories):
            for attempt in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as error:
                    if error.errno != errno.EBUSY:
                        raise
                    _kill_members(directory)
                    time.sleep(0.01 * min(attempt + 1, 10))
            else:
                log.warning("could not remove the sandbox cgroup %s: still busy", directory)
        self.directories = []
        _open.discard(self)


@atexit.register
def _remove_open() -> None:
    """A grader that exits with sandboxes open (an iterator never closed) leaves no cgroup;
    one killed outright leaves them to the next grader's probe (_remove_stale)."""
    for cap in list(_open):
        cap.remove()


def _remove_stale(directory: Path) -> None:
    """Remove the sandbox cgroups a grader that was killed left behind (its pid is gone)."""
    try:
        entries = list(directory.glob(f"{PREFIX}-*-*"))
    except OSError:
        return
    for entry in entries:
        owner = entry.name[len(PREFIX) + 1 :].split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            _kill_members(entry)
            try:
                entry.rmdir()
            except OSError:
                pass


def _kill_members(directory: Path) -> None:
    try:
        (directory / "cgroup.kill").write_text("1")  # v2, Linux 5.14+
        return
    except OSError:
        pass
    try:
        members = (directory / "cgroup.procs").read_text().split()
    except OSError:
        return
    for pid in members:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
