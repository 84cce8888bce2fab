"""Answer extraction and equivalence for the math benchmarks (GSM8K, MATH500, AIME24, Minerva).

Pure functions: no lm-eval import, usable from a notebook or as an RL reward.
"""

from __future__ import annotations

import re

from lm_eval_passk.grading.verdict import Verdict

MATH_TASKS = ("gsm8k", "math500", "aime24", "minerva_math")

_THINK_BLOCK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL)
_BOX_COMMANDS = ("\\boxed", "\\fbox")
_ANSWER_IS = re.compile(r"(?:final answer|the answer) is[:\s]*(.+)", re.IGNORECASE)
_GSM8K_MARK = re.compile(r"####\s*(.+)")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def strip_thinking(response: str) -> str:
    """Drop `<think>...</think>` blocks: reasoning is not the answer."""
    return _THINK_BLOCK.sub(" ", response)


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` / `\\fbox{...}` (brace-matched), or of `\\boxed 5`."""
    start = max(text.rfind(cmd) for cmd in _BOX_COMMANDS)
    if start < 0:
        return None
    rest = text[start:]
    command = next(cmd for cmd in _BOX_COMMANDS if rest.startswith(cmd))
    rest = rest[len(command) :]
    if rest.startswith(" "):  # `\boxed 5`: the argument is the next token
        token = rest.split(maxsplit=1)
        return token[0].rstrip(".$") if token else None
    if not rest.startswith("{"):
        return None
    depth = 0
    for position, char in enumerate(rest):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return rest[1:position]
    return None  # unbalanced braces: no answer rather than a guess


def last_number(text: str) -> str | None:
    """The last number in the text, without thousands separators."""
    numbers = _NUMBER.findall(text)
    return numbers[-1].replace(",", "").rstrip(".") if numbers else None


def extract_answer(task: str, response: str) -> str | None:
    """The final answer a response commits to, by the benchmark's convention."""
    text = strip_thinking(response)
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed.strip()
    if task == "gsm8k":
        marked = _GSM8K_MARK.findall(text)
        if marked:
            return last_number(marked[-1]) or marked[-1].strip()
    stated = _ANSWER_IS.findall(text)
    if stated:
        return stated[-1].strip().rstrip(".").strip("$ ")
    if task == "gsm8k":  # GSM8K's convention: the last number in the solution
        return last_number(text)
    return None


def _as_number(text: str) -> float | None:
    cleaned = text.replace(",", "").replace("$", "").replace("\\", "").strip().rstrip(".")
    try:
        return float(cleaned)
    except ValueError:
        return None


def answers_match(answer: str, target: str) -> bool:
    """Numeric comparison first, then symbolic equality through math-verify."""
    answer_number, target_number = _as_number(answer), _as_number(target)
    if answer_number is not None and target_number is not None:
        return abs(answer_number - target_number) <= 1e-6 * max(1.0, abs(target_number))
    from math_verify import parse, verify

    gold = parse(f"${target}$")
    predicted = parse(f"${answer}$")
    return bool(gold and predicted and verify(gold, predicted))


def grade_math(task: str, response: str, target: str) -> Verdict:
    """Grade one math response against the gold answer string."""
    answer = extract_answer(task, response)
    if answer is None:
        return Verdict(correct=False, answer=None, reason="no_answer")
    try:
        correct = answers_match(answer, target)
    except Exception as error:  # a grader error is a wrong answer, never a crash
        return Verdict(correct=False, answer=answer, reason=f"error: {type(error).__name__}")
    return Verdict(correct=correct, answer=answer, reason="match" if correct else "mismatch")
