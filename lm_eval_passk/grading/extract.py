"""Find the final answer a response commits to. Pure string work, linear in the response."""

from __future__ import annotations

import re
from collections import deque

from lm_eval_passk.grading.config import MathGraderConfig

_BOX_COMMANDS = ("\\boxed", "\\fbox")
_ANSWER_IS = re.compile(r"(?:final answer|the answer)\s*(?:is\b\s*:?|:)\s*", re.IGNORECASE)
_GSM8K_MARK = re.compile(r"####\s*")
_BOLD = re.compile(r"\*\*([^*\n]{1,200})\*\*")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_SENTENCE_END = re.compile(r"\.(?:\s|$)")


def answer_region(response: str) -> str:
    """The part of a response after its reasoning: text after the last `</think>`; nothing
    when a `<think>` block never closed (the model ran out of tokens while thinking)."""
    if "</think>" in response:
        return response.rsplit("</think>", 1)[1]
    if "<think>" in response:
        return response.split("<think>", 1)[0]
    return response


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` or `\\fbox{...}` (brace-matched), or of `\\boxed 5`.

    None when there is none, or when the last one never closes its brace: a truncated
    answer is no answer, rather than a guess at where it ended.
    """
    start = max(text.rfind(command) for command in _BOX_COMMANDS)
    if start < 0:
        return None
    command = next(c for c in _BOX_COMMANDS if text.startswith(c, start))
    position = start + len(command)
    if text.startswith(" ", position):  # `\boxed 5`: the argument is the next token
        token = text[position:].split(maxsplit=1)
        return token[0].rstrip(".$") if token else None
    if not text.startswith("{", position):
        return None
    depth = 0
    for index in range(position, len(text)):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[position + 1 : index]
    return None


def _stated_answer(text: str) -> str | None:
    """Text after the last "the answer is" / "final answer is" / "final answer:", to the
    end of its sentence."""
    matches = list(_ANSWER_IS.finditer(text))
    if not matches:
        return None
    rest = text[matches[-1].end() :].split("\n", 1)[0]
    end = _SENTENCE_END.search(rest)
    stated = (rest[: end.start()] if end else rest).strip().strip("$*").strip()
    return stated or None


def last_number(text: str) -> str | None:
    """The last number in the text, without thousands separators."""
    last = deque(_NUMBER.finditer(text), maxlen=1)  # constant memory on megabyte responses
    return last[0].group().replace(",", "").rstrip(".") if last else None


def extract_answer(task: str, response: str, config: MathGraderConfig) -> str | None:
    """The answer a response commits to, by the benchmark's convention and the grader mode:
    last boxed, then (GSM8K) `#### n`, then "the answer is", then markdown bold, then (where
    the convention needs it) the last number."""
    text = answer_region(response) if config.skip_thinking else response
    boxed = last_boxed(text)
    if boxed is not None and boxed.strip():
        return boxed.strip()
    if task == "gsm8k":
        marks = list(_GSM8K_MARK.finditer(text))
        if marks:
            marked = last_number(text[marks[-1].end() :].split("\n", 1)[0])
            if marked is not None:
                return marked
    stated = _stated_answer(text)
    if stated is not None:
        return stated
    if config.use_markdown_bold:
        bold = _BOLD.findall(text)
        if bold:
            return bold[-1].strip()
    if task in config.last_number_tasks:
        return last_number(text)
    return None
