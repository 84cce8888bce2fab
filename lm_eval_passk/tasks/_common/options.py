"""The `--metadata` keys our tasks read, validated once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lm_eval_passk.grading.config import CONFIGS as GRADERS
from lm_eval_passk.tasks._common.prompts import DEFAULT_PROMPT, PROMPTS


@dataclass(frozen=True)
class PassKOptions:
    n: int | None  # samples per problem; None keeps the task's default
    data_dir: Path | None  # local copies laid out like shared/data; None reads the hub
    prompt: str
    grader: str  # "default" or "paper" (lm_eval_passk.grading.config)
    require_sandbox: bool  # code tasks: no bubblewrap is an error, not a warning


def read_options(metadata: dict[str, Any]) -> PassKOptions:
    """Read and check `n`, `data_dir`, `prompt`, `grader` and `require_sandbox` from a
    task's metadata."""
    n = metadata.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"--metadata 'n' must be a positive integer, got {n!r}")
    data_dir = metadata.get("data_dir")
    if data_dir is not None:
        data_dir = Path(data_dir).expanduser()
        if not data_dir.is_dir():
            raise FileNotFoundError(f"--metadata 'data_dir': {data_dir} is not a directory")
    prompt = metadata.get("prompt", DEFAULT_PROMPT)
    if prompt not in PROMPTS:
        raise ValueError(
            f"--metadata 'prompt' must be one of {', '.join(sorted(PROMPTS))}, got {prompt!r}"
        )
    grader = metadata.get("grader", "default")
    if grader not in GRADERS:
        raise ValueError(
            f"--metadata 'grader' must be one of {', '.join(sorted(GRADERS))}, got {grader!r}"
        )
    require_sandbox = metadata.get("require_sandbox", False)
    if not isinstance(require_sandbox, bool):
        raise ValueError(f"--metadata 'require_sandbox' must be true or false, got {require_sandbox!r}")
    return PassKOptions(n, data_dir, prompt, grader, require_sandbox)
