"""Agreement with the equivalence judgements other projects wrote in their own test suites.

Five projects test their math answer checkers with pairs they judged by hand: "is this
prediction equal to this gold answer?". This script reads those test files, takes every
judgement it can resolve statically (with Python's `ast`, never by running their code),
and measures how often our grader (`lm_eval_passk.grading`) and math-verify agree with the
peer's verdict.

The peers (the test files are read at run time; nothing of theirs is stored here):

    huggingface/Math-Verify  tests/*.py           compare_strings(gold, pred, ...), verify(parse(gold), parse(pred))
    huggingface/lighteval    tests/**/*.py        compare_strings(gold, pred, ...) of its extractive-match metric
    NVIDIA/NeMo-Skills       tests/*.py           math_equal(gold, pred), asserted both ways round
    QwenLM/Qwen2.5-Math      evaluation/grader.py math_equal(pred, gold) in `_test_math_equal`
    hendrycks/math           modeling/math_equivalence_test.py  is_equiv(pred, gold)

Fetch them first (the agent tool `fetch github:<owner>/<name>` puts a bare mirror at
<mirror-root>/<owner>+<name>/repo), or pass a checkout with `--repo owner/name=PATH`. No peer
code or test data is stored in this repository: `collect` writes the judgements to a file
you name (keep it outside the repository), `measure` reads that file.

    python benchmarks/peer_suites.py collect --mirror-root /work/.mirror --out /tmp/peer_judgements.jsonl
    python benchmarks/peer_suites.py measure --judgements /tmp/peer_judgements.jsonl \
        [--grader default] [--out-disagreements /tmp/peer_disagreements.jsonl]

A judgement is one JSON line: `gold`, `prediction`, `expected` (the peer says the
prediction is correct), `kind`, `source`/`sources`, `location`/`locations` (file:line), and
`note` for a non-default setting the peer's test used (extraction targets, precision,
strict=False, a language) or a gold that is itself a full response. `kind` is "answer" (an
extracted answer, which we grade as `\\boxed{prediction}`) or "response" (text an answer
must be extracted from, graded as is): always "answer" for the peers that compare extracted
answers; for Math-Verify and lighteval, which extract from both sides, "response" when the
prediction holds a \\boxed, several math segments, a line break or prose. Identical (gold,
prediction, expected, kind) judgements from several places are kept once. Judgements whose
expectation is conditional, mocked, printed, commented out or not a pair of strings are
skipped and counted. Not considered: multiple-choice letter extraction (lighteval's
NativeLetters cases) and Qwen2.5-Math's vendored latex2sympy parser tests (LaTeX against
sympy objects, not two answers).

`measure` grades every judgement with our grader (`grade_many("math500", ...)`, one call)
and with math-verify (`verify(parse(gold), parse(prediction))`, default configurations,
its own parsing and verification timeouts, any exception counted as "not equal"); a second
math-verify column wraps the bare answers of NeMo-Skills, Qwen2.5-Math and hendrycks in
`$...$`, the input form math-verify documents. It prints agreement per source, false
positives (peer: not equal; grader: correct) and false negatives, the versions of the LaTeX
parser stack (math-verify's verdicts move with the antlr runtime), and our disagreements.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------
# Where the peers keep their judgements
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparator:
    """A function whose call in a test compares a prediction with a gold answer."""

    name: str
    gold: int | str  # positional index or parameter name of the gold answer
    pred: int | str
    unwrap: str | None = None  # both arguments are calls to this function (verify(parse(g), parse(p)))
    skip_reason: str | None = None  # calls of it are counted as skipped, never extracted


@dataclass(frozen=True)
class Source:
    repo: str
    files: str  # regular expression on paths in the repository
    comparators: tuple[Comparator, ...]
    extracts_prediction: bool  # the peer extracts the answer from the prediction (and gold)
    helper_files: str | None = "tests/"  # path prefix of module-level helpers (compare_strings)


_SYMPY = "compares sympy objects, not answer strings"
SOURCES = (
    Source(
        "huggingface/Math-Verify",
        r"^tests/.*\.py$",
        (
            Comparator("compare_strings", "gold", "pred"),
            Comparator("verify", 0, 1, unwrap="parse"),
            Comparator("sympy_expr_eq", 0, 1, skip_reason=_SYMPY),
        ),
        extracts_prediction=True,
    ),
    Source(
        "huggingface/lighteval",
        r"^tests/.*\.py$",
        (
            Comparator("compare_strings", "gold", "pred"),
            Comparator("sympy_expr_eq", 0, 1, skip_reason=_SYMPY),
        ),
        extracts_prediction=True,
    ),
    Source(
        "NVIDIA/NeMo-Skills",
        r"^tests/.*\.py$",
        (Comparator("math_equal", 0, 1),),  # math_equal(gt_answer, predicted_answer)
        extracts_prediction=False,
    ),
    Source(
        "QwenLM/Qwen2.5-Math",
        # grader.py's `_test_math_equal`, and any test file outside the vendored latex2sympy
        r"^evaluation/grader\.py$"
        r"|^(?!evaluation/latex2sympy/)(?:(?:.*/)?tests?/.*|.*_test)\.py$",
        (Comparator("math_equal", 1, 0),),  # math_equal(prediction, reference)
        extracts_prediction=False,
        helper_files=None,
    ),
    Source(
        "hendrycks/math",
        r"(?:^|/)math_equivalence_test\.py$",
        (Comparator("is_equiv", 1, 0),),  # is_equiv(model_output, answer) in evaluate_gpt3.py
        extracts_prediction=False,
        helper_files=None,
    ),
)

# --------------------------------------------------------------------------------------
# Reading a mirror or a checkout
# --------------------------------------------------------------------------------------


class RepoReader:
    """Files of one repository: a bare git mirror (read at HEAD) or a plain directory."""

    def __init__(self, path: Path):
        self.path = path
        self.bare = (path / "HEAD").is_file() and (path / "objects").is_dir()
        self.revision = self._revision()

    def _git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.path), *args], check=True, capture_output=True, text=True
        ).stdout

    def _revision(self) -> str:
        try:
            return self._git("rev-parse", "HEAD").strip()
        except (subprocess.CalledProcessError, FileNotFoundError):
            return "working tree"

    def paths(self) -> list[str]:
        if self.bare:
            return self._git("ls-tree", "-r", "--name-only", "HEAD").splitlines()
        return sorted(
            str(p.relative_to(self.path))
            for p in self.path.rglob("*.py")
            if ".git" not in p.relative_to(self.path).parts
        )

    def read(self, relative: str) -> str:
        if self.bare:
            return self._git("show", f"HEAD:{relative}")
        return (self.path / relative).read_text(encoding="utf-8")


def find_repo(repo: str, mirror_root: Path, overrides: dict[str, Path]) -> Path | None:
    if repo in overrides:
        return overrides[repo]
    owner, name = repo.split("/")
    for candidate in (
        mirror_root / f"{owner}+{name}" / "repo",
        mirror_root / f"{owner}+{name}",
        mirror_root / owner / name,
        mirror_root / name,
    ):
        if candidate.is_dir():
            return candidate
    return None


# --------------------------------------------------------------------------------------
# Static evaluation of test code
# --------------------------------------------------------------------------------------


class Unresolved(Exception):
    """A value that cannot be known without running the peer's code."""


