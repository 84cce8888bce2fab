"""Each extraction and equivalence rule of the math grader, in both modes."""

from __future__ import annotations

import time

import pytest

from lm_eval_passk.grading import grade, grade_many
from lm_eval_passk.grading.config import DEFAULT, PAPER
from lm_eval_passk.grading.extract import extract_answer


# --- extraction -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("task", "response", "expected"),
    [
        ("math500", "First \\boxed{1}, then \\boxed{\\frac{a}{b^{2}}}.", "\\frac{a}{b^{2}}"),
        ("math500", "So the answer is \\boxed 5.", "5"),
        ("math500", "Thus \\fbox{7}", "7"),
        ("math500", "<think>maybe \\boxed{3}</think> The answer is \\boxed{4}", "4"),
        ("math500", "<think>I think \\boxed{3} but I ran out of tok", None),
        ("math500", "Final Answer: The final answer is $12$. I hope it is correct.", "12"),
        ("math500", "Hence the answer is: 3/4.\nDone.", "3/4"),
        ("math500", "We conclude **42** is the answer", "42"),
        ("math500", "No conclusion, only numbers 3 and 4", "4"),  # the no-box fallback
        ("math500", "We tried 3 and then, running out of tokens, we", None),  # never finished
        ("math500", "Unfinished \\boxed{\\frac{1}{2", None),
        ("gsm8k", "She pays 5 + 7 = 12 dollars.\n#### 1,234", "1234"),
        ("gsm8k", "5 + 7 = 12 so Jan has 12 left", "12"),
        ("gsm8k", "It costs $1,500.00 in total", "1500.00"),
    ],
)
def test_default_extraction(task: str, response: str, expected: str | None) -> None:
    assert extract_answer(task, response, DEFAULT) == expected


def test_paper_extraction_falls_back_to_the_last_number_everywhere() -> None:
    response = "The computation gives 3 and then 4 more"
    assert extract_answer("math500", response, DEFAULT) is None  # not a finished sentence
    assert extract_answer("math500", response, PAPER) == "4"
    # The paper's pipeline does not skip <think> blocks.
    assert extract_answer("math500", "<think>\\boxed{3}", PAPER) == "3"


# --- equivalence, default mode ----------------------------------------------------------

def boxed(answer: str) -> str:
    return f"Reasoning... so the final answer is $\\boxed{{{answer}}}$."


@pytest.mark.parametrize(
    ("answer", "gold"),
    [
        ("5 \\text{ cm}", "5"),  # units
        ("12 \\text{ dollars}", "12"),
        ("30^\\circ", "30"),  # degrees
        ("30^{\\circ}", "30"),
        ("50\\%", "50"),  # percent sign
        ("\\$12.50", "12.5"),  # dollars
        ("1,000,000", "1000000"),  # thousands separators
        ("10{,}000", "10000"),
        ("\\text{Evelyn}", "Evelyn"),
        ("\\left( 3, 4 \\right)", "(3,4)"),
        ("\\dfrac{3}{4}", "\\frac34"),
        ("x = 7", "7"),
        ("0.5", "\\frac{1}{2}"),
        ("025", "25"),
        ("\\sqrt{8}", "2\\sqrt{2}"),
        ("x^2+2x+1", "(x+1)^2"),
        ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}"),
        ("3, 5", "5, 3"),  # a bare list of solutions is unordered
        ("x=-1, x=2", "2, -1"),
        ("[2, 5)", "[2,5)"),
        ("(-\\infty, 3]", "(-\\infty,3]"),
        ("(0, 1) \\cup (2, 3)", "(2,3)\\cup(0,1)"),
        ("\\begin{pmatrix} 1 & 0.5 \\\\ 0 & 1 \\end{pmatrix}", "\\begin{pmatrix}1&\\frac12\\\\0&1\\end{pmatrix}"),
    ],
)
def test_equivalent_answers_are_correct(answer: str, gold: str) -> None:
    verdict = grade("math500", boxed(answer), gold)
    assert verdict.correct, verdict


