"""Specification of the math grader, rule by rule: for each rule, answers it must accept
and near answers it must reject (docs/GRADING.md). Cases written for this project."""

from __future__ import annotations

import pytest

from lm_eval_passk.grading import grade
from lm_eval_passk.grading.config import DEFAULT, PAPER, STRICT
from lm_eval_passk.grading.extract import extract_answer


def boxed(answer: str) -> str:
    return f"Working omitted. Hence the result is $\\boxed{{{answer}}}$."


def correct(answer: str, gold: str, grader: str = "default") -> bool:
    return grade("math500", boxed(answer), gold, grader=grader).correct


# --- LaTeX shorthand: TeX reads one token per argument ------------------------------------

@pytest.mark.parametrize(
    ("answer", "gold"),
    [
        ("11\\sqrt{2}", "11\\sqrt2"),
        ("\\frac{9}{19}", "\\frac9{19}"),
        ("9/19", "\\frac9{19}"),
        ("\\frac{270}{7}", "\\frac{270}7\\text{ degrees}"),
        ("\\frac{9\\pi}{4}", "\\frac94\\pi"),
        ("\\frac{3i}{4}", "\\frac34i"),
        ("\\frac{\\pi}{6}", "\\frac\\pi6"),
        ("\\sqrt[3]{5}", "\\sqrt[3]5"),
        ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}2"),
        ("\\binom{7}{3}", "\\binom73"),
    ],
)
def test_shorthand_reads_as_tex_does(answer: str, gold: str) -> None:
    assert correct(answer, gold)
    assert correct(gold, answer)  # the response may be the one in shorthand


@pytest.mark.parametrize(
    ("answer", "gold"),
    [
        ("\\frac{9}{14}", "\\frac9{19}"),
        ("\\frac{94}{1}", "\\frac94"),  # \frac94 is 9/4, not 94
        ("\\sqrt{32}", "\\sqrt32"),  # \sqrt32 is 2\sqrt3
        ("12\\sqrt{2}", "11\\sqrt2"),
    ],
)
def test_shorthand_is_not_read_loosely(answer: str, gold: str) -> None:
    assert not correct(answer, gold)


# --- numbers: integers exact, everything else within 1e-9 ----------------------------------

@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("3986730", "3986729", False),  # large integers off by one
        ("3986729", "3986729.0", True),
        ("1000000001", "1000000000", False),
        ("-7", "7", False),
        ("3.14159", "\\pi", False),  # a rounded constant is not the constant
        ("3.141592653589793", "\\pi", True),  # a double's printing of it is
        ("0.30000000000000004", "0.3", True),
        ("0.3333333", "\\frac{1}{3}", False),
        ("1.4142135623730951", "\\sqrt{2}", True),
        ("2.000001", "2", False),
    ],
)
def test_numeric_tolerance(answer: str, gold: str, expected: bool) -> None:
    assert correct(answer, gold) is expected


def test_the_paper_mode_keeps_its_documented_tolerance() -> None:
    assert correct("3986730", "3986729", grader="paper")  # within 1e-4, by the paper's rules
    assert correct("3.14159", "\\pi", grader="paper")


# --- thousands separators and lists ----------------------------------------------------------

@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("32,349", "32349", True),
        ("32{,}349", "32349", True),
        ("32,\\!349", "32349", True),
        ("32, 349", "32349", False),  # a list of two numbers
        ("1,000,000", "10^6", True),
        ("1,00", "100", False),  # not groups of three
    ],
)
def test_thousands_separators(answer: str, gold: str, expected: bool) -> None:
    assert correct(answer, gold) is expected


# --- undefined values are never equal ----------------------------------------------------------

@pytest.mark.parametrize(("answer", "gold"), [("1:00", "12:00"), ("\\frac{1}{0}", "\\frac{2}{0}"), ("0/0", "5")])
def test_undefined_values_are_not_equal(answer: str, gold: str) -> None:
    assert not correct(answer, gold)


def test_a_time_equals_itself() -> None:
    assert correct("4:30", "4:30")


