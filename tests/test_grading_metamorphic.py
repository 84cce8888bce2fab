"""Metamorphic test of the math grader over every real gold answer in ../shared/data.

Each gold is rewritten in ways that keep its value (shorthand or braced LaTeX, `\\dfrac`,
`a/b`, a terminating decimal, an `x =` label, thousands separators, a reordered list) and
in ways that change it (off by one, sign flip, times ten, reciprocal, interval openness,
swapped pair, a dropped list item). Every rewrite must be graded correct and every near
miss wrong. The transformations are written here from the gold's text alone, never from
the grader's output. Skipped when the shared data is absent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from fractions import Fraction

import pytest
from conftest import SHARED_DATA

from lm_eval_passk.grading import grade_many
from lm_eval_passk.grading.extract import last_boxed

needs_data = pytest.mark.skipif(
    not (SHARED_DATA / "math500").is_dir(), reason=f"benchmark data absent ({SHARED_DATA})"
)


def _rows(relative: str) -> list[dict]:
    with (SHARED_DATA / relative).open() as handle:
        return [json.loads(line) for line in handle if line.strip()]


def real_golds() -> list[tuple[str, str]]:
    """(where, gold) for MATH500, Minerva, AIME 2024 and 2025, AMC23 and OlympiadBench."""
    golds = [(f"math500:{r['unique_id']}", r["answer"]) for r in _rows("math500/test.jsonl")]
    golds += [(f"minerva:{r['idx']}", last_boxed(r["solution"])) for r in _rows("minerva_math/test.jsonl")]
    golds += [(f"aime24:{r['id']}", str(r["answer"])) for r in _rows("aime24/test.jsonl")]
    golds += [(f"aime25:{r['id']}", str(r["answer"])) for r in _rows("aime25/test.jsonl")]
    golds += [(f"amc23:{r['id']}", str(r["answer"])) for r in _rows("amc23/test.jsonl")]
    golds += [
        (f"olympiadbench:{r['id']}", ", ".join(r["final_answer"]))
        for r in _rows("olympiadbench/test.jsonl")
    ]
    return golds


# --- reading a gold's shape (the test's own parsing, independent of the grader) -------------

_INTEGER = re.compile(r"-?\d+")
_THOUSANDS = re.compile(r"-?\d{1,3}(?:,\d{3})+")
_DECIMAL = re.compile(r"-?\d+\.\d+")
_FRACTION = re.compile(r"(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}")
_SHORT_FRACTION = re.compile(r"(-?)\\frac(\d)(\d)")
_TEXT = re.compile(r"\\text|\\mathrm|\\mbox|(?<![\\a-zA-Z])[a-zA-Z]{3,}")


def _bare(gold: str) -> str:
    """The gold without math delimiters, `\\left`/`\\right` or surrounding space."""
    text = gold.strip()
    if text.startswith("$") and text.endswith("$") and text.count("$") == 2:
        text = text[1:-1]
    return text.replace("\\left", "").replace("\\right", "").strip()


def plain_value(gold: str) -> Fraction | None:
    """The value of a gold written as an integer, a decimal or `\\frac{a}{b}`."""
    text = _bare(gold).replace(" ", "").replace("\\!", "")
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if _INTEGER.fullmatch(text) or _DECIMAL.fullmatch(text):
        return Fraction(text)
    for pattern in (_FRACTION, _SHORT_FRACTION):
        match = pattern.fullmatch(text)
        if match and int(match.group(3)):
            return (-1 if match.group(1) else 1) * Fraction(int(match.group(2)), int(match.group(3)))
    return None


def _latex(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    return f"{sign}\\frac{{{abs(value.numerator)}}}{{{value.denominator}}}"


def _terminating_decimal(value: Fraction) -> str | None:
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1 or value.denominator == 1:
        return None
    digits = 0
    while (value * 10**digits).denominator != 1:
        digits += 1
    return f"{float(value):.{digits}f}"


def _top_level_commas(text: str) -> int:
    depth, commas = 0, 0
    for char in text:
        depth += char in "([{"
        depth -= char in ")]}"
        commas += char == "," and depth == 0
    return commas


def _is_scalar_expression(text: str) -> bool:
    """One mathematical value written in LaTeX: no list, relation, label, ± or words."""
    return bool(text) and not (
        _top_level_commas(text)
        or re.search(r"=|<|>|\\[lg]e|\\pm|\\mp|\\in\b|\\cup|\\approx|\\infty|\\{|matrix|:|;|\\quad|\\\\", text)
        or _TEXT.search(text)
        or "$" in text
    )


def _pair(text: str) -> tuple[str, str, str, str] | None:
    """(open, first, second, close) for a gold that is one bracketed pair `(a, b]`."""
    if len(text) < 5 or text[0] not in "([" or text[-1] not in ")]":
        return None
    inner = text[1:-1]
    depth = 0
    for char in inner:
        depth += char in "([{"
        depth -= char in ")]}"
        if depth < 0:
            return None
    if _top_level_commas(inner) != 1:
        return None
    first, second = _split_top_level(inner)
    return text[0], first.strip(), second.strip(), text[-1]


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    return [*parts, text[start:]]


def _to_shorthand(text: str) -> str:
    """`\\frac{3}{4}` as `\\frac34`; a letter needs a space after the command (`\\frac rV`)."""
    text = re.sub(r"\\frac\{(\d)\}\{(\w)\}", r"\\frac\1\2", text)
    text = re.sub(r"\\frac\{([a-zA-Z])\}\{(\w)\}", r"\\frac \1\2", text)
    text = re.sub(r"\\sqrt\{(\d)\}", r"\\sqrt\1", text)
    return re.sub(r"\\sqrt\{([a-zA-Z])\}", r"\\sqrt \1", text)


def _to_braced(text: str) -> str:
    text = re.sub(r"\\frac(\d)(\d)", r"\\frac{\1}{\2}", text)
    text = re.sub(r"\\frac\{([^{}]+)\}(\d)", r"\\frac{\1}{\2}", text)
    text = re.sub(r"\\frac(\d)\{", r"\\frac{\1}{", text)
    return re.sub(r"\\sqrt(\d)", r"\\sqrt{\1}", text)


# --- the transformations --------------------------------------------------------------------

def rewrites(gold: str) -> Iterator[tuple[str, str]]:
    """(name, rewritten answer) pairs with the gold's value."""
    bare = _bare(gold)
    value = plain_value(gold)
    pair = _pair(bare)
    if pair is not None and ("\\infty" in bare or "[" in pair[0] + pair[3] or "]" in pair[0] + pair[3]):
        yield "x in prefix", f"x \\in {bare}"
    elif not _TEXT.search(bare) and "=" not in bare and "\\in" not in bare:
        yield "x = prefix", f"x = {bare}"
    if "\\frac" in bare:
        yield "dfrac", bare.replace("\\frac", "\\dfrac")
    if _to_shorthand(bare) != bare:
        yield "shorthand", _to_shorthand(bare)
    if _to_braced(bare) != bare:
        yield "braced", _to_braced(bare)
    if value is not None:
        if value.denominator == 1:
            if abs(value) >= 1000:
                yield "thousands separators", f"{value.numerator:,}"
                yield "thousands separators {,}", f"{value.numerator:,}".replace(",", "{,}")
            yield "decimal point", f"{value.numerator}.0"
        else:
            sign = "-" if value < 0 else ""
            yield "a/b", f"{sign}{abs(value.numerator)}/{value.denominator}"
            yield "fraction", _latex(value)
            decimal = _terminating_decimal(value)
            if decimal is not None:
                yield "terminating decimal", decimal
    elif _is_scalar_expression(bare) is False and _pair(bare) is None:
        items = _split_top_level(bare)
        if len(items) > 1 and all(_is_scalar_expression(_bare(i)) for i in items):
            yield "reordered list", ", ".join(reversed(items))


