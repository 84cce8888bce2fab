"""MathVista and MathVision answers: rule-based extraction, then MathVista's own
normalisation or (MathVision) the math grader's equivalence. No LLM call.

A record is a MathVista testmini record: pid, question, choices, unit, precision, answer,
question_type ("free_form" or "multi_choice") and answer_type ("integer", "float", "list",
"text"). MathVista's official scorer extracts an answer with GPT-4 and then normalises it
by answer type before an exact string comparison; here the extraction is rules
(docs/GRADING.md) and the normalisation follows MathVista's.

A MathVision record (hub `MathLLMs/MathVision`) is id, question, options, answer, level,
subject: `options` empty for a free-form question, else the choices with `answer` a letter.
Its free-form answers are numbers or LaTeX (`\\frac{\\sqrt{3}}{2}`, `12^\\circ`) with no
answer type to normalise by, so the same extraction is followed by the math grader's
equivalence (math.compare_many: normal forms, numbers, then sympy under a timeout).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lm_eval_passk.grading.config import MathGraderConfig
from lm_eval_passk.grading.extract import answer_region, gold_answer, last_boxed
from lm_eval_passk.grading.math import compare_many
from lm_eval_passk.grading.pool import Engine
from lm_eval_passk.grading.verdict import Verdict

_ANSWER_MARK = re.compile(
    r"(?:final answer|the answer|answer)\s*(?:is\b\s*:?|:)\s*", re.IGNORECASE
)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_LIST = re.compile(r"\[[^\[\]]*\]")
# A bold span holding a number: chat models bold their final value ("= **16 m**").
_BOLD_NUMBER = re.compile(r"\*\*([^*\n]{0,40}\d[^*\n]{0,40})\*\*")
_LEADING_LETTER = re.compile(r"^\(?([A-Z])\)?(?=[\s.:,)*]|$)")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_OR_WORD = re.compile(
    r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE
)
_COPULA_NUMBER = re.compile(
    r"\b(?:is|are|was|were|equals|be)\s+(?:approximately\s+|about\s+|around\s+|roughly\s+)?\$?("
    + _NUMBER_OR_WORD.pattern
    + ")",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"cannot be (?:determined|answered|calculated)|can't be determined|not enough information"
    r"|(?:does not|doesn't) provide enough|insufficient information|unable to determine",
    re.IGNORECASE,
)


def _stated(text: str) -> str | None:
    """The rest of the line after the last "answer is" / "Answer:"."""
    matches = list(_ANSWER_MARK.finditer(text))
    if not matches:
        return None
    stated = text[matches[-1].end() :].split("\n", 1)[0].strip().strip("$*").strip()
    return stated or None


def _concluding_number(text: str) -> str | None:
    """The number a free-text response concludes with, read from its last sentence that
    holds a number: the number after its last "is" / "are" ("The age gap between the two
    people is 10 years"); else its first number ("So, there are 4 queries with a p-value below
    0.50"). The value after the last "=" is read the same way. Number words up to twenty count ("There are two bars"). None when the
    response ends by declining to answer."""
    sentences = [s for s in _SENTENCE_BREAK.split(text.strip()) if s.strip()]
    if sentences and _REFUSAL.search(sentences[-1]):
        return None
    for sentence in reversed(sentences):
        # What follows the last "=" is the result ("at $r=2.00R$ is 0.214": "2.00R$ is 0.214").
        tail = sentence.rsplit("=", 1)[1] if "=" in sentence else sentence
        stated = _COPULA_NUMBER.findall(tail)
        if stated:
            return _as_digits(stated[-1])
        found = _NUMBER_OR_WORD.findall(tail)
        if found:
            return _as_digits(found[0])
    return None


def _as_digits(number: str) -> str:
    number = number.replace(",", "")
    return _NUMBER_WORDS.get(number.lower(), number)


def _choice(text: str, choices: Sequence[str]) -> str | None:
    """The choice a stated answer names: by its letter at the start ("B", "(B) no", "A
    (6cm)."), else by the whole text of one choice."""
    text = text.strip().strip("*").strip()
    letter = _LEADING_LETTER.match(text)
    if letter and ord(letter[1]) - ord("A") < len(choices):
        return choices[ord(letter[1]) - ord("A")]
    for choice in choices:
        if text.rstrip(".").lower() == str(choice).strip().lower():
            return choice
    return None


def _choice_in_conclusion(text: str, choices: Sequence[str]) -> str | None:
    """For a multiple-choice response with no stated answer: a "(B)" in its last sentence,
    else the one choice whose text its last sentence contains ("... is May.")."""
    sentences = [s for s in _SENTENCE_BREAK.split(text.strip()) if s.strip()]
    if not sentences:
        return None
    last = sentences[-1]
    letters = re.findall(r"\(([A-Z])\)", last)
    if letters and ord(letters[-1]) - ord("A") < len(choices):
        return choices[ord(letters[-1]) - ord("A")]
    named = [c for c in choices if re.search(rf"(?<!\w){re.escape(str(c))}(?!\w)", last, re.IGNORECASE)]
    return named[0] if len(named) == 1 else None


def extract_answer(response: str, record: dict[str, Any]) -> str | None:
    """The answer a response commits to: the last boxed answer, else the text after the
    last "answer is" / "Answer:", else the final number (or, for multiple choice, the last
    choice letter or choice text that stands alone)."""
    text = answer_region(response)
    bold = _BOLD_NUMBER.findall(text)
    candidates = [last_boxed(text), _stated(text), bold[-1] if bold else None]
    for candidate in candidates:
        if candidate is not None and candidate.strip():
            candidate = candidate.strip()
            if record["question_type"] == "multi_choice":
                chosen = _choice(candidate, record["choices"] or [])
                if chosen is not None:
                    return chosen
            if record["answer_type"] == "list":
                listed = _LIST.findall(candidate)
                if listed:
                    return listed[-1]
            number = _NUMBER.search(candidate)  # "1982 with an income of $931,441" is 1982
            if record["answer_type"] in ("integer", "float") and number is not None:
                return number.group().replace(",", "")
            return candidate
    if record["question_type"] == "multi_choice":
        return _choice_in_conclusion(text, record["choices"] or [])
    if record["answer_type"] == "list":
        listed = _LIST.findall(text)
        return listed[-1] if listed else None
    return _concluding_number(text)


def normalize(answer: str, record: dict[str, Any]) -> str | None:
    """MathVista's normalisation by answer type: integers truncated, floats rounded to the
    record's `precision`, lists as lists of numbers; None when the answer does not fit."""
    answer_type = record["answer_type"]
    try:
        if answer_type == "integer":
            return str(int(float(answer.replace(",", ""))))
        if answer_type == "float":
            return str(round(float(answer.replace(",", "")), int(record["precision"] or 0)))
        if answer_type == "list":
            values = [float(x) for x in answer.strip().strip("[]").split(",") if x.strip()]
            return str([int(v) if v == int(v) else v for v in values])
    except (ValueError, OverflowError):
        return None
    return answer.strip()


def grade_vision_many(responses: Sequence[str], records: Sequence[dict[str, Any]]) -> list[Verdict]:
    """One Verdict per (response, record); string work only, so it runs in the caller."""
    verdicts = []
    for response, record in zip(responses, records):
        answer = extract_answer(response, record)
        if answer is None:
            verdicts.append(Verdict(False, None, "no_answer"))
            continue
        predicted, gold = normalize(answer, record), normalize(str(record["answer"]), record)
        correct = predicted is not None and predicted == gold
        verdicts.append(Verdict(correct, answer, "match" if correct else "mismatch"))
    return verdicts


def mathvista_shape(record: dict[str, Any]) -> dict[str, Any]:
    """A MathVision record as extract_answer reads a MathVista one: its options are the
    choices; a free-form answer is text (no answer type to cut it to a number)."""
    options = list(record.get("options") or [])
    return {
        "question_type": "multi_choice" if options else "free_form",
        "choices": options,
        "answer_type": "text",
        "precision": None,
    }


def _gold_choice(record: dict[str, Any]) -> str | None:
    """The text of the option a MathVision multiple-choice answer letter names."""
    index = ord(str(record["answer"]).strip()[:1] or "?") - ord("A")
    options = record["options"]
    return str(options[index]) if 0 <= index < len(options) else None


def grade_mathvision_many(
    responses: Sequence[str],
    records: Sequence[dict[str, Any]],
    config: MathGraderConfig,
    engine: Engine | None = None,
) -> list[Verdict]:
    """One Verdict per (response, MathVision record): free-form answers by the math
    equivalence of `config`, a multiple-choice answer by the option it names."""
    shapes = [mathvista_shape(record) for record in records]
    answers = [extract_answer(response, shape) for response, shape in zip(responses, shapes)]
    free = [i for i, shape in enumerate(shapes) if shape["question_type"] == "free_form"]
    compared = compare_many(
        [answers[i] for i in free], [gold_answer(str(records[i]["answer"])) for i in free], config, engine
    )
    verdicts: dict[int, Verdict] = dict(zip(free, compared))
    for index, (answer, record) in enumerate(zip(answers, records)):
        if index in verdicts:
            continue
        if answer is None:
            verdicts[index] = Verdict(False, None, "no_answer")
            continue
        correct = answer == _gold_choice(record)
        verdicts[index] = Verdict(correct, answer, "match" if correct else "mismatch")
    return [verdicts[i] for i in range(len(responses))]
