"""Unprivileged uids for sandboxes started as root, held through lock files, and the
cleanup of a uid when it is let go: its processes, keyrings and System V objects."""

from __future__ import annotations

import fcntl
import os
import pwd
import signal
import tempfile
import time
from collections.abc import Callable

from lm_eval_passk.grading.code.sandbox.definitions import SandboxError
from lm_eval_passk.grading.code.sandbox.kernel import clear_keyrings, libc

# Unprivileged uids for sandboxes started as root: one per concurrently running sandbox,
# so that process counts (RLIMIT_NPROC is per uid) and the final kill of everything a uid
# runs never touch another sandbox. Uids that name an account on this machine are skipped.
SLOT_UID_BASE = 61000
SLOT_COUNT = 64


class Slot:
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
    """The slot uids that name no account on this machine, found once per process."""
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
        "shm": lambda ident: libc().shmctl(ident, _IPC_RMID, None),
        "msg": lambda ident: libc().msgctl(ident, _IPC_RMID, None),
        "sem": lambda ident: libc().semctl(ident, 0, _IPC_RMID),
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
    libc()  # loaded here, while every file is readable
    _as_uid(uid, clear_keyrings)


def _kill_everything_of(uid: int) -> None:
    """SIGKILL every process running as `uid`, from a child that becomes `uid`: kill(-1)
    reaches exactly the processes a uid may signal. Repeats until none is left or 2 s
    pass (a fork loop may add processes while it runs)."""
    if not _processes_of(uid):
        return

    def kill_all() -> None:
        me = os.getpid()
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            os.kill(-1, signal.SIGKILL)
            if not [other for other in _processes_of(uid) if other != me]:
                return
            time.sleep(0.002)

    _as_uid(uid, kill_all)


def _as_uid(uid: int, action: Callable[[], None]) -> None:
    """Run `action` in a forked child that has become `uid` (and no group but its own),
    and wait for it: what only the uid itself may do to its processes and keyrings."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            action()
            code = 0
        finally:
            os._exit(code)
    os.waitpid(pid, 0)
