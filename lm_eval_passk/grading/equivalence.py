"""Is an extracted answer equal to the gold answer?

Answers are first split into structure (bracketed tuples and intervals, bare lists, sets,
unions, matrices) and the scalars inside are compared one by one. `quick_equal` decides
without sympy whenever every scalar is a plain number or the texts already agree; the
rest goes to `equal`, which parses LaTeX through latex2sympy2_extended (math-verify's
parser) and compares with sympy. `equal` can be slow on hostile input: run it in the
grading pool (pool.py), which enforces the timeout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any, Union

from lm_eval_passk.grading.config import MathGraderConfig
from lm_eval_passk.grading.normalize import (
    RELATION,
    TRUNCATED,
    normalize,
    parse_number,
    split_top_level,
    strip_assignment,
)

_MATRIX_ENVIRONMENTS = ("pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "matrix")
_OPENERS, _CLOSERS = "([{", ")]}"
# `\left[\begin{array}{cc} ... \end{array}\right]`, once normalised, is a bracketed matrix.
_ARRAY_AS_MATRIX = re.compile(r"^\[\\begin\{array\}\{[lcr|]*\}")
# Longer scalars are not handed to sympy: no benchmark answer is this long, and parsing
# megabytes of LaTeX is how a grader stalls.
MAX_SYMBOLIC_CHARS = 500
# Beyond this an answer is compared as plain text only: normalising megabytes with
# regular expressions is slow, and no benchmark answer is a tenth as long.
MAX_ANSWER_CHARS = 5000


@dataclass(frozen=True)
class Bracketed:
    """A bracketed, ordered list: a tuple, point or interval, e.g. `[2,5)`."""

    opening: str
    closing: str
    items: tuple[Answer, ...]


@dataclass(frozen=True)
class Collection:
    """A bare comma list, a `\\{...\\}` set or a union: order carries no meaning."""

    items: tuple[Answer, ...]


@dataclass(frozen=True)
class Matrix:
    rows: tuple[tuple[Answer, ...], ...]
    source: str = field(default="", compare=False)  # its text, for sympy against `A + B`


Answer = Union[str, Bracketed, Collection, Matrix]


def _closes_at_end(text: str) -> bool:
    """True when the bracket opened by text[0] is closed by text[-1] and not before."""
    depth = 0
    for index, char in enumerate(text):
        if char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth -= 1
            if depth == 0:
                return index == len(text) - 1
    return False


def parse_structure(text: str) -> Answer:
    """Split a normalised answer into its structure; scalars stay as text."""
    text = _ARRAY_AS_MATRIX.sub(r"\\begin{bmatrix}", text).replace("\\end{array}]", "\\end{bmatrix}")
    for environment in _MATRIX_ENVIRONMENTS:
        begin, end = f"\\begin{{{environment}}}", f"\\end{{{environment}}}"
        if text.startswith(begin) and text.endswith(end):
            body = text[len(begin) : -len(end)].strip().rstrip("\\").strip()
            if "\\begin{" in body or "\\end{" in body:
                break  # `A + B` or `A B` of two matrices: an expression, for sympy
            rows = [row for row in body.split("\\\\") if row.strip()]
            return Matrix(tuple(tuple(cell.strip() for cell in row.split("&")) for row in rows), text)
    union = split_top_level(text, "\\cup")
    if len(union) > 1:
        return Collection(tuple(parse_structure(part) for part in union))
    if text.startswith("\\{") and text.endswith("\\}"):
        inner = text[2:-2]
        return Collection(_flatten(parse_structure(p) for p in split_top_level(inner, ",") if p))
    if text.startswith("{") and _closes_at_end(text) and len(split_top_level(text[1:-1], ",")) > 1:
        # `{1,2,3}`: a set written with TeX's grouping braces (which print nothing)
        return Collection(_flatten(parse_structure(p) for p in split_top_level(text[1:-1], ",") if p))
    if len(text) >= 2 and text[0] in "([" and text[-1] in ")]" and _closes_at_end(text):
        items = split_top_level(text[1:-1], ",")
        if len(items) == 1:
            return parse_structure(items[0])  # "(5)" is 5
        return Bracketed(text[0], text[-1], tuple(parse_structure(item) for item in items))
    items = split_top_level(text, ",")
    if len(items) > 1:  # "x=-1,x=2": each solution may carry its own "x="
        return Collection(_flatten(parse_structure(strip_assignment(item)) for item in items))
    plus_minus = split_top_level(text, "\\pm")
    if len(plus_minus) == 2:  # `1 \pm \sqrt{19}` is the two values 1 + √19 and 1 - √19
        left, right = plus_minus
        return Collection((f"{left}+{right}", f"{left}-{right}"))
    return text


def _flatten(items: Iterable[Answer]) -> tuple[Answer, ...]:
    """List items; a `\\pm` item counts as its two values (`\\{1 \\pm \\sqrt5, -2\\}` has three)."""
    flat: list[Answer] = []
    for item in items:
        if isinstance(item, Collection) and all(isinstance(i, str) for i in item.items):
            flat.extend(item.items)
        else:
            flat.append(item)
    return tuple(flat)


ScalarEqual = Callable[[str, str], Union[bool, None]]


def _all(results: list[bool | None]) -> bool | None:
    """Three-valued and: False wins, then undecided, then True."""
    if False in results:
        return False
    return None if None in results else True


def _match_unordered(left: tuple, right: tuple, compare: Callable) -> bool | None:
    if len(left) != len(right):
        return False
    remaining = list(right)
    undecided = False
    for item in left:
        outcomes = [compare(item, other) for other in remaining]
        if True in outcomes:
            remaining.pop(outcomes.index(True))
        elif None in outcomes:
            undecided = True
        else:
            return False
    return None if undecided else True


def structures_equal(
    answer: Answer, gold: Answer, config: MathGraderConfig, scalar_equal: ScalarEqual
) -> bool | None:
    """Compare two structures; None when some scalar comparison is undecided."""

    def compare(left: Answer, right: Answer) -> bool | None:
        return structures_equal(left, right, config, scalar_equal)

    if isinstance(answer, str) and isinstance(gold, str):
        return scalar_equal(answer, gold)
    if isinstance(answer, str) and isinstance(gold, Matrix) and "\\begin{" in answer:
        return scalar_equal(answer, gold.source)  # `A + B` against the matrix it sums to
    if isinstance(gold, str) and isinstance(answer, Matrix) and "\\begin{" in gold:
        return scalar_equal(answer.source, gold)
    if isinstance(answer, Matrix) and isinstance(gold, Matrix):
        if [len(row) for row in answer.rows] != [len(row) for row in gold.rows]:
            return False
        return _all([compare(a, g) for ra, rg in zip(answer.rows, gold.rows) for a, g in zip(ra, rg)])
    if isinstance(answer, Bracketed) and isinstance(gold, Bracketed):
        if len(answer.items) != len(gold.items):
            return False
        if config.bracket_types_matter and (answer.opening, answer.closing) != (
            gold.opening,
            gold.closing,
        ):
            return False
        return _all([compare(a, g) for a, g in zip(answer.items, gold.items)])
    if isinstance(answer, Collection) and isinstance(gold, Collection):
        if config.unordered_lists:
            return _match_unordered(answer.items, gold.items, compare)
        if len(answer.items) != len(gold.items):
            return False
        return _all([compare(a, g) for a, g in zip(answer.items, gold.items)])
    vector = _column_and_list(answer, gold) or _column_and_list(gold, answer)
    if vector is not None:  # a list `[0.5, 1]` against the column vector it writes out
        column, items = vector
        return _all([compare(a, g) for a, g in zip(column, items)])
    if not config.bracket_types_matter and {type(answer), type(gold)} == {Bracketed, Collection}:
        if len(answer.items) != len(gold.items):  # type: ignore[union-attr]
            return False
        return _all([compare(a, g) for a, g in zip(answer.items, gold.items)])  # type: ignore[union-attr]
    return False


def _column_and_list(matrix: Answer, items: Answer) -> tuple[list[Answer], tuple[Answer, ...]] | None:
    """The entries of a vector (a one-column or one-row matrix) and the items of a bracketed
    or bare list of as many, to compare in order; None when the two are not such a pair."""
    if not isinstance(matrix, Matrix) or not isinstance(items, (Bracketed, Collection)):
        return None
    if all(len(row) == 1 for row in matrix.rows):
        entries = [row[0] for row in matrix.rows]
    elif len(matrix.rows) == 1:
        entries = list(matrix.rows[0])
    else:
        return None
    return (entries, items.items) if len(entries) == len(items.items) >= 2 else None


def numbers_equal(answer: Fraction, gold: Fraction, config: MathGraderConfig) -> bool:
    """Plain numbers: two integers exactly (default mode), others within the mode's relative
    tolerance; paper mode also accepts gold/100 and gold*100."""
    if config.exact_integers and answer.denominator == 1 and gold.denominator == 1:
        return answer == gold
    candidates = [gold, gold / 100, gold * 100] if config.percent_variants else [gold]
    for candidate in candidates:
        if answer == candidate:
            return True
        scale = max(abs(answer), abs(candidate))
        if abs(answer - candidate) <= Fraction(config.relative_tolerance) * scale:
            return True
    return False


# A lone Latin letter outside any LaTeX command: a free variable, as in "x+1". Not e or
# i, which the LaTeX parser reads as Euler's number and the imaginary unit.
_FREE_LETTER = re.compile(r"(?<![\\a-zA-Z])[a-df-hj-zA-Z](?![a-zA-Z])")
# A word answer (three letters or more, nothing else), and a name made only of letters.
_WORD = re.compile(r"[A-Za-z]{3,}")
_LETTERS_ONLY = re.compile(r"[A-Za-z]+")
# Three numbers or more joined by colons: a ratio `1:2:3` or a clock time `20:34:01`.
_COLON_CHAIN = re.compile(r"\d+(?:\.\d+)?(?::\d+(?:\.\d+)?){2,}")
_COLON_PARTS = re.compile(r"\d+(?:\.\d+)?(?::\d+(?:\.\d+)?)+")
# A number written in a base: `4210_{5}`, `52_8`.
_BASE_NUMBER = re.compile(r"(\d+)_\{?(\d+)\}?")
# That, or a word outside any command (`Evelyn`, `even`): text, not a number.
_LETTERS = re.compile(r"(?<![\\a-zA-Z])(?:[a-zA-Z]{2,}|[a-df-hj-zA-Z])(?![a-zA-Z])")


def quick_scalar_equal(answer: str, gold: str, config: MathGraderConfig) -> bool | None:
    """Decide without sympy when both are plain numbers, or only one side has a free
    variable; else None."""
    if answer == gold:
        return True
    if TRUNCATED in answer or TRUNCATED in gold:
        return False  # a truncated decimal (`3.14159...`) states no exact value
    answer_number, gold_number = parse_number(answer), parse_number(gold)
    if answer_number is not None and gold_number is not None:
        return numbers_equal(answer_number, gold_number, config)
    if _COLON_CHAIN.fullmatch(answer) or _COLON_CHAIN.fullmatch(gold):
        return _colon_parts_equal(answer, gold)
    if bool(_LETTERS.search(answer)) != bool(_LETTERS.search(gold)):
        return False  # an expression in x or a word is no constant: `x+1` is not `\sqrt3/3`
    words = [bool(_WORD.fullmatch(text)) for text in (answer, gold)]
    if all(words):  # `Evelyn`, `east`, `odd`: answers in words
        return answer.lower() == gold.lower()
    if any(words) and not (_LETTERS_ONLY.fullmatch(answer) and _LETTERS_ONLY.fullmatch(gold)):
        return False  # a word is no formula (`xy` against `abc` is left to sympy)
    return _base_numbers_equal(answer, gold)


def _colon_parts_equal(answer: str, gold: str) -> bool:
    """Numbers joined by colons, one side three or more. With a zero part, a clock time:
    equal part by part, missing seconds zero (`20:34` is `20:34:00`, never `10:17:00`).
    Otherwise a ratio: equal when proportional (`2:4:6` is `1:2:3`); the LaTeX parser would
    read either as (2/4)/6."""
    if not (_COLON_PARTS.fullmatch(answer) and _COLON_PARTS.fullmatch(gold)):
        return False
    left, right = ([Fraction(part) for part in text.split(":")] for text in (answer, gold))
    if 0 in left or 0 in right:
        width = max(len(left), len(right))
        return left + [Fraction(0)] * (width - len(left)) == right + [Fraction(0)] * (width - len(right))
    return len(left) == len(right) and all(a * right[0] == g * left[0] for a, g in zip(left, right))


def _base_numbers_equal(answer: str, gold: str) -> bool | None:
    """`4210_{5}` answers a question that asks for base 5: equal digits, and the same base
    when both give one (`4210` alone reads the same). None when neither is such a number."""
    matches = [_BASE_NUMBER.fullmatch(text) for text in (answer, gold)]
    if not any(matches):
        return None
    (answer_digits, answer_base), (gold_digits, gold_base) = (
        (match.group(1), match.group(2)) if match else (text, None)
        for match, text in zip(matches, (answer, gold))
    )
    same_base = answer_base is None or gold_base is None or answer_base == gold_base
    return answer_digits == gold_digits and same_base


def normalized_pair(answer: str, gold: str) -> tuple[str, str]:
    """Both normalised; an answer `A = B` against a gold that is no equation is its value
    B ("the total is $12 + 5 = 17$" answers 17)."""
    normal_answer, normal_gold = normalize(answer), normalize(gold)
    sides = split_top_level(normal_answer, "=")
    single = len(split_top_level(normal_answer, ",")) == 1  # not the list `1, x = 2`
    if single and len(sides) == 2 and sides[1] and len(split_top_level(normal_gold, "=")) == 1:
        normal_answer = sides[1]
    return normal_answer, normal_gold


def quick_equal(answer: str, gold: str, config: MathGraderConfig) -> bool | None:
    """The cheap part of `equal`: True/False when decided without sympy, else None."""
    if len(answer) > MAX_ANSWER_CHARS:
        return answer.strip() == gold.strip()
    normal_answer, normal_gold = normalized_pair(answer, gold)
    if normal_answer == normal_gold:
        return True
    if not normal_answer:
        return False
    if RELATION.search(normal_answer) or RELATION.search(normal_gold):
        return None  # compared as sets of reals, by sympy
    return structures_equal(
        parse_structure(normal_answer),
        parse_structure(normal_gold),
        config,
        lambda a, g: quick_scalar_equal(a, g, config),
    )


# A bare `\gamma` or `\Gamma` is a syntax error for the parsers latex2sympy2_extended ships
# for antlr 4.9.3 and 4.11, and Euler's constant for 4.13.2 (docs/GRADING.md, "LaTeX parser
# versions"); `\gamma + 1` even reads as Gamma(+1). Parsed as a stand-in symbol, then
# renamed, they are the variables γ and Γ under every runtime. `\Gamma(5)` stays a function.
_GREEK_STAND_INS = {"gamma": "\\xi_{90901}", "Gamma": "\\xi_{90902}"}
# A number (not an exponent or subscript: `\sec^2(y)`) right before a parenthesis.
_NUMBER_BEFORE_PARENTHESIS = re.compile(r"(?<![\w^_.])(\d+(?:\.\d+)?)\s*\(")


class ParseError(ValueError):
    """An answer latex2sympy2_extended cannot read."""


@lru_cache(maxsize=8192)
def to_sympy(text: str) -> Any:
    """Parse one normalised scalar; cached, so each gold answer is parsed once per process."""
    from latex2sympy2_extended import latex2sympy

    if len(text) > MAX_SYMBOLIC_CHARS:
        raise ParseError(f"answer longer than {MAX_SYMBOLIC_CHARS} characters")
    text = _NUMBER_BEFORE_PARENTHESIS.sub(r"\1\\cdot(", text)  # the parser reads 5(4) as 9
    for name, placeholder in _GREEK_STAND_INS.items():
        text = re.sub(rf"\\{name}(?![a-zA-Z])(?!\s*\()", lambda _: placeholder, text)
    try:
        expression = latex2sympy(text)
    except Exception as error:  # the parser raises many types; all mean "unreadable"
        raise ParseError(f"{type(error).__name__}: {error}") from None
    if any(placeholder in text for placeholder in _GREEK_STAND_INS.values()):
        import sympy

        expression = expression.subs(
            {sympy.Symbol(p[1:]): sympy.Symbol(name) for name, p in _GREEK_STAND_INS.items()}
        )
    return _imaginary_unit(expression)


def _imaginary_unit(expression: Any) -> Any:
    """The parser reads `i` as a variable; in these benchmarks' answers it is the imaginary
    unit (`i(2-i)` is `1+2i`, `(1+i)^2` is `2i`)."""
    import sympy

    if not isinstance(expression, sympy.Basic):
        return expression
    units = [symbol for symbol in expression.free_symbols if getattr(symbol, "name", None) == "i"]
    return expression.subs({symbol: sympy.I for symbol in units}) if units else expression


def _as_difference(expression: Any) -> Any:
    """lhs - rhs for an equation, the expression itself otherwise."""
    import sympy

    if isinstance(expression, sympy.Equality):
        return expression.lhs - expression.rhs
    return expression


def _is_undefined(expression: Any) -> bool:
    """Complex infinity or NaN: what `1:00` or `0/0` parse to. Two of them are not equal."""
    import sympy

    return isinstance(expression, sympy.Basic) and expression.has(sympy.zoo, sympy.nan)


def sympy_equal(answer: Any, gold: Any, relative_tolerance: float) -> bool:
    """Exact symbolic equality; constants compare at 30 significant digits within the
    tolerance. Equations are equal when one side's difference is a nonzero multiple of the
    other's (`x + y = 1` is `2x + 2y = 2`)."""
    import sympy

    if _is_undefined(answer) or _is_undefined(gold):
        return False
    if answer == gold:
        return True
    matrices = [_explicit_matrix(side) for side in (answer, gold)]
    if matrices != [None, None]:
        if None in matrices or matrices[0].shape != matrices[1].shape:
            return False
        return all(sympy_equal(a, g, relative_tolerance) for a, g in zip(*matrices))
    if isinstance(answer, sympy.Equality) != isinstance(gold, sympy.Equality):
        return False
    if isinstance(answer, sympy.Equality):
        left, right = _as_difference(answer), _as_difference(gold)
        if sympy.simplify(left - right) == 0 or sympy.simplify(left + right) == 0:
            return True
        ratio = sympy.simplify(left / right) if right != 0 else None
        return bool(ratio is not None and ratio.is_number and ratio != 0 and ratio.is_finite)
    if not isinstance(answer, sympy.Expr) or not isinstance(gold, sympy.Expr):
        return False
    difference = answer - gold
    if not difference.free_symbols:
        # Evaluate instead of simplifying: exact enough (1/2004! vs 1/2006! differ in the
        # first digit, where double-precision graders see two zeros) and never expands.
        values = [sympy.N(value, 30) for value in (difference, answer, gold)]
        if all(value.is_number and value.is_finite for value in values):
            scale = max(abs(values[1]), abs(values[2]))
            return bool(abs(values[0]) <= relative_tolerance * scale)
    if _differ_somewhere(answer, gold):
        return False
    return sympy.simplify(difference) == 0