@dataclass(frozen=True)
class Symbol:
    """A dotted name we do not evaluate (`Language.CHINESE`), kept by its text."""

    text: str

    def __repr__(self) -> str:
        return self.text


_MATH_FUNCTIONS = {name: getattr(math, name) for name in ("sqrt", "pi", "e", "log", "exp", "sin", "cos")}
_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def evaluate(node: ast.AST, env: dict[str, Any]) -> Any:
    """The value of a constant expression: literals, names bound in `env`, indexing,
    arithmetic, f-strings and `math.*` on constants. Anything else is Unresolved."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        values = [evaluate(item, env) for item in node.elts]
        return tuple(values) if isinstance(node, ast.Tuple) else values
    if isinstance(node, ast.Name):
        if node.id in env:
            value = env[node.id]
            if isinstance(value, ast.AST):
                return evaluate(value, env)
            return value
        raise Unresolved(f"name {node.id}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = evaluate(node.operand, env)
        if not isinstance(value, (int, float)):
            raise Unresolved("sign of a non-number")
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = evaluate(node.left, env), evaluate(node.right, env)
        if isinstance(left, (int, float)) and isinstance(right, (int, float)):
            return _BINOPS[type(node.op)](left, right)
        raise Unresolved("arithmetic on non-numbers")
    if isinstance(node, ast.Subscript):
        container = evaluate(node.value, env)
        index = evaluate(node.slice, env)
        try:
            return container[index]
        except (TypeError, IndexError, KeyError) as error:
            raise Unresolved(f"subscript: {error}") from None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            elif isinstance(part, ast.FormattedValue):
                value = evaluate(part.value, env)
                spec = evaluate(part.format_spec, env) if part.format_spec else ""
                parts.append(format(value, spec))
            else:
                raise Unresolved("f-string part")
        return "".join(parts)
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id == "math" and node.attr in _MATH_FUNCTIONS:
            return _MATH_FUNCTIONS[node.attr]
        return Symbol(ast.unparse(node))
    if isinstance(node, ast.Call) and not node.keywords:
        function = evaluate(node.func, env)
        if callable(function) and function in _MATH_FUNCTIONS.values():
            return function(*(evaluate(arg, env) for arg in node.args))
    raise Unresolved(type(node).__name__)


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            return node.func.id
        if isinstance(node.func, ast.Attribute):
            return node.func.attr
    return None


@dataclass
class Helper:
    """A module-level test helper such as compare_strings: its parameters and defaults."""

    params: list[str]
    defaults: dict[str, Any]


def read_helper(function: ast.FunctionDef) -> Helper:
    params = [arg.arg for arg in function.args.args]
    defaults: dict[str, Any] = {}
    for arg, default in zip(function.args.args[-len(function.args.defaults) :], function.args.defaults):
        try:
            defaults[arg.arg] = evaluate(default, {})
        except Unresolved:
            defaults[arg.arg] = Symbol(ast.unparse(default))
    for arg, default in zip(function.args.kwonlyargs, function.args.kw_defaults):
        params.append(arg.arg)
        if default is not None:
            try:
                defaults[arg.arg] = evaluate(default, {})
            except Unresolved:
                defaults[arg.arg] = Symbol(ast.unparse(default))
    return Helper(params, defaults)


# --------------------------------------------------------------------------------------
# Extraction of judgements
# --------------------------------------------------------------------------------------


@dataclass
class Judgement:
    source: str
    location: str
    gold: str
    prediction: str
    expected: bool
    kind: str
    note: str = ""


@dataclass
class Harvest:
    judgements: list[Judgement] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    files: list[str] = field(default_factory=list)


def _as_text(value: Any) -> str:
    """A judgement value as the string a grader gets (NeMo-Skills' math_equal str()s too)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        raise Unresolved(f"{value!r} is not an answer")
    if isinstance(value, (int, float)):
        return str(value)
    raise Unresolved(f"{type(value).__name__} is not an answer")


def _as_expected(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raise Unresolved(f"expected value {value!r}")


# The prediction is "already an answer" unless it holds prose, several math segments, a
# \boxed, or a line break. \text{...} contents are answer text ("\text{Evelyn}"), not prose.
_TEXT_ARGUMENT = re.compile(r"\\(?:text\w*|mathrm|mbox|operatorname)\s*\{[^{}]*\}")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_WORD = re.compile(r"(?<![^\W\d_])[^\W\d_]{2,}(?![^\W\d_])")
_NON_ASCII_WORD = re.compile(r"[^\W\d_A-Za-z]{2,}")
_DELIMITERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))


