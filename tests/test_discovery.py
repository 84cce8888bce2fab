"""Plain `lm_eval` sees our tasks after `pip install`, through a lazy start-up hook."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import MATH_TASKS

from lm_eval_passk._discovery import TASKS_DIR, with_passk_tasks

LM_EVAL_TASKS = Path("/somewhere/site-packages/lm_eval/tasks")


def test_lm_eval_lists_our_tasks_without_include_path(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("lm_eval")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "lm_eval"]
    listing = subprocess.run(
        [*command, "ls", "tasks"], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert listing.returncode == 0, listing.stderr
    rows = {line.split("|")[1].strip(): line for line in listing.stdout.splitlines() if "|" in line}
    code = ("livecodebench_passk", "humaneval_passk", "humaneval_plus_passk", "mbpp_plus_passk")
    vision = ("mathvista_passk", "mathvision_passk")
    for name in (*MATH_TASKS, *code, *vision, "passk_math", "passk_code", "passk_vision", "passk_paper"):
        assert str(TASKS_DIR) in rows[name]  # indexed from our installed folder


def test_start_up_hook_imports_nothing_heavy() -> None:
    probe = (
        "import sys; from lm_eval_passk import _discovery; "
        "print(any(type(f).__name__ == '_IndexFinder' for f in sys.meta_path), "
        "*[m in sys.modules for m in ('lm_eval', 'numpy', 'torch', 'lm_eval_passk.tasks')])"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    # The hook is installed by the .pth file at start-up, before any import of ours ran.
    assert out.stdout.split() == ["True", "False", "False", "False", "False"]


def test_an_explicit_include_path_of_our_folder_is_not_indexed_twice() -> None:
    assert with_passk_tasks([LM_EVAL_TASKS, Path(TASKS_DIR)]) == [LM_EVAL_TASKS, Path(TASKS_DIR)]


def test_our_folder_comes_after_builtins_and_before_include_path() -> None:
    user = Path("/my/tasks")
    assert with_passk_tasks([LM_EVAL_TASKS, user]) == [LM_EVAL_TASKS, Path(TASKS_DIR), user]


def test_no_defaults_means_no_passk_tasks() -> None:
    # TaskManager(include_defaults=False, include_path=...) asks for its own paths only.
    assert with_passk_tasks([Path("/my/tasks")]) == [Path("/my/tasks")]
