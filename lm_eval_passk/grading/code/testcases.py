"""Read a LiveCodeBench problem's tests from its dataset row, without running its pickles.

The `livecodebench/code_generation_lite` rows keep `public_test_cases` as a JSON string and
`private_test_cases` as base64(zlib(pickle(JSON string))); some copies store plain JSON
instead. A pickle can name any importable callable and have the loader call it, so ours
loads through an Unpickler that refuses every global: only the plain containers and
strings a JSON string is made of can come out of it.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["stdin", "functional"]
KINDS = ("stdin", "functional")
# Decompressed private tests larger than this are refused: a zlib bomb is a few kilobytes
# that inflate to gigabytes. The largest real problems hold tens of megabytes of tests.
MAX_DECODED_BYTES = 1024**3
# Nesting deeper than this is not a list of test dicts.
MAX_DEPTH = 8


@dataclass(frozen=True)
class TestCase:
    """One test: what the program reads, what it must produce, and how it is called."""

    __test__ = False  # not a pytest test class

    input: str
    output: str
    kind: Kind  # "stdin": a program reading stdin; "functional": Solution().<func_name>(...)


@dataclass(frozen=True)
class ProblemTests:
    """All tests of one problem, public first, in the dataset's order."""

    __test__ = False

    problem: str  # question_id when the row has one, for messages
    cases: tuple[TestCase, ...]
    func_name: str | None  # the method functional tests call

    @property
    def kind(self) -> Kind:
        return self.cases[0].kind


class _NoGlobals(pickle.Unpickler):
    """Loads only what needs no import: strings, numbers, lists, dicts, tuples."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused to load the global {module}.{name}")


def problem_name(row: Mapping[str, Any]) -> str:
    """How messages name a problem: its question_id, else its title, else "?"."""
    return str(row.get("question_id") or row.get("question_title") or "?")


def decode_tests(row: Mapping[str, Any]) -> ProblemTests:
    """The public and private tests of one `code_generation_lite` row.

    Raises ValueError naming the problem when a field is malformed or its pickle asks for
    anything but plain values; nothing in the pickle is ever called."""
    problem = problem_name(row)
    public = _as_test_list(row.get("public_test_cases") or "[]", problem, "public_test_cases")
    private = _as_test_list(
        _decode_private(row.get("private_test_cases") or "[]", problem),
        problem,
        "private_test_cases",
    )
    metadata = _metadata(row.get("metadata"), problem)
    cases = tuple(_test_case(test, problem) for test in [*public, *private])
    if not cases:
        raise ValueError(f"LiveCodeBench problem {problem}: no test cases")
    kinds = {case.kind for case in cases}
    if len(kinds) > 1:
        raise ValueError(f"LiveCodeBench problem {problem}: mixes test types {sorted(kinds)}")
    func_name = metadata.get("func_name")
    if cases[0].kind == "functional":
        if not isinstance(func_name, str) or not func_name.isidentifier():
            raise ValueError(
                f"LiveCodeBench problem {problem}: functional tests need metadata.func_name, "
                f"got {func_name!r}"
            )
        for number, case in enumerate(cases, 1):
            try:
                functional_arguments(case.input)
            except ValueError as error:
                raise ValueError(
                    f"LiveCodeBench problem {problem}: test {number}'s input is not one JSON "
                    f"value per line ({error})"
                ) from None
    return ProblemTests(problem, cases, func_name if isinstance(func_name, str) else None)


def functional_arguments(test_input: str) -> list[Any]:
    """A functional test's arguments: one JSON value per non-blank input line."""
    return [json.loads(line) for line in test_input.split("\n") if line.strip()]


def _decode_private(field: Any, problem: str) -> Any:
    """The private tests as JSON text or as the decoded value, from either storage format."""
    if isinstance(field, (list, dict)):
        return field  # already decoded by whoever loaded the row
    if not isinstance(field, str):
        raise ValueError(
            f"LiveCodeBench problem {problem}: private_test_cases is a {type(field).__name__}, "
            "expected a string"
        )
    if field.lstrip()[:1] in ("[", "{", ""):
        return field  # plain JSON
    try:
        compressed = base64.b64decode(field, validate=True)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(compressed, MAX_DECODED_BYTES)
        if inflater.unconsumed_tail:
            raise ValueError(f"more than {MAX_DECODED_BYTES} bytes once decompressed")
        value = _NoGlobals(io.BytesIO(raw)).load()
    except Exception as error:  # bad base64 or zlib, a refused global, a broken pickle
        raise ValueError(
            f"LiveCodeBench problem {problem}: private_test_cases refused: "
            f"{type(error).__name__}: {error}"
        ) from None
    _check_plain(value, problem, 0)
    return value


def _check_plain(value: Any, problem: str, depth: int) -> None:
    """Only JSON-shaped values may come out of the pickle."""
    if depth > MAX_DEPTH:
        raise ValueError(f"LiveCodeBench problem {problem}: private_test_cases nested too deeply")
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_plain(item, problem, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(
                    f"LiveCodeBench problem {problem}: private_test_cases refused: a "
                    f"{type(key).__name__} dict key"
                )
            _check_plain(item, problem, depth + 1)
    elif value is not None and type(value) not in (str, int, float, bool):
        raise ValueError(
            f"LiveCodeBench problem {problem}: private_test_cases refused: a "
            f"{type(value).__name__} value"
        )


def _as_test_list(value: Any, problem: str, field: str) -> list[Mapping[str, Any]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"LiveCodeBench problem {problem}: {field} is not JSON ({error})"
            ) from None
    if not isinstance(value, list) or not all(isinstance(test, dict) for test in value):
        raise ValueError(f"LiveCodeBench problem {problem}: {field} is not a list of test objects")
    return value


def _test_case(test: Mapping[str, Any], problem: str) -> TestCase:
    kind = test.get("testtype")
    if kind not in KINDS:
        raise ValueError(f"LiveCodeBench problem {problem}: unknown testtype {kind!r}")
    if not isinstance(test.get("input"), str) or not isinstance(test.get("output"), str):
        raise ValueError(
            f"LiveCodeBench problem {problem}: a test's input and output must be strings"
        )
    return TestCase(test["input"], test["output"], kind)


def _metadata(field: Any, problem: str) -> dict[str, Any]:
    if isinstance(field, dict):
        return field
    if not field:
        return {}
    try:
        metadata = json.loads(field)
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(
            f"LiveCodeBench problem {problem}: metadata is not JSON ({error})"
        ) from None
    return metadata if isinstance(metadata, dict) else {}
