"""libc and kernel keyrings, shared by the limits set before exec and the slot cleanup."""

from __future__ import annotations

import ctypes
import os
from functools import cache

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