# --- labels on the left of `=` ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("answer", "gold"),
    [
        ("(p,q)=(3,2)", "(3,2)"),
        ("f(x)=2x+1", "2x+1"),
        ("|AB| = 5", "5"),
        ("m\\angle ABC = 40^\\circ", "40"),
        ("a_{10} = 512", "512"),
        ("\\theta = \\frac{\\pi}{3}", "\\frac{\\pi}{3}"),
        ("V_1 : V_2 = 11:21", "11:21"),
        ("\\frac{BP}{PC} = \\frac{2}{3}", "\\frac23"),
        ("x = 5+5+1 = 11", "11"),  # a chain: the final value
        ("x = \\frac{1}{3} \\approx 0.33", "\\frac{1}{3}"),  # the exact side, not the rounding
        ("y = 2x + 3", "2x - y + 3 = 0"),  # an equation compared as an equation
        ("x + y - z + 2 = 0", "2x + 2y - 2z + 4 = 0"),
        ("12 + 5 = 17", "17"),  # a computation ending in its value
    ],
)
def test_labels_and_chains(answer: str, gold: str) -> None:
    assert correct(answer, gold)


@pytest.mark.parametrize(
    ("answer", "gold"),
    [
        ("f(x) = 2x + 2", "2x+1"),
        ("2x = 10", "10x"),
        ("x + y = 5", "x + y = 6"),
        ("y = 2x + 3", "2x + y + 3 = 0"),
        ("x = \\frac{1}{3} \\approx 0.33", "0.33"),
        ("x + y = 5", "6"),  # the value of an equation is its right side
        ("x^2 + y^2 = 1", "x^2 + y^2 = 4"),
    ],
)
def test_labels_do_not_hide_a_wrong_value(answer: str, gold: str) -> None:
    assert not correct(answer, gold)


# --- relations and intervals: sets of reals ------------------------------------------------------

@pytest.mark.parametrize(
    ("answer", "gold"),
    [
        ("5 \\geq x", "x \\leq 5"),
        ("x \\le 5", "(-\\infty, 5]"),
        ("-2 \\le x \\le 7", "x \\in [-2,7]"),
        ("2x \\le 10", "x \\le 5"),
        ("x < 2 \\text{ or } x > 3", "(-\\infty,2) \\cup (3,\\infty)"),
        ("x > 1 \\text{ and } x < 3", "(1,3)"),
        ("x >= 5", "x \\geq 5"),
    ],
)
def test_relations_equal_as_sets(answer: str, gold: str) -> None:
    assert correct(answer, gold)


@pytest.mark.parametrize(
    ("answer", "gold"),
    [
        ("x < 5", "x \\leq 5"),
        ("x \\ge 5", "x \\leq 5"),
        ("-2 < x \\le 7", "[-2,7]"),
        ("x < 2 \\text{ and } x > 3", "(-\\infty,2) \\cup (3,\\infty)"),
        ("x \\le 5", "5"),
    ],
)
def test_relations_differ_as_sets(answer: str, gold: str) -> None:
    assert not correct(answer, gold)


# --- lists: joined by words, several boxes, ±, braces -------------------------------------------

@pytest.mark.parametrize(
    ("response", "gold", "expected"),
    [
        (boxed("1 \\text{ and } 2"), "1, 2", True),
        (boxed("1, 2, and 3"), "3, 2, 1", True),
        (boxed("x = 1 \\text{ or } x = 2"), "1, 2", True),
        ("So $x = \\boxed{1}$ or $x = \\boxed{2}$.", "1, 2", True),
        ("The solutions are \\boxed{1}, \\boxed{2}.", "1, 2", True),
        ("The solutions are \\boxed{1}, \\boxed{2}.", "2", False),  # two answers for one
        ("First \\boxed{1}, then after more work \\boxed{2}.", "2", True),  # not a list
        (boxed("1 \\pm \\sqrt{5}"), "1 + \\sqrt5, 1 - \\sqrt5", True),
        (boxed("1 + \\sqrt{5}"), "1 \\pm \\sqrt5", False),
        (boxed("\\{1, 2, 3\\}"), "{1,2,3}", True),
        (boxed("1 \\text{ and } 4"), "1, 2", False),
    ],
)
def test_lists(response: str, gold: str, expected: bool) -> None:
    assert grade("math500", response, gold).correct is expected


