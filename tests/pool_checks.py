"""Checks for the grading pool's tests, imported by its worker processes."""

from __future__ import annotations

import os
import time


def echo_after(seconds: float, value: str) -> str:
    time.sleep(seconds)
    return value


def append_line(path: str, value: str) -> str:
    """Records each call, so a test can count how often a job really ran."""
    with open(path, "a") as out:
        out.write(value + "\n")
    return value


def die() -> None:
    os._exit(3)


def allocate_gigabytes(count: int) -> int:
    block = bytearray(count * 1024**3)
    return len(block)


def spawn_orphan_then_hang(path: str) -> None:
    """Leaves a child behind and hangs: the pool must kill the worker on timeout."""
    child = os.fork()
    if child == 0:
        time.sleep(60)
        os._exit(0)
    with open(path, "w") as out:
        out.write(f"{os.getpid()} {child}")
    time.sleep(60)
