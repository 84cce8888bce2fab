"""Which isolation this machine gets: bubblewrap where it is installed and a probe run in
it works, else the fallback (loudly), or SandboxUnavailable under `require_sandbox`."""

from __future__ import annotations

import logging
import os
import shutil

from lm_eval_passk.grading.code.sandbox.definitions import (
    Isolation,
    Limits,
    SandboxError,
    SandboxUnavailable,
)
from lm_eval_passk.grading.code.sandbox.supervise import run_in_box

log = logging.getLogger("lm_eval.passk.sandbox")


def _find_bwrap() -> str | None:
    """The bwrap on PATH, if any (tests replace this to force the fallback)."""
    return shutil.which("bwrap")


_isolation: Isolation | None = None


def isolation(require_sandbox: bool = False) -> Isolation:
    """The isolation in use, probed once per process; warns loudly (once) when it is the
    fallback, and raises SandboxUnavailable then if `require_sandbox`."""
    global _isolation
    if _isolation is None:
        _isolation = _choose_isolation()
        if _isolation.bwrap is None:
            log.warning(
                "\n%s\nRunning generated programs WITHOUT bubblewrap: %s.\nFallback: %s, "
                "rlimits, its own session. Install bubblewrap (apt-get install bubblewrap), "
                "or set require_sandbox to make this an error.\n%s",
                "!" * 80,
                _isolation.reason,
                "a separate unprivileged uid and (when the kernel permits) its own network "
                "namespace and a mount namespace showing only the system and interpreter "
                "directories"
                if _isolation.root
                else "the current user, network allowed, the file system readable wherever "
                "Unix permissions allow",
                "!" * 80,
            )
    if require_sandbox and _isolation.bwrap is None:
        raise SandboxUnavailable(f"require_sandbox is set but {_isolation.reason}")
    return _isolation


def _choose_isolation() -> Isolation:
    root = os.geteuid() == 0
    path = _find_bwrap()
    if path is None:
        return Isolation(None, root, "bubblewrap (bwrap) is not installed")
    candidate = Isolation(path, root)
    try:
        (completed,) = run_in_box(candidate, "print(6 * 7)", [b""], "stdin", None, Limits(seconds=30))
        works = completed.exit_code == 0 and completed.stdout.strip() == b"42"
        problem = completed.stderr.decode(errors="replace").strip()[-300:]
    except (SandboxError, OSError) as error:
        works, problem = False, str(error)
    if not works:
        return Isolation(None, root, f"bubblewrap at {path} does not work here ({problem})")
    return candidate
