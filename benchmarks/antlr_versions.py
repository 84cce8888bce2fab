"""Does the math grader give the same verdicts under every supported antlr runtime?

latex2sympy2_extended ships one generated LaTeX parser per antlr runtime (4.9.3, 4.11,
4.13.2) and picks it from the installed runtime's version. `record` writes, under the
runtime installed now:

- the grader's verdicts (default and paper mode) on ~1,000 percent pairs: answers and golds
  written with `\\%`, `%`, `\\text{\\%}`, percent signs inside fractions, sums, products,
  tuples, sets and assignments, correct and incorrect, each with its intended label;
- the same pairs graded the way this project's first grader did (math-verify's
  `verify(parse(gold), parse(answer))` on `$...$`), the grader under which antlr 4.11 once
  got percent pairs wrong;
- the grader's verdicts on a few non-percent pairs (OTHER_PAIRS: bare `\\gamma` and
  `\\Gamma`, and ordinary symbolic answers);
- `latex2sympy2_extended.latex2sympy(s)` (as `sympy.srepr`, or the error's type) for
  varied LaTeX strings, raw and after our normaliser: hand-written constructs, plus, when
  ../shared/data is present, every gold answer of MATH500, AIME24 and Minerva and 1,500
  inline-math snippets of MATH500's problems and solutions.

`diff` compares two recordings. Switch runtimes with pip between the two `record` runs:

    python -m pip install antlr4-python3-runtime==4.11.0  && python benchmarks/antlr_versions.py record /tmp/antlr-4.11.json
    python -m pip install antlr4-python3-runtime==4.13.2  && python benchmarks/antlr_versions.py record /tmp/antlr-4.13.2.json
    python benchmarks/antlr_versions.py diff /tmp/antlr-4.11.json /tmp/antlr-4.13.2.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import signal
import sys
from fractions import Fraction
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# How a percent sign may be written after a number (the number goes where @ is).
PERCENT_SPELLINGS = [
    "@\\%",
    "@%",
    "@ \\%",
    "@\\,\\%",
    "@\\ \\%",
    "@~\\%",
    "@\\text{\\%}",
    "@\\text{ \\%}",
    "@\\mbox{\\%}",
    "\\text{@\\%}",
    "@\\%.",
    "$@\\%$",
    "\\(@\\%\\)",
    "@\\;\\%",
]
PLAIN_SPELLINGS = ["@", "@.", "$@$"]


def _number_text(value: Fraction, rng: random.Random) -> list[str]:
    """Ways to write `value` as LaTeX: decimal, fraction, mixed number, repeating decimal."""
    texts = []
    if value.denominator == 1:
        texts.append(str(value.numerator))
    elif 10**6 % value.denominator == 0:
        texts.append(f"{float(value):.6f}".rstrip("0").rstrip("."))
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    if magnitude.denominator != 1:
        texts.append(f"{sign}\\frac{{{magnitude.numerator}}}{{{magnitude.denominator}}}")
        if magnitude > 1:
            whole = magnitude.numerator // magnitude.denominator
            rest = magnitude - whole
            texts.append(f"{sign}{whole}\\frac{{{rest.numerator}}}{{{rest.denominator}}}")
        if magnitude.denominator == 3:
            whole = magnitude.numerator // 3
            digit = "3" if magnitude.numerator % 3 == 1 else "6"
            texts.append(f"{sign}{whole}.\\overline{{{digit}}}")
    return texts


def percent_pairs(count: int = 1000, seed: int = 0) -> list[dict]:
    """`count` (answer, gold, intended label, kind) rows, half correct, deterministic."""
    rng = random.Random(seed)
    integers = (0, 1, 5, 10, 12, 15, 20, 25, 30, 33, 40, 50, 60, 66, 75, 80, 90, 99, 100, 120, 150, 200, 250)
    decimals = ("0.5", "2.5", "12.5", "37.5", "62.5", "87.5", "0.25", "1.75", "33.3", "66.7", "-5", "-12.5", "-20")
    fractions = ((100, 3), (200, 3), (50, 3), (1, 3), (25, 2), (2, 7), (100, 7))
    values = (
        [Fraction(v) for v in integers]
        + [Fraction(v) for v in decimals]
        + [Fraction(n, d) for n, d in fractions]
    )
    rows: list[dict] = []

    def add(answer: str, gold: str, label: bool, kind: str) -> None:
        rows.append({"answer": answer, "gold": gold, "label": label, "kind": kind})

    def other(value: Fraction) -> Fraction:
        """A nearby wrong value, sometimes the value / 100 (the fraction, not the percent)."""
        choice = rng.random()
        if choice < 0.2 and value != 0:
            return value / 100
        if choice < 0.3 and value != 0:
            return -value
        return value + rng.choice([1, 2, 5, 10, Fraction(1, 2), -1, -5])

    while len(rows) < count:
        value = rng.choice(values)
        correct = rng.random() < 0.5
        answer_value = value if correct else other(value)
        answer_number = rng.choice(_number_text(answer_value, rng))
        gold_number = rng.choice(_number_text(value, rng))
        kind = rng.choice(["both", "both", "both", "answer_only", "gold_only", "fraction", "sum", "product", "tuple", "set", "assignment"])
        answer_spelling, gold_spelling = rng.choice(PERCENT_SPELLINGS), rng.choice(PERCENT_SPELLINGS)
        if kind == "both":
            add(answer_spelling.replace("@", answer_number), gold_spelling.replace("@", gold_number), correct, kind)
        elif kind == "answer_only":  # MATH golds often drop the sign the question asks for
            add(answer_spelling.replace("@", answer_number), rng.choice(PLAIN_SPELLINGS).replace("@", gold_number), correct, kind)
        elif kind == "gold_only":
            add(rng.choice(PLAIN_SPELLINGS).replace("@", answer_number), gold_spelling.replace("@", gold_number), correct, kind)
        elif kind == "fraction":  # \frac{50\%}{2} for 25\%
            divisor = rng.choice([2, 3, 4, 5])
            numerator = _number_text(answer_value * divisor, rng)[0]
            add(f"\\frac{{{numerator}\\%}}{{{divisor}}}", gold_spelling.replace("@", gold_number), correct, kind)
        elif kind == "sum":  # 10\% + 15\% for 25\%
            part = Fraction(rng.choice([1, 5, 10, 20]))
            first, second = _number_text(part, rng)[0], _number_text(answer_value - part, rng)[0]
            sign = "+" if not second.startswith("-") else ""
            add(f"{first}\\% {sign}{second}\\%", gold_spelling.replace("@", gold_number), correct, kind)
        elif kind == "product":  # 2 \cdot 12.5\% for 25\%
            factor = rng.choice([2, 4, 5])
            inner = _number_text(answer_value / factor, rng)[0]
            product = rng.choice(["{} \\cdot {}\\%", "{} \\times {}\\%", "{}({}\\%)"]).format(factor, inner)
            add(product, gold_spelling.replace("@", gold_number), correct, kind)
        elif kind in ("tuple", "set"):
            inner_spellings = [p for p in PERCENT_SPELLINGS if not p.endswith((".", "$", ")"))]
            answer_spelling, gold_spelling = rng.choice(inner_spellings), rng.choice(inner_spellings)
            second_value = rng.choice(values)
            second = _number_text(second_value, rng)[0]
            left, right = ("(", ")") if kind == "tuple" else ("\\{", "\\}")
            answer_item, gold_item = answer_spelling.replace("@", answer_number), gold_spelling.replace("@", gold_number)
            add(
                f"{left}{answer_item}, {second}\\%{right}",
                f"{left}{gold_item}, {second}%{right}",
                correct,
                kind,
            )
        else:
            variable = rng.choice(["x", "p", "r"])
            answer_item = answer_spelling.replace("@", answer_number)
            add(f"{variable} = {answer_item}", gold_spelling.replace("@", gold_number), correct, kind)
    return rows


# Non-percent pairs around the one grammar difference found between the shipped parsers
# (bare `\\gamma` / `\\Gamma`, see `diff`), plus a few ordinary symbolic pairs.
OTHER_PAIRS = [
    ("2\\gamma", "\\gamma + \\gamma"),
    ("\\frac{\\Gamma}{2}", "0.5\\Gamma"),
    ("\\gamma^2", "\\gamma \\cdot \\gamma"),
    ("\\gamma", "0.5772156649"),
    ("\\Gamma", "\\gamma"),
    ("2\\Gamma", "3\\Gamma"),
    ("\\Gamma(5)", "24"),
    ("\\frac{\\hbar}{\\Gamma}", "\\hbar/\\Gamma"),
    ("\\gamma m c^2", "m c^2 \\gamma"),
    ("\\sqrt{8}", "2\\sqrt{2}"),
    ("\\frac{\\pi}{6}", "30^\\circ"),
    ("\\binom{5}{2}", "10"),
    ("(x+1)^2", "x^2+2x+1"),
    ("\\ln 8", "3\\ln 2"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
    ("[2, 5)", "[2,5)"),
    ("\\{1, 2\\}", "\\{2, 1\\}"),
    ("e^{i\\pi}", "-1"),
    ("\\sin^2 x + \\cos^2 x", "1"),
    ("\\alpha + \\beta", "\\beta + \\alpha"),
]

HAND_WRITTEN = r"""
50\%
12.5\%
\frac{1}{2}\%
\frac{50\%}{2}
10\% + 15\%
100\% - 20\%
2 \cdot 5\%
(1 + 5\%)^{2}
50%
50 \%
\text{50\%}
0.5
\frac{1}{2}
\dfrac{3}{4}
\tfrac{3}{4}
\frac12
\frac{a}{b^{2}}
3/4
-\frac{7}{3}
2\frac{1}{3}
0.\overline{3}
1.\overline{142857}
\sqrt{2}
\sqrt[3]{27}
2\sqrt{3}+1
\frac{\sqrt{3}}{2}
\frac{1+\sqrt{5}}{2}
\sqrt{\frac{1}{2}}
x^2+2x+1
(x+1)^2
x^{10}
2^{-3}
e^{i\pi}
e^{x}
\exp(2)
\ln 2
\log_{2} 8
\log(100)
\log_2{16}
\sin\frac{\pi}{6}
\cos^2 x + \sin^2 x
\tan(\pi/4)
\arcsin(1)
\sin^{-1}(1)
\sec x
\pi
2\pi
\frac{\pi}{3}
\infty
-\infty
\binom{5}{2}
\dbinom{10}{3}
{5 \choose 2}
5!
(3)!
10!/(8!2!)
|x-1|
\left|-3\right|
\lfloor 3.7 \rfloor
\lceil 3.2 \rceil
\max(2,3)
\gcd(12,18)
3 \times 4
3 \cdot 4
3*4
6 \div 2
2(3+4)
2 x y
xy
a_1 + a_2
a_{n+1}
f'(x)
f(x) = 2x
y = 3x + 2
x = 5
x \le 3
x < 3
x \geq -1
-2 < x \le 5
x \ne 0
x \neq 0
x \in [2, 5)
[2, 5)
(2, 5]
(-\infty, 3)
(-\infty, -1) \cup (1, \infty)
[0,1]\cup[2,3]
\{1, 2, 3\}
\{-1\}
(1, 2)
(3, -4, 5)
\emptyset
\varnothing
\mathbb{R}
\begin{pmatrix} 1 \\ 2 \end{pmatrix}
\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}
\begin{bmatrix} 1 & 0 \\ 0 & 1 \end{bmatrix}
\det \begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}
\sum_{k=1}^{10} k
\sum_{n=0}^{\infty} \frac{1}{2^n}
\prod_{k=1}^{4} k
\int_0^1 x\,dx
\int x^2 dx
\lim_{x \to 0} \frac{\sin x}{x}
\frac{d}{dx} x^2
30^\circ
30^{\circ}
\frac{\pi}{6} \text{ radians}
45^\circ
5 \text{ cm}
\$12.50
12 \text{ dollars}
\text{(A)}
\text{A}
A
\textbf{(C)}
\text{yes}
\text{odd}
1,000
1{,}000
1\,000
10^{6}
1.5 \times 10^{3}
1.5e3
6.02 \times 10^{23}
3.0 \times 10^{-8}
\pm 2
2 \pm \sqrt{3}
i
2+3i
\sqrt{-1}
\overline{z}
\bar{x}
\vec{v}
\mathbf{v}
\hat{i}
\operatorname{sgn}(x)
\mathrm{e}
\mathrm{~kg}
\alpha + \beta
\theta
\Delta
\angle ABC
\triangle ABC
AB
\overline{AB}
\frac{x}{y} + \frac{y}{x}
\frac{1}{x-1} - \frac{1}{x+1}
\frac{2}{3}x
-x
--x
x!
x^2-4 = 0
x = \pm 2
\text{no solution}
\text{undefined}
7 \,\text{m}/\text{s}
\frac{km}{h}
12:30
3:4
1:2:3
\%
\text{\%}
50\%\text{ of }x
\frac{3}{8}\%
-\frac{1}{3}\%
33\frac{1}{3}\%
33.\overline{3}\%
x\%
(10\%, 20\%)
\{5\%, 10\%\}
\Gamma
\gamma
2\Gamma
\Gamma^2
\Gamma(5)
\Gamma(\frac{1}{2})
\Gamma + 1
\frac{\Gamma}{2}
\gamma m c^2
""".strip().splitlines()
_INLINE_MATH = re.compile(r"\$([^$]{1,80})\$")


def latex_strings() -> list[str]:
    """Hand-written constructs, then every real gold answer (MATH500, AIME24, Minerva)."""
    strings = list(HAND_WRITTEN)
    if SHARED_DATA.is_dir():
        for name in ("math500", "aime24", "minerva_math"):
            path = ROOT / "lm_eval_passk" / "tasks" / name / "utils.py"
            spec = importlib.util.spec_from_file_location(f"utils_{name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            strings += list(module.load(data_dir=str(SHARED_DATA))["test"]["answer"])
        # Inline math of MATH500's problems and solutions: everyday LaTeX, not only answers.
        snippets = []
        for line in (SHARED_DATA / "math500" / "test.jsonl").open():
            row = json.loads(line)
            snippets += _INLINE_MATH.findall(row["problem"] + " " + row["solution"])
        strings += list(dict.fromkeys(snippets))[:1500]
    return list(dict.fromkeys(strings))


class _Timeout(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise _Timeout


def _parse(text: str, as_the_grader_does: bool = False) -> str:
    """The parse of `text` by latex2sympy, or by the grader's own `to_sympy` (normalised
    text, with its stand-ins for what the parsers read differently)."""
    import sympy
    from latex2sympy2_extended import latex2sympy

    from lm_eval_passk.grading.equivalence import to_sympy

    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)
    try:
        return sympy.srepr(to_sympy(text) if as_the_grader_does else latex2sympy(text))
    except _Timeout:
        return "timeout"
    except Exception as error:  # noqa: BLE001 - any error is a recorded outcome
        return f"error: {type(error).__name__}"
    finally:
        signal.alarm(0)


def _first_grader(answer: str, gold: str) -> bool | str:
    """This project's first grader's comparison (commit 7ff4487, `answers_match`): plain
    numbers as floats, anything else through math-verify."""
    from math_verify import parse, verify

    def as_number(text: str) -> float | None:
        cleaned = text.replace(",", "").replace("$", "").replace("\\", "").strip().rstrip(".")
        try:
            return float(cleaned)
        except ValueError:
            return None

    answer_number, gold_number = as_number(answer), as_number(gold)
    if answer_number is not None and gold_number is not None:
        return abs(answer_number - gold_number) <= 1e-6 * max(1.0, abs(gold_number))
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)
    try:
        parsed_gold, parsed_answer = parse(f"${gold}$"), parse(f"${answer}$")
        return bool(parsed_gold and parsed_answer and verify(parsed_gold, parsed_answer))
    except _Timeout:
        return "timeout"
    except Exception as error:  # noqa: BLE001
        return f"error: {type(error).__name__}"
    finally:
        signal.alarm(0)


def record(out: Path) -> None:
    from lm_eval_passk.grading import grade_many
    from lm_eval_passk.grading.normalize import normalize

    pairs = percent_pairs()
    responses = ["\\boxed{" + pair["answer"] + "}" for pair in pairs]
    golds = [pair["gold"] for pair in pairs]
    result: dict = {"antlr": version("antlr4-python3-runtime"), "pairs": pairs}
    for grader in ("default", "paper"):
        verdicts = grade_many("math500", responses, golds, grader=grader)
        result[grader] = [[v.correct, v.reason] for v in verdicts]
    result["first_grader"] = [_first_grader(p["answer"], p["gold"]) for p in pairs]
    result["other_pairs"] = [list(pair) for pair in OTHER_PAIRS]
    for grader in ("default", "paper"):
        verdicts = grade_many("math500", ["\\boxed{" + a + "}" for a, _ in OTHER_PAIRS], [g for _, g in OTHER_PAIRS], grader=grader)
        result[f"other_{grader}"] = [[v.correct, v.reason] for v in verdicts]
    strings = latex_strings()
    result["latex"] = {s: _parse(s) for s in strings}
    result["latex_normalized"] = {s: _parse(normalize(s), True) for s in strings if normalize(s)}
    out.write_text(json.dumps(result, indent=1))
    for grader in ("default", "paper", "first_grader"):
        verdicts = result[grader]
        correct = [v[0] if isinstance(v, list) else v is True for v in verdicts]
        wrong = sum(c != p["label"] for c, p in zip(correct, pairs))
        print(f"antlr {result['antlr']}: {grader}: {wrong} of {len(pairs)} percent pairs disagree with their intended label")
    errors = sum(v.startswith(("error", "timeout")) for v in result["latex"].values())
    print(f"antlr {result['antlr']}: latex2sympy on {len(strings)} strings, {errors} errors -> {out}")


def diff(first: Path, second: Path) -> int:
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a["pairs"] == b["pairs"], "recordings of different pair sets"
    differences = 0
    print(f"antlr {a['antlr']} vs {b['antlr']}")
    for grader in ("default", "paper", "first_grader"):
        changed = [i for i, (x, y) in enumerate(zip(a[grader], b[grader])) if x != y]
        differences += len(changed) if grader != "first_grader" else 0
        print(f"  {grader}: {len(changed)} of {len(a['pairs'])} percent-pair verdicts differ")
        for i in changed[:20]:
            pair = a["pairs"][i]
            print(f"    {pair['answer']!r} vs gold {pair['gold']!r} (label {pair['label']}): {a[grader][i]} -> {b[grader][i]}")
    for grader in ("other_default", "other_paper"):
        changed = [i for i, (x, y) in enumerate(zip(a[grader], b[grader])) if x != y]
        differences += len(changed)
        print(f"  {grader}: {len(changed)} of {len(a['other_pairs'])} other-pair verdicts differ")
        for i in changed:
            answer, gold = a["other_pairs"][i]
            print(f"    {answer!r} vs gold {gold!r}: {a[grader][i]} -> {b[grader][i]}")
    for key in ("latex", "latex_normalized"):
        shared = sorted(set(a[key]) & set(b[key]))
        changed = [s for s in shared if a[key][s] != b[key][s]]
        differences += len(changed)
        print(f"  latex2sympy ({key}): {len(changed)} of {len(shared)} strings parse differently")
        for s in changed[:40]:
            print(f"    {s!r}: {a[key][s][:120]} -> {b[key][s][:120]}")
    return 1 if differences else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("record").add_argument("out", type=Path)
    compare = commands.add_parser("diff")
    compare.add_argument("first", type=Path)
    compare.add_argument("second", type=Path)
    args = parser.parse_args()
    if args.command == "record":
        record(args.out)
    else:
        sys.exit(diff(args.first, args.second))


if __name__ == "__main__":
    main()