def near_misses(gold: str) -> Iterator[tuple[str, str]]:
    """(name, answer) pairs that differ from the gold's value."""
    bare = _bare(gold)
    value = plain_value(gold)
    if value is not None:
        if value.denominator == 1:
            yield "off by one", str(value.numerator + 1)
            yield "off by minus one", str(value.numerator - 1)
        else:
            yield "off by one", _latex(value + 1)
        if value != 0:
            yield "sign flip", _latex(-value)
            yield "times ten", _latex(value * 10)
        if value not in (0, 1, -1):
            yield "reciprocal", _latex(1 / value)
        return
    if _is_scalar_expression(bare):
        yield "sign flip", f"-\\left({bare}\\right)"
        yield "times ten", f"10\\left({bare}\\right)"
        yield "reciprocal", f"\\frac{{1}}{{{bare}}}"
        return
    pair = _pair(bare)
    if pair is not None:
        opening, first, second, closing = pair
        if first.replace(" ", "") != second.replace(" ", ""):
            yield "swapped pair", f"{opening}{second}, {first}{closing}"
        flipped = "[" if opening == "(" else "("
        yield "openness flipped", f"{flipped}{first}, {second}{closing}"
        return
    items = _split_top_level(bare)
    if len(items) > 1 and all(_is_scalar_expression(_bare(i)) for i in items):
        yield "dropped item", ", ".join(items[:-1])


