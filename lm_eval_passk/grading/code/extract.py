"""Find the program a response commits to. Pure string work, linear in the response."""

from __future__ import annotations

import ast
import re

from lm_eval_passk.grading.extract import answer_region

# A fence opens at the start of a line: ```python, ```py, ``` ... and closes at the next
# line that starts with ```. Matching is sequential, so prose between two blocks is never
# taken for code.
_BLOCK = re.compile(r"^[ \t]*```[ \t]*([^\n`]*)\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
_PYTHON_TAGS = frozenset({"python", "python3", "py", "py3"})


def extract_code(response: str) -> str | None:
    """The program in a response: its last ```python block, else its last untagged ```
    block, else the response itself when it is bare Python; None when there is none.
    Reasoning inside <think>...</think> is skipped."""
    text = answer_region(response)
    python, plain = None, None
    for match in _BLOCK.finditer(text):
        tag = match.group(1).strip().lower()
        body = match.group(2)
        if not body.strip():
            continue
        if tag in _PYTHON_TAGS:
            python = body
        elif not tag:
            plain = body
    if python is not None or plain is not None:
        return python if python is not None else plain
    if "```" not in text and _is_bare_code(text):
        return text
    return None


def _is_bare_code(text: str) -> bool:
    """True for text that parses as Python and does something: "Yes." or a lone number
    parse too, but a program has a statement or a call."""
    if not text.strip():
        return False
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(
        not isinstance(node, ast.Expr) or isinstance(node.value, ast.Call) for node in tree.body
    )