def looks_like_response(text: str) -> bool:
    """True when an answer must first be extracted from `text`."""
    stripped = text.strip()
    if "\\boxed" in stripped or "\\fbox" in stripped or "\n" in stripped or len(stripped) > 200:
        return True
    for left, right in _DELIMITERS:
        if stripped.startswith(left) and stripped.endswith(right) and len(stripped) > len(left) + len(right):
            stripped = stripped[len(left) : -len(right)]
            break
    dollars = stripped.replace("\\$", "")
    if dollars.count("$") == 1 and (dollars.startswith("$") or dollars.endswith("$")):
        dollars = dollars.strip("$")  # a currency sign ("$1,000.99"), not a math delimiter
    if "$" in dollars or "\\(" in stripped or "\\[" in stripped:
        return True
    prose = _COMMAND.sub(" ", _TEXT_ARGUMENT.sub(" ", stripped))
    if _NON_ASCII_WORD.search(prose):
        return True
    words = _WORD.findall(prose)
    # Two or more words ("the answer is 5"); "28 percent" or "19, 46, and 82" is an answer.
    return len(words) >= 2 and bool(re.search(r"[^\W\d_]{2,}\s+[^\W\d_]{2,}", prose))


class FileExtractor:
    def __init__(self, source: Source, path: str, text: str, helpers: dict[str, Helper], harvest: Harvest):
        self.source = source
        self.path = path
        self.text = text
        self.helpers = helpers
        self.harvest = harvest
        self.comparators = {c.name: c for c in source.comparators}

    # ---- driving -------------------------------------------------------------------

    def run(self) -> None:
        try:
            tree = ast.parse(self.text)
        except SyntaxError as error:
            self.skip(f"file does not parse ({error.msg})")
            return
        self.harvest.files.append(self.path)
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and self._is_test(item.name):
                        self.test_function(item)
            elif isinstance(node, ast.FunctionDef) and self._is_test(node.name):
                self.test_function(node)

    def _is_test(self, name: str) -> bool:
        return name.startswith(("test", "_test"))

    def skip(self, reason: str, count: int = 1) -> None:
        self.harvest.skipped[reason] += count

    def location(self, node: ast.AST) -> str:
        return f"{self.path}:{getattr(node, 'lineno', 0)}"

    # ---- one test function -----------------------------------------------------------

    def _comparisons_in(self, nodes: list[ast.AST]) -> int:
        return sum(
            1
            for node in nodes
            for sub in ast.walk(node)
            if isinstance(sub, ast.Call) and _call_name(sub) in self.comparators
        )

    def test_function(self, function: ast.FunctionDef) -> None:
        mocked = any("patch" in ast.unparse(d) for d in function.decorator_list)
        cases = self._parametrize_cases(function)
        if cases is None:
            self.run_body(function, {}, None, mocked)
            return
        for env, node in cases:
            self.run_body(function, env, node, mocked)

    def _parametrize_cases(self, function: ast.FunctionDef) -> list[tuple[dict[str, Any], ast.AST]] | None:
        """[(parameter bindings, case node)] of @pytest.mark.parametrize, or None."""
        combined: list[tuple[dict[str, Any], ast.AST]] | None = None
        for decorator in function.decorator_list:
            if not (isinstance(decorator, ast.Call) and _call_name(decorator) == "parametrize"):
                continue
            names_node = decorator.args[0] if decorator.args else None
            values_node = decorator.args[1] if len(decorator.args) > 1 else None
            for keyword in decorator.keywords:
                if keyword.arg == "argnames":
                    names_node = keyword.value
                elif keyword.arg == "argvalues":
                    values_node = keyword.value
            try:
                names = evaluate(names_node, {})
            except Unresolved:
                self.skip("parametrize names not literal")
                return []
            names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
            if not isinstance(values_node, (ast.List, ast.Tuple)):
                self.skip("parametrize values not a literal list", self._comparisons_in([function]))
                return []
            cases = []
            for case in values_node.elts:
                if _call_name(case) == "param":  # pytest.param(a, b, c, marks=...)
                    if any(k.arg == "marks" for k in case.keywords):
                        self.skip("pytest.param with marks (xfail/skip)")
                        continue
                    items: list[ast.AST] = list(case.args)
                elif len(names) == 1:
                    items = [case]
                elif isinstance(case, (ast.Tuple, ast.List)):
                    items = list(case.elts)
                else:
                    self.skip("parametrize case not a literal tuple")
                    continue
                if len(items) != len(names):
                    self.skip("parametrize case of the wrong length")
                    continue
                cases.append((dict(zip(names, items)), case))
            if combined is None:
                combined = cases
            else:  # stacked parametrize: the cross product
                combined = [({**a, **b}, node_a) for a, node_a in combined for b, _ in cases]
        return combined

    def run_body(self, function: ast.FunctionDef, env: dict[str, Any], case: ast.AST | None, mocked: bool) -> None:
        env = dict(env)
        bound_calls: dict[str, ast.Call] = {}
        for statement in function.body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                if isinstance(target, ast.Name):
                    if _call_name(statement.value) in self.comparators:
                        bound_calls[target.id] = statement.value  # output = math_equal(a, b)
                    else:
                        env[target.id] = statement.value
                        bound_calls.pop(target.id, None)
                continue
            if isinstance(statement, (ast.Assert, ast.Expr)):
                self.assertion(statement, env, bound_calls, case, mocked)
                continue
            count = self._comparisons_in([statement])
            if count:
                self.skip("comparison inside a conditional, loop or with-block", count)

    def assertion(
        self,
        statement: ast.Assert | ast.Expr,
        env: dict[str, Any],
        bound: dict[str, ast.Call],
        case: ast.AST | None,
        mocked: bool,
    ) -> None:
        found = self._assertion_parts(statement, env, bound)
        if found is None:
            count = self._comparisons_in([statement])
            printed = isinstance(statement, ast.Expr) and _call_name(statement.value) == "print"
            if count:
                self.skip("no expected value (result printed)" if printed else "assertion form not recognised", count)
            return
        call, expected_node, negate = found
        comparator = self.comparators[_call_name(call)]
        if comparator.skip_reason:
            self.skip(comparator.skip_reason)
            return
        if mocked:
            self.skip("test patches the comparison (mock)")
            return
        location = self.location(case if case is not None else statement)
        try:
            expected = _as_expected(evaluate(expected_node, env)) if expected_node is not None else True
            expected = expected != negate
            gold, prediction, notes = self.arguments(call, comparator, env)
        except Unresolved as error:
            self.skip(f"not statically resolvable ({str(error).split(':')[0]})")
            return
        except SkipCase as reason:
            self.skip(str(reason))
            return
        if self.source.extracts_prediction:
            kind = "response" if looks_like_response(prediction) else "answer"
            if looks_like_response(gold):
                notes.append("gold is a full response (the peer extracts the gold answer too)")
        else:
            kind = "answer"
        self.harvest.judgements.append(
            Judgement(self.source.repo, location, gold, prediction, expected, kind, "; ".join(notes))
        )

    def _assertion_parts(
        self, statement: ast.Assert | ast.Expr, env: dict[str, Any], bound: dict[str, ast.Call]
    ) -> tuple[ast.Call, ast.AST | None, bool] | None:
        """(comparison call, node of the expected value or None for True, negated?)."""

        def comparison(node: ast.AST) -> ast.Call | None:
            if isinstance(node, ast.Name) and node.id in bound:
                return bound[node.id]
            if isinstance(node, ast.Call) and _call_name(node) in self.comparators:
                return node
            if isinstance(node, ast.Call) and _call_name(node) in ("int", "bool", "float") and len(node.args) == 1:
                return comparison(node.args[0])
            return None

        if isinstance(statement, ast.Expr):  # self.assertTrue(...) and friends
            call = statement.value
            name = _call_name(call)
            if not (isinstance(call, ast.Call) and name and name.startswith("assert") and call.args):
                return None
            inner = comparison(call.args[0])
            if inner is None and len(call.args) > 1:
                inner = comparison(call.args[1])
                other = call.args[0]
            else:
                other = call.args[1] if len(call.args) > 1 else None
            if inner is None:
                return None
            if name == "assertTrue":
                return inner, None, False
            if name == "assertFalse":
                return inner, None, True
            if name == "assertEqual" and other is not None:
                return inner, other, False
            if name == "assertNotEqual" and other is not None:
                return inner, other, True
            return None
        test = statement.test
        negate = False
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, negate = test.operand, True
        inner = comparison(test)
        if inner is not None:
            return inner, None, negate
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, right, op = test.left, test.comparators[0], test.ops[0]
            inner, other = comparison(left), right
            if inner is None:
                inner, other = comparison(right), left
            if inner is None:
                return None
            if isinstance(op, (ast.Eq, ast.Is)):
                return inner, other, negate
            if isinstance(op, (ast.NotEq, ast.IsNot)):
                return inner, other, not negate
        return None

    def arguments(self, call: ast.Call, comparator: Comparator, env: dict[str, Any]) -> tuple[str, str, list[str]]:
        """(gold, prediction, notes on non-default settings) of one comparison call."""
        notes: list[str] = []
        helper = self.helpers.get(comparator.name)
        if helper is not None:  # compare_strings(gold, pred, ...): bind to its signature
            bound: dict[str, ast.AST] = dict(zip(helper.params, call.args))
            bound.update({k.arg: k.value for k in call.keywords if k.arg})
            gold_node, pred_node = bound.get(str(comparator.gold)), bound.get(str(comparator.pred))
            if gold_node is None or pred_node is None:
                raise Unresolved("gold or prediction argument")
            for name, node in bound.items():
                if name in (comparator.gold, comparator.pred):
                    continue
                value = evaluate(node, env)
                if name == "match_types" and "NativeLetters" in value:
                    raise SkipCase("multiple-choice letter extraction (not a math comparison)")
                if name in helper.defaults and _same(value, helper.defaults[name]):
                    continue
                notes.append(f"{name}={value!r}")
            return _as_text(evaluate(gold_node, env)), _as_text(evaluate(pred_node, env)), notes
        arguments = list(call.args)
        if comparator.unwrap:
            unwrapped = []
            for argument in arguments[:2]:
                if _call_name(argument) != comparator.unwrap or not argument.args:
                    raise Unresolved(f"argument of {comparator.name} is not {comparator.unwrap}(...)")
                if len(argument.args) > 1 or argument.keywords:
                    notes.append(f"{comparator.unwrap}({ast.unparse(argument)[len(comparator.unwrap) + 1:-1]})")
                unwrapped.append(argument.args[0])
            arguments = unwrapped + arguments[2:]
        if call.keywords:
            notes.extend(f"{k.arg}={ast.unparse(k.value)}" for k in call.keywords)
        if len(arguments) < 2:
            raise Unresolved("too few arguments")
        gold = _as_text(evaluate(arguments[int(comparator.gold)], env))
        prediction = _as_text(evaluate(arguments[int(comparator.pred)], env))
        return gold, prediction, notes