# --- units, percent, text wrappers ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("28 percent", "28", True),
        ("28 \\text{ percent}", "28\\%", True),
        ("28\\%", "28", True),
        ("5\\textnormal{ miles}", "5", True),
        ("17 \\text{ apples}", "17", True),
        ("\\textrm{Evelyn}", "\\text{Evelyn}", True),
        ("29 percent", "28", False),
        ("5\\textnormal{ miles}", "6", False),
        ("\\text{Navin}", "\\text{Evelyn}", False),
    ],
)
def test_units_and_text(answer: str, gold: str, expected: bool) -> None:
    assert correct(answer, gold) is expected


# --- extraction: which text is the answer ------------------------------------------------------------

@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("Final Answer: The largest $n$ is 34.", "34"),
        ("Final Answer: The final answer is $12$. I hope it is correct.", "12"),
        ("The answer is: Haley has 99 marbles.", "99"),
        ("We get \\boxed{255} first. Then, fixing an error, the final answer is $10,455$.", "10,455"),
        ("So the answer is \\boxed{7}. The answer is correct because 7 works.", "7"),
        ("Thus the answer is:\n\\[\n6\n\\]", "6"),
        ("**Conclusion**: Haley has 99 marbles.", "99"),
        ("**Step 1: add.** 3 + 4 = 7\n\n**Calculate the total**\n\nThe total is 7.", "7"),
        ("We conclude **42** is the answer", "42"),
    ],
)
def test_extraction(response: str, expected: str) -> None:
    assert extract_answer("math500", response, DEFAULT) == expected


# --- no box: the last math of a finished response (default) or nothing (strict) --------------------

@pytest.mark.parametrize(
    ("response", "default", "strict"),
    [
        ("Adding the terms gives \\(\\frac{1}{9}\\).", "\\frac{1}{9}", None),
        ("Therefore $x \\geq 5$ is the solution.", "x \\geq 5", None),
        ("So the total is $12 + 5 = 17$.", "12 + 5 = 17", None),
        ("We found $x = 3$ and the count is 12.", "12", None),
        ("The probability is 2/3. <|im_start|>user", "2/3", None),
        ("It costs 1,000.99 m²", "1000.99", None),
        ("First we find $x = 3$, then we", None, None),  # cut off mid-sentence: no answer
        ("We start with \\boxed{\\frac{1}{2", None, None),  # a box cut off: no answer
    ],
)
def test_the_no_box_fallback(response: str, default: str | None, strict: str | None) -> None:
    assert extract_answer("math500", response, DEFAULT) == default
    assert extract_answer("math500", response, STRICT) == strict


def test_a_worked_solution_as_gold_is_read_for_its_box() -> None:
    gold = "Since $25 < 30 < 36$, we get $\\boxed{13}$."
    assert grade("math500", boxed("13"), gold).correct
    assert not grade("math500", boxed("25"), gold).correct


def test_paper_mode_parses_shorthand_too() -> None:
    assert correct("\\frac{9}{19}", "\\frac9{19}", grader="paper")
    assert extract_answer("math500", "no box, the count is 4 more", PAPER) == "4"


# --- what the LaTeX parser would misread ------------------------------------------------------

@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("0.\\overline{3}", "\\frac{1}{3}", True),  # a repeating decimal is exact
        ("1.2\\overline{45}", "\\frac{137}{110}", True),
        ("0.\\overline{3}", "0.33", False),
        ("5(4)", "20", True),  # latex2sympy alone reads 5(4) as 9
        ("5(4)", "9", False),
        # A bare \gamma / \Gamma is a variable under every antlr runtime (4.13.2's parser
        # alone reads Euler's constant; 4.11's cannot parse it at all).
        ("\\gamma^2", "\\gamma \\cdot \\gamma", True),
        ("\\frac{\\Gamma}{2}", "0.5\\Gamma", True),
        ("\\gamma + 1", "1", False),
        ("\\Gamma", "\\gamma", False),
        ("\\gamma", "0.5772156649", False),
        ("\\Gamma(5)", "24", True),  # with an argument: the Gamma function
    ],
)
def test_parser_misreadings_are_avoided(answer: str, gold: str, expected: bool) -> None:
    assert correct(answer, gold) is expected