@pytest.mark.parametrize(
    ("answer", "gold", "why"),
    [
        ("711", "11", "a substring of the answer is not the answer"),
        ("\\frac{1}{2004!}", "\\frac{1}{2006!}", "both underflow a double, yet differ"),
        ("2", "2, 3", "a partial answer to a find-all question"),
        ("2, 3", "2, 3, 4", "a partial answer to a find-all question"),
        ("[2,5)", "(2,5)", "interval openness matters"),
        ("(2,5]", "(2,5)", "interval openness matters"),
        ("(1, 2)", "(2, 1)", "tuples are ordered"),
        ("0.333", "\\frac{1}{3}", "a rounded value is not the exact answer"),
        ("1.4142", "\\sqrt{2}", "a rounded value is not the exact answer"),
        ("x^2+1", "x^2+2", "different polynomials"),
        ("\\begin{pmatrix} 1 & 2 \\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", "shape"),
        ("9999", "10000", "1e-6 relative tolerance"),
        ("0.5", "50", "no percent variants by default"),
        ("x+1", "5", "an expression in x is not a number"),
    ],
)
def test_wrong_answers_are_wrong(answer: str, gold: str, why: str) -> None:
    verdict = grade("math500", boxed(answer), gold)
    assert not verdict.correct, why


# --- paper mode ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("answer", "gold", "default", "paper"),
    [
        ("9999", "10000", False, True),  # relative tolerance 1e-4
        ("0.5", "50", False, True),  # percent variants: gold / 100
        ("24500", "245", False, True),  # and gold * 100
        ("[2,5)", "(2,5)", False, True),  # bracket types ignored
        ("3, 5", "5, 3", True, False),  # lists compared in order
        ("\\frac{1}{2004!}", "\\frac{1}{2006!}", False, False),
    ],
)
def test_paper_mode_differs_where_documented(answer, gold, default, paper) -> None:
    assert grade("math500", boxed(answer), gold).correct is default
    assert grade("math500", boxed(answer), gold, grader="paper").correct is paper


# --- the API --------------------------------------------------------------------------------

def test_grade_many_accepts_a_benchmark_per_response() -> None:
    verdicts = grade_many(
        ["gsm8k", "math500", "aime24"], ["so 7 apples", "no box 7 but", "\\boxed{007}"], ["7", "7", "7"]
    )
    assert [v.correct for v in verdicts] == [True, False, True]
    assert [v.reason for v in verdicts] == ["match", "no_answer", "match"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: grade_many("math500", ["a", "b"], ["1"]), "same length"),
        (lambda: grade("mmlu", "a", "b"), "unknown benchmark 'mmlu'"),
        (lambda: grade("math500", "a", "b", grader="lenient"), "unknown grader 'lenient'"),
    ],
)
def test_bad_calls_are_rejected_clearly(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# --- hostile input --------------------------------------------------------------------------

PATHOLOGICAL = {
    "tower of exponents": "\\boxed{2^{2^{2^{2^{2^{2^{2}}}}}}}",
    "20,000-digit number": "\\boxed{" + "7" * 20000 + "}",
    "unbalanced brackets": "\\boxed{\\frac{1}{2" + "{(" * 5000,
    "megabyte response": "word " * 200_000 + "\\boxed{3}",
    "expansion bomb": "\\boxed{(x+1)^{100000} - (x+2)^{100000}}",
    "power bomb": "\\boxed{9^{9^{9^{9}}} + 1}",
}


def test_pathological_inputs_are_wrong_within_seconds_and_stall_nothing() -> None:
    normal = [f"\\boxed{{{i % 5}}}" for i in range(100)]
    responses = [*normal, *PATHOLOGICAL.values()]
    targets = [str(i % 5) for i in range(100)] + ["4"] * len(PATHOLOGICAL)
    start = time.monotonic()
    verdicts = grade_many("math500", responses, targets)
    elapsed = time.monotonic() - start
    assert all(v.correct for v in verdicts[:100])
    for name, verdict in zip(PATHOLOGICAL, verdicts[100:]):
        assert not verdict.correct, name
    # Hostile items run in parallel under the 5 s timeout: the batch stays bounded.
    assert elapsed < 30


def test_the_cli_offers_every_grader() -> None:
    from lm_eval_passk.cli import GRADER_NAMES
    from lm_eval_passk.grading.config import CONFIGS

    assert sorted(GRADER_NAMES) == sorted(CONFIGS)