class SkipCase(Exception):
    """A case that is resolvable but out of scope (its reason is counted)."""


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    return a == b or repr(a) == repr(b)


_COMMENTED_CALL = re.compile(r"^\s*#.*\b(?:math_equal|is_equiv|compare_strings)\(|^\s*#\s*pred\s*=", re.M)


def harvest_source(source: Source, reader: RepoReader) -> Harvest:
    harvest = Harvest()
    pattern = re.compile(source.files)
    paths = [p for p in reader.paths() if p.endswith(".py") and pattern.search(p)]
    names = tuple(c.name for c in source.comparators)
    texts = {}
    for path in paths:
        try:
            text = reader.read(path)
        except (subprocess.CalledProcessError, OSError, UnicodeDecodeError):
            continue
        if any(f"{name}(" in text for name in names):
            texts[path] = text
    helpers: dict[str, Helper] = {}
    for path, text in texts.items():
        if source.helper_files is None or not path.startswith(source.helper_files):
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in names and not node.name.startswith("test"):
                helpers.setdefault(node.name, read_helper(node))
    for path, text in texts.items():
        FileExtractor(source, path, text, helpers, harvest).run()
        commented = len(_COMMENTED_CALL.findall(text))
        if commented:
            harvest.skipped["commented out (no expected value)"] += commented
    return harvest