def test_an_exponent_before_a_parenthesis_is_no_product() -> None:
    assert correct("\\sec^2(y)", "\\tan^2(y)+1")
    assert correct("2^3(1+1)", "16")


@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("4210_5", "4210_{5}", True),  # a number in the base the question asked for
        ("4210", "4210_{5}", True),
        ("555", "4210_{5}", False),  # its value in base ten is not what was asked
        ("4210_6", "4210_{5}", False),
        ("\\text{evelyn}", "\\text{Evelyn}", True),  # answers in words
        ("\\text{east}", "\\text{west}", False),
        ("x+1", "\\text{Evelyn}", False),
    ],
)
def test_bases_and_words(answer: str, gold: str, expected: bool) -> None:
    assert correct(answer, gold) is expected


# --- issue 22: false positives closed as classes ---------------------------------------------
# A digit inside a word is no number: with no answer stated, `AZYUK2A` answers nothing.

@pytest.mark.parametrize(
    ("task", "response", "gold", "expected"),
    [
        ("math500", "AZYUK2A", "2", False),
        ("math500", "The access code printed on the card is AZYUK2A", "2", False),
        ("gsm8k", "The molecule is H2O", "2", False),
        ("gsm8k", "Version X11", "11", False),
        ("gsm8k", "Shipment 25x", "25", False),  # nor the front of a longer number-word
        ("gsm8k", "Shipment 2.5x", "5", False),
        ("gsm8k", "So the total length is 10cm", "10", True),  # a unit after a number
        ("gsm8k", "She finished 5th", "5", True),  # an ordinal ending
        ("gsm8k", "The current is 2A", "2", True),
        ("math500", "so the numbers are 1, 2, 3", "3", True),
    ],
)
def test_a_digit_inside_a_word_is_no_answer(task: str, response: str, gold: str, expected: bool) -> None:
    assert grade(task, response, gold).correct is expected


# `\left` and `\right` are stripped only as sizing commands, not inside other symbols.

@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("\\leftarrow", "\\rightarrow", False),
        ("\\Leftarrow", "\\Rightarrow", False),
        ("\\leftrightarrow", "\\rightarrow", False),
        ("\\Leftrightarrow", "\\Rightarrow", False),
        ("\\rightharpoonup", "\\leftharpoonup", False),
        ("\\leftthreetimes", "\\rightthreetimes", False),
        ("\\longleftarrow", "\\longrightarrow", False),
        ("\\rightarrow", "\\rightarrow", True),
        ("\\to", "\\rightarrow", True),  # TeX defines \to as \rightarrow
        ("\\gets", "\\leftarrow", True),
        ("\\left(1, 2\\right)", "(1,2)", True),  # sizing still goes
        ("\\left[ 0, 1 \\right)", "[0,1)", True),
    ],
)
def test_left_and_right_inside_other_commands(answer: str, gold: str, expected: bool) -> None:
    assert correct(answer, gold) is expected


# An ellipsis after decimal digits: a repeating decimal when its period is visible (one
# digit three times, or a block twice), else a truncated decimal with no exact value.

@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("0.999...", "0.999", False),
        ("0.999\\ldots", "0.999", False),
        ("0.999\\cdots", "0.999", False),
        ("0.999...", "1", True),  # 0.999... repeating is 1
        ("0.\\overline{9}", "1", True),
        ("0.333...", "\\frac{1}{3}", True),
        ("0.333...", "0.333", False),
        ("-0.333...", "-\\frac13", True),
        ("0.1666…", "\\frac16", True),
        ("0.142857142857...", "\\frac17", True),
        ("0.12121212...", "\\frac{4}{33}", True),
        ("3.333\\ldots", "\\frac{10}{3}", True),
        ("0.33...", "\\frac13", False),  # one digit twice: no visible period
        ("3.14159...", "3.14159", False),  # truncated: not the decimal it starts with
        ("3.14159...", "\\pi", False),
        ("0.\\dot{3}", "\\frac13", True),  # dots over the period
        ("0.1\\dot{6}", "\\frac16", True),
        ("0.\\dot{1}4285\\dot{7}", "\\frac17", True),
        ("0.\\dot{3}", "0.3", False),
    ],
)
def test_ellipsis_decimals(answer: str, gold: str, expected: bool) -> None:
    assert correct(answer, gold) is expected


