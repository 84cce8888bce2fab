"""The `--metadata` keys our tasks read, validated once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lm_eval_passk.grading.config import CONFIGS as GRADERS
from lm_eval_passk.tasks._common.prompts import (
    DEFAULT_PROMPT,
    PROMPT_KINDS,
    PROMPTS,
)

# The keys read_options reads; a task folder's utils.py names the keys its loader reads
# besides these as its BenchmarkLoader's option_keys (LiveCodeBench's `release`, MathVista's
# `question_types`).
COMMON_KEYS = ("n", "data_dir", "prompt", "grader", "require_sandbox", "shard", "problems")
# Keys lm-eval 0.4.13 puts into every task's metadata itself, seen in a real run: the YAML's
# `version` and the YAML's path, `config_source`. It merges the --model_args keys in too
# (`pretrained`, `dtype`, ...): only the caller knows those, so it leaves them out.
LM_EVAL_KEYS = ("version", "config_source")


@dataclass(frozen=True)
class PassKOptions:
    n: int | None  # samples per problem; None keeps the task's default
    data_dir: Path | None  # local copies laid out like shared/data; None reads the hub
    prompt: str
    grader: str  # "default" or "paper" (lm_eval_passk.grading.config)
    require_sandbox: bool  # code tasks: no bubblewrap is an error, not a warning
    shard: tuple[int, int] | None = None  # (i, m): the i-th of m problem shards, 1-based
    problems: tuple[str, ...] | None = None  # only these problem ids (an adaptive round)


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
    return PassKOptions(
        n, data_dir, prompt, grader, require_sandbox, read_shard(metadata.get("shard")),
        read_problem_ids(metadata.get("problems")),
    )


def read_shard(value: Any) -> tuple[int, int] | None:
    """`"i/m"` (1 <= i <= m) as (i, m); None when absent."""
    if value is None:
        return None
    index, slash, count = str(value).partition("/")
    if not (slash and index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise ValueError(
            f"--metadata 'shard' must be \"i/m\" with 1 <= i <= m (e.g. \"3/8\"), got {value!r}"
        )
    return int(index), int(count)


def read_problem_ids(value: Any) -> tuple[str, ...] | None:
    """The `problems` key of an adaptive round (docs/ANALYSIS.md): a list of problem ids, or
    the path of a text file with one id per line (what `lm-eval-passk adapt` writes)."""
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        ids = tuple(value)
    elif isinstance(value, str):
        path = Path(value).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"--metadata 'problems': {path} is not a file of problem ids")
        ids = tuple(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    else:
        raise ValueError(f"--metadata 'problems' must be a list of problem ids or a file of them, got {value!r}")
    if not ids:
        raise ValueError(f"--metadata 'problems': {value!r} names no problem")
    if len(set(ids)) != len(ids):
        raise ValueError(f"--metadata 'problems': {value!r} names a problem twice")
    return ids


def unknown_keys(keys: Iterable[str], valid: Iterable[str]) -> list[str]:
    """The keys that are neither in `valid` nor lm-eval's own, sorted."""
    return sorted(set(keys) - set(valid) - set(LM_EVAL_KEYS))


def check_keys(keys: Iterable[str], valid: Iterable[str], tasks: str) -> None:
    """Refuse --metadata keys that none of `tasks` reads: a misspelt `data-dir` would
    otherwise be ignored and the run would quietly read the hub instead."""
    valid = sorted(set(valid))
    unknown = unknown_keys(keys, valid)
    if unknown:
        raise ValueError(
            f"--metadata {'key' if len(unknown) == 1 else 'keys'} {', '.join(map(repr, unknown))} "
            f"not read by {tasks}; valid keys: {', '.join(valid)}"
        )


def check_prompt_fits(task: str, prompt: str, kind: str) -> None:
    """Refuse a prompt written for another kind of task (a code prompt on a math task)."""
    if prompt not in PROMPT_KINDS[kind]:
        raise ValueError(
            f"--metadata 'prompt' {prompt!r} does not fit {task}, a {kind} task; "
            f"valid prompts: {', '.join(PROMPT_KINDS[kind])}"
        )