def deduplicate(judgements: list[Judgement]) -> list[dict[str, Any]]:
    merged: dict[tuple, dict[str, Any]] = {}
    for j in judgements:
        key = (j.gold, j.prediction, j.expected, j.kind)
        row = merged.get(key)
        if row is None:
            merged[key] = row = {
                "source": j.source,
                "location": j.location,
                "gold": j.gold,
                "prediction": j.prediction,
                "expected": j.expected,
                "kind": j.kind,
                "note": j.note,
                "sources": [],
                "locations": [],
                "_notes": [],
            }
        if j.source not in row["sources"]:
            row["sources"].append(j.source)
        row["locations"].append(f"{j.source}:{j.location}")
        row["_notes"].append(j.note)
    rows = []
    for row in merged.values():
        notes = row.pop("_notes")
        # The default-configuration verdict stands when any occurrence used the defaults.
        row["note"] = "" if "" in notes else " | ".join(dict.fromkeys(notes))
        rows.append(row)
    return rows


def command_collect(args: argparse.Namespace) -> int:
    overrides = {}
    for item in args.repo or []:
        name, _, path = item.partition("=")
        overrides[name] = Path(path)
    all_judgements: list[Judgement] = []
    report = []
    missing = []
    for source in SOURCES:
        path = find_repo(source.repo, Path(args.mirror_root), overrides)
        if path is None:
            missing.append(source.repo)
            continue
        reader = RepoReader(path)
        harvest = harvest_source(source, reader)
        all_judgements.extend(harvest.judgements)
        report.append((source, reader, harvest))
    if missing:
        print(f"missing (fetch github:<repo> first, or pass --repo NAME=PATH): {', '.join(missing)}", file=sys.stderr)
        if not args.allow_missing:
            return 2
    rows = deduplicate(all_judgements)
    out = Path(args.out)
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    distinct_by_source = Counter(s for row in rows for s in row["sources"])
    only_here = Counter(row["sources"][0] for row in rows if len(row["sources"]) == 1)
    print(f"{'source':<26} {'revision':<12} {'files':>5} {'cases':>6} {'distinct':>8} {'only here':>9} {'skipped':>7}")
    for source, reader, harvest in report:
        print(
            f"{source.repo:<26} {reader.revision[:10]:<12} {len(harvest.files):>5} {len(harvest.judgements):>6} "
            f"{distinct_by_source[source.repo]:>8} {only_here[source.repo]:>9} {sum(harvest.skipped.values()):>7}"
        )
    total_skipped = sum(sum(h.skipped.values()) for _, _, h in report)
    print(
        f"{'total':<26} {'':<12} {sum(len(h.files) for _, _, h in report):>5} {len(all_judgements):>6} "
        f"{len(rows):>8} {'':>9} {total_skipped:>7}"
    )
    kinds = Counter(row["kind"] for row in rows)
    noted = sum(1 for row in rows if row["note"])
    print(
        f"\n{len(rows)} distinct judgements ({sum(r['expected'] for r in rows)} equal, "
        f"{sum(not r['expected'] for r in rows)} not equal; {kinds['answer']} answers, "
        f"{kinds['response']} responses; {noted} with a non-default setting) -> {out}"
    )
    conflicts = defaultdict(set)
    for row in rows:
        conflicts[(row["gold"], row["prediction"], row["kind"])].add(row["expected"])
    contradictory = [key for key, values in conflicts.items() if len(values) > 1]
    if contradictory:
        print(f"{len(contradictory)} (gold, prediction) pairs are judged both ways (under different settings):")
        for gold, prediction, _ in contradictory:
            print(f"  gold={_short(gold)!s}  prediction={_short(prediction)!s}")
    print("\nskipped:")
    for source, _, harvest in report:
        for reason, count in sorted(harvest.skipped.items(), key=lambda item: -item[1]):
            print(f"  {source.repo:<26} {count:>4}  {reason}")
    return 0


