"""libc and kernel keyrings, shared by the limits set before exec and the slot cleanup."""

from __future__ import annotations

import ctypes
import os
from functools import cache

# Kernel keyrings (keyctl(2) by number: libc has no wrapper).
SYS_KEYCTL = {"x86_64": 250, "aarch64": 219, "ppc64le": 280, "s390x": 280}.get(os.uname().machine)
KEYCTL_JOIN_SESSION_KEYRING = 1
KEYCTL_CLEAR = 7
KEYCTL_GET_PERSISTENT = 22
KEY_SPEC_PROCESS_KEYRING = -2
KEY_SPEC_USER_KEYRING = -4
KEY_SPEC_USER_SESSION_KEYRING = -5


@cache
def libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def keyctl(*arguments: int | None) -> int:
    """keyctl(2), or -1 where it is unknown on this architecture. Loads nothing once
    `libc()` has been called: a child that became a slot uid cannot read the interpreter's
    files where they live in /root."""
    if SYS_KEYCTL is None:
        return -1
    return libc().syscall(
        SYS_KEYCTL, *[None if a is None else ctypes.c_long(a) for a in arguments]
    )


def clear_keyrings() -> None:
    """Empty the calling uid's keyrings that outlive its processes: the user keyring, the
    user session keyring and the persistent keyring (kept three days by default). Keys
    linked only from them are then garbage-collected."""
    keyctl(KEYCTL_CLEAR, KEY_SPEC_USER_KEYRING)
    keyctl(KEYCTL_CLEAR, KEY_SPEC_USER_SESSION_KEYRING)
    persistent = keyctl(KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_PROCESS_KEYRING)
    if persistent > 0:
        keyctl(KEYCTL_CLEAR, persistent)
