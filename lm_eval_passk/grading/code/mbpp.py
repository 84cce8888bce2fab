"""MBPP+ (`evalplus/mbppplus`) rows as HumanEval-style records, for the humaneval grader.

    >>> from lm_eval_passk.grading.code.mbpp import mbpp_plus_problem
    >>> grade_humaneval_many(responses, [mbpp_plus_problem(row) for row in rows])

An MBPP+ row has `prompt` (one sentence of task), `code` (the reference solution),
`test_imports`, `test_list` (MBPP's three asserts) and `test`: code that calls the function
itself at module level (EvalPlus's inputs, expected results and an `assertion` helper),
with no `check(candidate)` and no entry point field. The record built here runs
`test_imports` and `test` at module level after the solution, as EvalPlus does, and adds a
`check` that only asks the entry point to exist: a failed assertion in `test` is then
`wrong_answer`, and a pass means all of `test` has run. `test` runs in the test's process
with the entry point's name bound to the solution's function in the other process (docs/CODE.md,
"Two processes"), so its `inputs`, `results` and helpers are not in the solution's reach.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Mapping
from typing import Any

# Runs after MBPP+'s own test code has run at module level (see the module doc).
_CHECK = "\n\ndef check(candidate):\n    assert callable(candidate)\n"


def mbpp_plus_prompt(row: Mapping[str, Any]) -> str:
    """The completion prompt EvalPlus gives base models: a docstring holding the task and
    MBPP's first test, which the model continues with the function."""
    return f'"""\n{str(row["prompt"]).strip()}\n{row["test_list"][0]}\n"""\n'


def mbpp_plus_entry_point(row: Mapping[str, Any]) -> str:
    """The function the tests call: the row's `entry_point` where it has one (EvalPlus's
    own files), else the first top-level function of the reference `code` that MBPP's
    asserts call, else the first non-builtin name the first assert calls."""
    if isinstance(row.get("entry_point"), str) and row["entry_point"].isidentifier():
        return row["entry_point"]
    asserts = "\n".join(row["test_list"])
    try:
        defined = [
            node.name
            for node in ast.parse(str(row["code"])).body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        ]
    except (SyntaxError, ValueError):
        defined = []
    for name in defined:
        if re.search(rf"\b{re.escape(name)}\s*\(", asserts):
            return name
    called = [
        name for name in re.findall(r"(?<![\w.])([A-Za-z_]\w*)\s*\(", row["test_list"][0])
        if not hasattr(builtins, name)  # `assert set(f(x)) == ...` calls f, not set
    ]
    if not called:
        raise ValueError(f"mbpp_plus: task {row.get('task_id')}: cannot tell the entry point")
    return called[0]


def mbpp_plus_problem(row: Mapping[str, Any]) -> dict[str, str]:
    """The HumanEval-style record (`prompt`, `test`, `entry_point`) of one MBPP+ row."""
    imports = "\n".join(row.get("test_imports") or [])
    return {
        "prompt": mbpp_plus_prompt(row),
        "test": f"{imports}\n{row['test']}{_CHECK}",
        "entry_point": mbpp_plus_entry_point(row),
    }
