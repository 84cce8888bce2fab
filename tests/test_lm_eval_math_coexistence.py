"""Installing lm-eval-passk next to `lm-eval[math]` (antlr 4.11) breaks nothing.

lm-eval's math tasks (minerva_math, leaderboard_math_hard) assert at import that the antlr
runtime is 4.11; our grader runs under any runtime latex2sympy2_extended ships a parser
for (4.9.3, 4.11, 4.13.2). The default test environment (`.[test]`, which pulls
`lm-eval[math]`) has 4.11; .ci/run re-runs this file under 4.13.2.

Why percent pairs: latex2sympy2_extended 1.11.0's parsers for antlr 4.9.3 and 4.11 were
generated from an older grammar (their `atom` rule has no FUNC_GAMMA alternative), so
under those runtimes every `50\\%` that reaches the parser raises AttributeError and
`\\gamma` / `\\Gamma` alone do not parse. Our normaliser removes percent signs before
anything is parsed; these cases hold it to that under whichever runtime is installed.
docs/GRADING.md, "LaTeX parser versions (antlr)", has the measurement.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from lm_eval_passk.grading import grade_many

ANTLR = version("antlr4-python3-runtime")
# Ours, and lm-eval's own math tasks that need `lm-eval[math]`.
WANTED_TASKS = ("math500_passk", "minerva_math_passk", "passk_math", "minerva_math", "leaderboard_math_hard")

# One interpreter, as a user's would be: our package installed, lm-eval's task index built
# (our discovery hook adds our tasks), lm-eval's own math task modules imported and used,
# and our grader used in the same process.
_PROBE = r"""
import json
import sys

import lm_eval_passk
from lm_eval.tasks import TaskManager

WANTED = sys.argv[1:]

names = set(TaskManager().all_tasks)
import lm_eval.tasks.minerva_math.utils as minerva
import lm_eval.tasks.leaderboard.math.utils as leaderboard
from lm_eval_passk.grading import grade

doc = {
    "problem": "What is 1/2 of 1?",
    "solution": "It is $\\boxed{\\frac{1}{2}}$.",
    "answer": "\\frac{1}{2}",
}
response = "Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct."
print(json.dumps({
    "tasks": sorted(n for n in names if n in WANTED),
    "minerva": minerva.process_results(doc, [response]),
    "leaderboard": leaderboard.process_results(doc, [response]),
    "ours": grade("math500", "So \\boxed{50\\%}.", "50\\%").correct,
}))
"""


def test_lm_eval_math_tasks_import_next_to_us(tmp_path: Path) -> None:
    if not ANTLR.startswith("4.11"):
        pytest.skip(
            f"antlr4-python3-runtime {ANTLR} is installed; lm-eval's math tasks require 4.11 "
            "(the default test environment, `.[test]`, installs it through lm-eval[math])"
        )
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, *WANTED_TASKS],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["tasks"] == sorted(WANTED_TASKS)
    assert result["minerva"] == {"exact_match": 1, "math_verify": 1}
    assert result["leaderboard"] == {"exact_match": 1, "exact_match_original": 1}
    assert result["ours"] is True


# (answer, gold): percent signs everywhere, and sums, products and fractions of percents
# that reach the symbolic comparison.
PERCENT_CORRECT = [
    ("50\\%", "50\\%"),
    ("50\\%", "50"),
    ("50", "50\\%"),
    ("12.5\\%", "12.5\\%"),
    ("12.5 \\%", "\\frac{25}{2}\\%"),
    ("20\\text{\\%}", "20\\%"),
    ("20\\,\\%", "20%"),
    ("\\frac{1}{2}\\%", "0.5\\%"),
    ("\\frac{50\\%}{2}", "25\\%"),
    ("10\\% + 15\\%", "25\\%"),
    ("100\\% - 20\\%", "80\\%"),
    ("2 \\cdot 12.5\\%", "25\\%"),
    ("3 \\times 5\\%", "15\\%"),
    ("x = 40\\%", "40\\%"),
    ("(10\\%, 20\\%)", "(10, 20)"),
    ("\\{5\\%, 10\\%\\}", "\\{10\\%, 5\\%\\}"),
    ("-3.5\\%", "-\\frac{7}{2}\\%"),
]
PERCENT_WRONG = [
    ("50\\%", "40\\%"),
    ("-20\\%", "20\\%"),
    ("\\frac{50\\%}{2}", "50\\%"),
    ("10\\% + 15\\%", "20\\%"),
    ("2 \\cdot 12.5\\%", "12.5\\%"),
    ("33\\%", "\\frac{100}{3}\\%"),
    ("(10\\%, 20\\%)", "(20\\%, 10\\%)"),
    ("\\frac{1}{2}\\%", "2\\%"),
    ("0.5", "50\\%"),  # the fraction is not the percent (the paper grader accepts it)
    ("x = 45\\%", "40\\%"),
]


@pytest.mark.parametrize("grader", ["default", "paper"])
def test_percent_answers_grade_right_under_the_installed_antlr(grader: str) -> None:
    pairs = PERCENT_CORRECT + PERCENT_WRONG
    responses = ["The answer is \\boxed{" + answer + "}." for answer, _ in pairs]
    verdicts = grade_many("math500", responses, [gold for _, gold in pairs], grader=grader)
    expected = [True] * len(PERCENT_CORRECT) + [False] * len(PERCENT_WRONG)
    if grader == "paper":  # its percent variants accept gold / 100; it reads sets in order
        expected[pairs.index(("0.5", "50\\%"))] = True
        expected[pairs.index(("\\{5\\%, 10\\%\\}", "\\{10\\%, 5\\%\\}"))] = False
    wrong = [
        (pair, verdict.correct, verdict.reason)
        for pair, verdict, want in zip(pairs, verdicts, expected)
        if verdict.correct != want
    ]
    assert wrong == [], f"antlr {ANTLR}"
    # Every verdict was reached, none is a parser failure in disguise.
    assert {v.reason for v in verdicts} == {"match", "mismatch"}