@pytest.mark.parametrize(
    ("response", "gold", "expected"),
    [
        ("The answer is 0.999...", "0.999", False),
        ("The answer is 0.999... and nothing else", "1", True),
        ("so the ratio comes to 0.999...", "0.999", False),
        ("The answer is 0.5.", "0.5", True),  # a full stop still ends the sentence
    ],
)
def test_an_ellipsis_survives_extraction(response: str, gold: str, expected: bool) -> None:
    assert grade("math500", response, gold).correct is expected


# --- issue 22: equal values written other ways --------------------------------------------------

@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        # number words, whole answers
        ("\\text{five}", "5", True),
        ("five", "5", True),
        ("5", "\\text{five}", True),
        ("twenty-one", "21", True),
        ("Twenty one", "21", True),
        ("\\text{one hundred and five}", "105", True),
        ("\\text{zero}", "0", True),
        ("five", "6", False),
        ("\\text{fifty}", "5", False),
        ("\\text{five five}", "55", False),  # not a number phrase
        ("one-half", "1", False),
        ("413_{\\text{five}}", "413_5", True),  # a base in words
        ("413_{\\text{five}}", "413_6", False),
        # mixed numbers: a whole number and a proper fraction
        ("1 1/2", "1.5", True),
        ("1\\frac12", "1.5", True),
        ("2\\frac58", "2.625", True),
        ("1 \\frac{2}{3}", "\\frac53", True),
        ("-1\\frac12", "-1.5", True),
        ("1 1/2", "0.5", False),
        ("11/2", "1.5", False),
        ("3 1/2", "3/2", False),
        # clock times
        ("20:34:00", "20:34", True),
        ("08:34 P.M.", "20:34", True),
        ("08:34 \\text{P.M.}", "20:34", True),
        ("8:34 pm", "20:34", True),
        ("12:00 A.M.", "0:00", True),
        ("12:30 P.M.", "12:30", True),
        ("08:34 A.M.", "20:34", False),
        ("20:34:01", "20:34", False),
        ("8:34", "20:34", False),
        ("20:34", "10:17:00", False),  # a time is no ratio
        ("1:2:3", "2:4:6", True),  # but a ratio of three is proportional
        ("1:2:3", "1:2:4", False),
        # a unit with a power after the number
        ("10\\text{ cm}^2", "10", True),
        ("10\\text{ cm}^{2}", "10", True),
        ("15\\mbox{ cm}^2", "15", True),
        ("5\\mathrm{~m}^3", "5", True),
        ("10 cm^2", "10", True),
        ("10^2", "10", False),  # a power of a number is no unit
        ("10\\text{ cm}^2", "100", False),
        # products by juxtaposition
        ("2^6 3^5 5^4", "2^6 \\cdot 3^5 \\cdot 5^4", True),
        ("2^6 3^5 5^4", "9720000", True),
        ("2^6\\,3^5", "15552", True),
        ("2^6 3^5 5^4", "2^{63}\\cdot 5^{54}", False),
        # i is the imaginary unit
        ("i(2-i)", "1+2i", True),
        ("(1+i)^2", "2i", True),
        ("i(2+i)", "1+2i", False),
        ("\\frac{1}{i}", "-i", True),
        # degrees inside a trigonometric function
        ("\\sin(90^\\circ-x)", "\\cos x", True),
        ("\\sin(90^{\\circ}-x)", "\\cos(x)", True),
        ("\\cos 60^\\circ", "\\frac12", True),
        ("\\tan(45^\\circ)", "1", True),
        ("\\sin(90-x)", "\\cos x", False),  # radians
        ("\\sin 30", "\\frac12", False),
        ("30^\\circ", "30", True),  # a degree sign outside trig still only marks the unit
        # a list against a vector
        ("[0.5, 1]", "\\begin{matrix} \\frac12 \\\\ 1 \\end{matrix}", True),
        ("\\begin{pmatrix} \\frac12 \\\\ 1 \\end{pmatrix}", "(0.5, 1)", True),
        ("(1, 2)", "\\begin{pmatrix} 1 & 2 \\end{pmatrix}", True),
        ("[1, 0.5]", "\\begin{matrix} \\frac12 \\\\ 1 \\end{matrix}", False),  # in order
        ("[0.5, 1, 2]", "\\begin{matrix} \\frac12 \\\\ 1 \\end{matrix}", False),
        ("(1, 2, 3, 4)", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", False),
    ],
)
def test_equal_values_written_other_ways(answer: str, gold: str, expected: bool) -> None:
    assert correct(answer, gold) is expected