# --- the test -------------------------------------------------------------------------------

def _grade(cases: list[tuple[str, str, str, str]]) -> list[bool]:
    """Grade (where, gold, name, answer) cases with the answer boxed."""
    responses = [f"So the final answer is $\\boxed{{{answer}}}$." for _, _, _, answer in cases]
    return [v.correct for v in grade_many("math500", responses, [gold for _, gold, _, _ in cases])]


@needs_data
def test_every_real_gold_is_correct_against_itself() -> None:
    golds = real_golds()
    assert len(golds) == 500 + 272 + 30 + 30 + 40 + 675
    cases = [(where, gold, "itself", gold) for where, gold in golds]
    wrong = [case for case, ok in zip(cases, _grade(cases)) if not ok]
    assert wrong == []


@needs_data
def test_every_equivalent_rewrite_of_a_real_gold_is_correct() -> None:
    cases = [(w, g, name, a) for w, g in real_golds() for name, a in rewrites(g)]
    assert len(cases) > 1500  # every gold gets at least one rewrite; most several
    wrong = [case for case, ok in zip(cases, _grade(cases)) if not ok]
    assert wrong == []


@needs_data
def test_every_near_miss_of_a_real_gold_is_wrong() -> None:
    cases = [(w, g, name, a) for w, g in real_golds() for name, a in near_misses(g)]
    assert len(cases) > 3000
    accepted = [case for case, ok in zip(cases, _grade(cases)) if ok]
    assert accepted == []


@pytest.mark.parametrize(
    ("gold", "expected_rewrites", "expected_misses"),
    [
        ("\\frac{3}{4}", {"x = prefix", "dfrac", "shorthand", "a/b", "fraction", "terminating decimal"},
         {"off by one", "sign flip", "times ten", "reciprocal"}),
        ("11\\sqrt2", {"x = prefix", "braced"}, {"sign flip", "times ten", "reciprocal"}),
        ("(-\\infty, 0]", {"x in prefix"}, {"swapped pair", "openness flipped"}),
        ("12345", {"x = prefix", "thousands separators", "thousands separators {,}", "decimal point"},
         {"off by one", "off by minus one", "sign flip", "times ten", "reciprocal"}),
    ],
)
def test_the_transformations_apply_where_they_should(gold, expected_rewrites, expected_misses) -> None:
    assert {name for name, _ in rewrites(gold)} == expected_rewrites
    assert {name for name, _ in near_misses(gold)} == expected_misses
