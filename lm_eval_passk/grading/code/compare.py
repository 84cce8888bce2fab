"""Does a program's output match a test's expected output? LiveCodeBench's rules.

Both checks run outside the sandbox, on bytes the program wrote; the expected output never
enters the sandbox, so a program cannot read it and cannot influence how it is compared.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation


def stdin_output_matches(actual: str, expected: str) -> bool:
    """Strip both; compare line by line, each line stripped; a line that differs as text may
    still match token by token when every token of both parses as an equal Decimal."""
    actual_lines = actual.strip().split("\n")
    expected_lines = expected.strip().split("\n")
    if len(actual_lines) != len(expected_lines):
        return False
    return all(_lines_match(a.strip(), e.strip()) for a, e in zip(actual_lines, expected_lines))


def _lines_match(actual: str, expected: str) -> bool:
    if actual == expected:
        return True
    actual_tokens, expected_tokens = actual.split(), expected.split()
    if len(actual_tokens) != len(expected_tokens):
        return False
    try:
        return all(Decimal(a) == Decimal(e) for a, e in zip(actual_tokens, expected_tokens))
    except (InvalidOperation, ValueError):  # a token that is no number, or a signalling NaN
        return False


def functional_output_matches(actual: str, expected: str) -> bool:
    """The JSON a functional harness printed equals the expected output's JSON (a tuple the
    method returned became a list on the way, as in LiveCodeBench)."""
    try:
        return json.loads(actual) == json.loads(expected)
    except (ValueError, RecursionError):
        return False