# Golds in plain-text (sympy, Python) notation, as some datasets store them.

@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("2^{100}", "2**100", True),
        ("2^{10}", "2**100", False),
        ("2^{x+1}", "2**(x+1)", True),
        ("2^{x}+1", "2**(x+1)", False),
        ("x^2+1", "x**2 + 1", True),
        ("\\sqrt{3}", "sqrt(3)", True),
        ("\\sqrt{2}", "sqrt(3)", False),
        ("\\frac{\\sqrt{2}}{2}", "sqrt(2)/2", True),
        ("3\\sqrt{2}", "3*sqrt(2)", True),
        ("(-\\infty, 5)", "(-infinity,5)", True),
        ("(-\\infty, 5]", "(-infinity,5)", False),
        ("(-\\infty,5)", "(-oo, 5)", True),
        ("\\pi", "pi", True),
        ("\\frac{\\pi}{2}", "pi/2", True),
        ("\\frac{\\pi}{3}", "pi/2", False),
        ("\\ln 2", "log(2)", True),  # sympy's log is the natural one
        ("e^{2}", "exp(2)", True),
        ("2x", "2*x", True),
        ("\\arcsin\\frac{10}{13}", "np.arcsin(10/13)", True),  # a Minerva gold, module and all
        ("\\arccos\\frac{10}{13}", "np.arcsin(10/13)", False),
        ("\\sqrt{2}", "math.sqrt(2)", True),
    ],
)
def test_plain_text_golds(answer: str, gold: str, expected: bool) -> None:
    assert correct(answer, gold) is expected


def test_majority_groups_follow_the_new_equivalences() -> None:
    from lm_eval_passk.grading.answer_groups import answer_classes

    answers = ["\\text{five}", "5", "0.999...", "1", "0.999", "1 1/2", "1.5", "20:34:00", "08:34 P.M."]
    classes = answer_classes("math500", answers, symbolic=False)
    assert sorted(sorted(c) for c in classes) == [[0, 1], [2, 3], [4], [5, 6], [7, 8]]


# A sum or product of explicit matrices is the matrix it evaluates to (not one matrix
# whose cells run on into the next).

@pytest.mark.parametrize(
    ("answer", "gold", "expected"),
    [
        ("\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}",
         "\\begin{pmatrix}6 & 8 \\\\ 10 & 12\\end{pmatrix}", True),
        ("\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}",
         "\\begin{pmatrix}6 & 8 \\\\ 10 & 13\\end{pmatrix}", False),
        ("\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}\\begin{pmatrix}0 & 1 \\\\ 1 & 0\\end{pmatrix}",
         "\\begin{pmatrix}2 & 1 \\\\ 4 & 3\\end{pmatrix}", True),
        ("\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}\\begin{pmatrix}0 & 1 \\\\ 1 & 0\\end{pmatrix}",
         "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", False),  # the product, not a factor
    ],
)
def test_matrix_expressions(answer: str, gold: str, expected: bool) -> None:
    assert correct(answer, gold) is expected


def test_one_function_value_in_a_relation_is_its_range() -> None:
    assert correct("(0,1)", "0<f(x)<1")
    assert not correct("(0,1]", "0<f(x)<1")
    assert correct("f(x) \\ge 2", "[2,\\infty)")


def test_a_short_text_ending_in_and_joins_boxes() -> None:
    response = "$$\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}$$"
    assert grade("math500", response, "(3, 3), (1, 1)").correct
    assert not grade("math500", response, "(1, 1)").correct
    # a text that does not join them leaves the last box alone
    assert grade("math500", "$\\boxed{3} \\text{ is wrong, so the answer is } \\boxed{4}$", "4").correct