# --------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(str(text).split())
    return json.dumps(flat if len(flat) <= width else flat[: width - 1] + "…", ensure_ascii=False)


def math_verify_verdict(gold: str, prediction: str, timeout: int) -> tuple[bool, str]:
    import math_verify

    try:
        parsed_gold = math_verify.parse(gold, parsing_timeout=timeout)
        parsed_prediction = math_verify.parse(prediction, parsing_timeout=timeout)
        verdict = bool(math_verify.verify(parsed_gold, parsed_prediction, timeout_seconds=timeout))
        return verdict, f"gold={_parsed_text(parsed_gold)} pred={_parsed_text(parsed_prediction)}"
    except BaseException as error:  # noqa: BLE001 - math-verify's timeouts raise odd things
        if isinstance(error, KeyboardInterrupt):
            raise
        return False, f"error: {type(error).__name__}: {error}"[:200]


def _parsed_text(parsed: list) -> str:
    return str(parsed[-1]) if parsed else "[]"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def environment() -> str:
    """Versions that move verdicts: the LaTeX parser stack, and our grader's git state."""
    from importlib import metadata

    parts = []
    for package in ("math-verify", "latex2sympy2_extended", "antlr4-python3-runtime", "sympy"):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package} absent")
    import lm_eval_passk

    root = Path(lm_eval_passk.__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "lm_eval_passk/grading"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        parts.append(f"grader from {root} at {head}{' + uncommitted changes' if dirty else ''}")
    except (subprocess.CalledProcessError, FileNotFoundError):
        parts.append(f"grader from {root} (not a git checkout)")
    return ", ".join(parts)


def in_dollars(text: str) -> str:
    """`text` as math-verify's documentation asks for a bare answer: inside `$...$`."""
    if any(mark in text for mark in ("$", "\\boxed", "\\(", "\\[")):
        return text
    return f"${text}$"


def command_measure(args: argparse.Namespace) -> int:
    from lm_eval_passk.grading import grade_many

    rows = [json.loads(line) for line in Path(args.judgements).open(encoding="utf-8") if line.strip()]
    if not rows:
        print("no judgements", file=sys.stderr)
        return 2
    setup = environment()  # before grading: the other column may be installed over mid-run
    responses = [
        "\\boxed{" + row["prediction"] + "}" if row["kind"] == "answer" else row["prediction"] for row in rows
    ]
    started = time.perf_counter()
    ours = grade_many("math500", responses, [row["gold"] for row in rows], grader=args.grader)
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    theirs = [math_verify_verdict(row["gold"], row["prediction"], args.timeout) for row in rows]
    theirs_seconds = time.perf_counter() - started
    # A second math-verify column: the answers of the peers that compare extracted answers
    # (NeMo-Skills, Qwen2.5-Math, hendrycks) wrapped in $...$, math-verify's documented input
    # form, so that its LaTeX extraction sees them. The strings that Math-Verify's and
    # lighteval's tests hand to their own parser stay as they are.
    extracting = {s.repo for s in SOURCES if s.extracts_prediction}

    def wrap(row: dict[str, Any]) -> bool:
        return row["kind"] == "answer" and not extracting & set(row["sources"])

    wrapped = [
        math_verify_verdict(in_dollars(row["gold"]), in_dollars(row["prediction"]), args.timeout)
        if wrap(row)
        else theirs[i]
        for i, row in enumerate(rows)
    ]
    verdicts = {
        "ours": [v.correct for v in ours],
        "mv": [v[0] for v in theirs],
        "mv$": [v[0] for v in wrapped],
    }

    def tally(indices: list[int]) -> Counter:
        counts: Counter = Counter()
        for i in indices:
            expected = rows[i]["expected"]
            counts["n"] += 1
            for name, verdict_list in verdicts.items():
                verdict = verdict_list[i]
                counts[f"{name}_{'agree' if verdict == expected else 'fp' if verdict else 'fn'}"] += 1
        return counts

    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        for source in row["sources"]:
            groups[source].append(i)
    print(
        f"grader={args.grader}; agreement with the peer's own verdict. FP: the peer says not equal, the "
        "grader says correct; FN: the reverse.\nmath-verify: verify(parse(gold), parse(prediction)), default "
        "configurations; mv($...$): the same with the answers of NeMo-Skills, Qwen2.5-Math and hendrycks "
        "wrapped in $...$ (math-verify's documented input form)."
    )
    print(
        f"{'':<30} {'judgements':>10} {'ours':>7} {'FP':>4} {'FN':>4} {'math-verify':>11} {'FP':>4} {'FN':>4} "
        f"{'mv($...$)':>10} {'FP':>4} {'FN':>4}"
    )

    def line(label: str, counts: Counter) -> None:
        n = counts["n"]
        cells = "".join(
            f" {_pct(counts[f'{name}_agree'], n):>{width}} {counts[f'{name}_fp']:>4} {counts[f'{name}_fn']:>4}"
            for name, width in (("ours", 7), ("mv", 11), ("mv$", 10))
        )
        print(f"{label:<30} {n:>10}{cells}")

    for source in [s.repo for s in SOURCES] + sorted(set(groups) - {s.repo for s in SOURCES}):
        if source in groups:
            line(source, tally(groups[source]))
    everything = list(range(len(rows)))
    line("total (distinct)", tally(everything))
    for label, keep in (
        ("  default settings only", lambda r: not r["note"]),
        ("  with a non-default setting", lambda r: bool(r["note"])),
        ("  kind=answer", lambda r: r["kind"] == "answer"),
        ("  kind=response", lambda r: r["kind"] == "response"),
        ("  peer: equal", lambda r: r["expected"]),
        ("  peer: not equal", lambda r: not r["expected"]),
    ):
        line(label, tally([i for i in everything if keep(rows[i])]))
    print(f"(ours {ours_seconds:.1f}s in one grade_many call; math-verify {theirs_seconds:.1f}s sequential)")
    print(f"environment: {setup}")
    if environment() != setup:
        print(f"WARNING: the environment changed during the run; now: {environment()}")

    disagreements = []
    for i, row in enumerate(rows):
        ours_wrong = ours[i].correct != row["expected"]
        theirs_wrong = theirs[i][0] != row["expected"]
        if ours_wrong or theirs_wrong:
            disagreements.append(
                {
                    "gold": row["gold"],
                    "prediction": row["prediction"],
                    "expected": row["expected"],
                    "kind": row["kind"],
                    "note": row["note"],
                    "ours": ours[i].to_dict(),
                    "ours_agrees": not ours_wrong,
                    "math_verify": theirs[i][0],
                    "math_verify_detail": theirs[i][1],
                    "math_verify_agrees": not theirs_wrong,
                    "math_verify_in_dollars": wrapped[i][0],
                    "source": row["source"],
                    "sources": row["sources"],
                    "location": row["location"],
                }
            )
    if args.out_disagreements:
        with Path(args.out_disagreements).open("w", encoding="utf-8") as handle:
            for item in disagreements:
                handle.write(json.dumps(item, ensure_ascii=False) + "\n")
        print(f"{len(disagreements)} disagreements (ours or math-verify's) -> {args.out_disagreements}")
    mine = [d for d in disagreements if not d["ours_agrees"]]
    print(
        f"\nour {len(mine)} disagreements (peer verdict, kind, our reason, does math-verify agree with the "
        "peer, our answer, gold, prediction):"
    )
    for d in mine:
        flag = "mv ok " if d["math_verify_agrees"] else "mv too"
        answer = _short(d["ours"]["answer"], 30) if d["ours"]["answer"] is not None else "-"
        print(
            f"  {'equal' if d['expected'] else 'differ':<6} {d['kind']:<8} {d['ours']['reason']:<11} {flag} "
            f"answer={answer} gold={_short(d['gold'], 50)} pred={_short(d['prediction'], 60)}"
            + (f"  [{d['note']}]" if d["note"] else "")
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    collect = commands.add_parser("collect", help="read the peers' test files into judgements (JSON lines)")
    collect.add_argument("--mirror-root", default="/work/.mirror", help="folder holding <owner>+<name>/repo mirrors")
    collect.add_argument("--repo", action="append", metavar="OWNER/NAME=PATH", help="a checkout or mirror of one peer")
    collect.add_argument("--out", required=True, help="JSON-lines file to write (keep it outside this repository)")
    collect.add_argument("--allow-missing", action="store_true", help="collect from the peers that are present")
    measure = commands.add_parser("measure", help="grade the judgements with our grader and math-verify")
    measure.add_argument("--judgements", required=True)
    measure.add_argument("--grader", default="default", help="our grading mode: default or paper")
    measure.add_argument("--timeout", type=int, default=5, help="math-verify parsing and verification timeout (s)")
    measure.add_argument("--out-disagreements", help="JSON-lines file for every disagreement")
    args = parser.parse_args(argv)
    return command_collect(args) if args.command == "collect" else command_measure(args)


if __name__ == "__main__":
    sys.exit(main())