def _explicit_matrix(expression: Any) -> Any:
    """The entries of a matrix or of a matrix expression of explicit matrices (a sum, a
    product); None for anything else."""
    import sympy

    if isinstance(expression, sympy.MatrixBase):
        return expression
    if isinstance(expression, sympy.MatrixExpr):
        try:
            value = expression.doit()
        except (ValueError, TypeError):  # a product of mismatched shapes (ShapeError)
            return None
        return value if isinstance(value, sympy.MatrixBase) else None
    return None


def _differ_somewhere(answer: Any, gold: Any) -> bool:
    """True when the two expressions clearly differ at a few rational points: most wrong
    answers end here, before `simplify`, which can take a second."""
    import sympy

    symbols = sorted(answer.free_symbols | gold.free_symbols, key=str)
    for point in ((Fraction(7, 3), Fraction(5, 11)), (Fraction(-2, 7), Fraction(13, 5))):
        values = {symbol: sympy.Rational(point[i % 2].numerator, point[i % 2].denominator + i)
                  for i, symbol in enumerate(symbols)}
        try:
            left, right = (sympy.N(side.subs(values), 30) for side in (answer, gold))
        except Exception:  # a value the expressions cannot take: no evidence either way
            continue
        if not all(v.is_number and v.is_finite for v in (left, right)):
            continue
        # Decimals in an answer carry double precision (about 1e-16): allow for that.
        if abs(left - right) > 1e-12 * max(1, abs(left), abs(right)):
            return True
    return False


# One function value in a relation, `0 < f(x) < 1`: its range, a set of reals like any
# other variable's (`(0,1)`).
_FUNCTION_VALUE = re.compile(r"(?<![\\a-zA-Z])[a-zA-Z]\(\s*[a-zA-Z]\s*\)")


def _real_set(text: str) -> Any:
    """The set of reals a normalised answer describes, or None: an order relation in one
    variable (`-2 \\le x \\le 7`, `5 \\ge x`, `x<2 \\lor x>3`), an interval or a union of
    intervals."""
    import sympy

    if RELATION.search(text):
        text = _FUNCTION_VALUE.sub(" t_{0} ", text) if len(_FUNCTION_VALUE.findall(text)) == 1 else text
        union = []
        for alternative in re.split(r"\\lor|,", text):
            parts = [to_sympy(part) for part in alternative.split("\\land") if part]
            relation = sympy.And(*parts) if len(parts) > 1 else parts[0] if parts else None
            if not isinstance(relation, (sympy.core.relational.Relational, sympy.And, sympy.Or)):
                return None
            if len(relation.free_symbols) != 1:
                return None
            union.append(relation.as_set())
        return sympy.Union(*union) if union else None
    structure = parse_structure(text)
    pieces = structure.items if isinstance(structure, Collection) else (structure,)
    intervals = []
    for piece in pieces:
        if not isinstance(piece, Bracketed) or len(piece.items) != 2:
            return None
        if not all(isinstance(end, str) for end in piece.items):
            return None
        low, high = (to_sympy(end) for end in piece.items)  # type: ignore[arg-type]
        intervals.append(sympy.Interval(low, high, piece.opening == "(", piece.closing == ")"))
    return sympy.Union(*intervals)


def real_sets_equal(answer: str, gold: str) -> bool:
    """An order relation against a relation or an interval: equal as sets of reals."""
    answer_set, gold_set = _real_set(answer), _real_set(gold)
    if answer_set is None or gold_set is None:
        return False
    return bool(answer_set == gold_set or answer_set.symmetric_difference(gold_set).is_empty)


def full_scalar_equal(answer: str, gold: str, config: MathGraderConfig) -> bool:
    quick = quick_scalar_equal(answer, gold, config)
    if quick is not None:
        return quick
    return sympy_equal(to_sympy(answer), to_sympy(gold), config.relative_tolerance)


def equal(answer: str, gold: str, config: MathGraderConfig) -> bool:
    """Full comparison, sympy included; may raise ParseError. Run it under a timeout."""
    quick = quick_equal(answer, gold, config)
    if quick is not None:
        return quick
    normal_answer, normal_gold = normalized_pair(answer, gold)
    if RELATION.search(normal_answer) or RELATION.search(normal_gold):
        return real_sets_equal(normal_answer, normal_gold)
    result = structures_equal(
        parse_structure(normal_answer),
        parse_structure(normal_gold),
        config,
        lambda a, g: full_scalar_equal(a, g, config),
    )
    if not result and _is_equation(gold) and _is_equation(answer):
        # `y = -x/2 + 3/4` lost its label above; as equations it is `2x + 4y - 3 = 0`.
        return equations_equal(normalize(answer, strip_labels=False), normalize(gold, strip_labels=False))
    return bool(result)


def _is_equation(text: str) -> bool:
    return len(split_top_level(normalize(text, strip_labels=False), "=")) == 2


def equations_equal(answer: str, gold: str) -> bool:
    """Two equations with the same solutions: one's difference of sides a nonzero multiple
    of the other's."""
    import sympy

    answer_equation, gold_equation = to_sympy(answer), to_sympy(gold)
    if not isinstance(answer_equation, sympy.Equality) or not isinstance(gold_equation, sympy.Equality):
        return False
    return sympy_equal(answer_equation, gold_equation, 0.0)


def equal_in_mode(answer: str, gold: str, mode: str) -> bool:
    """`equal` with the mode given by name: the form the grading pool's workers call."""
    from lm_eval_passk.grading.config import grader_config

    return equal(answer, gold, grader_config(mode))


def warm_up() -> None:
    """Import sympy and the LaTeX parser now (pool workers call this before their first job)."""
    to_sympy("\\frac{1}{2}")
