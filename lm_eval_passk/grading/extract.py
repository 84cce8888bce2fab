"""Find the final answer a response commits to. Pure string work, linear in the response."""

from __future__ import annotations

import re
from collections import deque

from lm_eval_passk.grading.config import MathGraderConfig
from lm_eval_passk.grading.normalize import UNIT_WORD, closing_bracket

_BOX_COMMANDS = ("\\boxed", "\\fbox")
_ANSWER_IS = re.compile(r"answers?\s*(?:is\b\s*:?|are\b\s*:?|:)\s*", re.IGNORECASE)
_GSM8K_MARK = re.compile(r"####\s*")
_BOLD = re.compile(r"\*\*([^*\n]{1,200})\*\*")
# A decimal that trails off (`0.999...`) keeps its ellipsis: it is not the decimal 0.999.
_TRAILS_OFF = r"(?:\.{3}|\\[lc]?dots(?![a-zA-Z])|…)?"
_NUMBER = re.compile(rf"-?\d[\d,]*(?:\.\d+{_TRAILS_OFF})?|-?\.\d+{_TRAILS_OFF}")
# After a number, letters may only be a unit (`10cm`, `2A`) or an ordinal ending (`5th`).
_UNIT_AFTER = re.compile(rf"(?:{UNIT_WORD}|st|nd|rd|th)(?![A-Za-z])")
# A full stop ends a sentence; the dots of an ellipsis do not.
_SENTENCE_END = re.compile(r"(?<!\.)\.(?!\.)(?:\s|$)")
# What may stand between boxes that together state one answer: `\boxed{1}, \boxed{2}`,
# `x = \boxed{1} \text{ or } x = \boxed{2}`, `\boxed{(3,3)} \text{ for part (a) and }
# \boxed{(1,1)}` (a short text that ends in "and" or "or" joins them).
_BOX_SEPARATOR = re.compile(
    r"(?:\s|[,;$]|\\[()]|\\quad|\\text\{[^{}]{0,40}?\b(?:and|or)\s*\}|\band\b|\bor\b"
    r"|\\?[a-zA-Z]+(?:_\{?\w+\}?)?\s*=)*"
)
# A word of three letters or more, outside math: the stated answer is a sentence.
_PROSE = re.compile(r"(?<!\\)\b[a-zA-Z]{3,}\b")
_MATH_SPAN = re.compile(r"\$([^$]+)\$|\\\((.+?)\\\)")
# Display or inline math, for the last-math fallback: `$$..$$`, `\[..\]`, `$..$`, `\(..\)`.
# Inline math ends at its line, as in TeX's paragraphs; `\$` inside is an escaped dollar.
_ANY_MATH = re.compile(
    r"\$\$((?:.|\n)+?)\$\$|\\\[((?:.|\n)+?)\\\]|(?<!\\)\$((?:[^$\\\n]|\\.)+?)\$|\\\((.+?)\\\)"
)
# A number for the last-math fallback: also a fraction, `2/3` or `\frac{2}{3}`.
_FALLBACK_NUMBER = re.compile(
    r"\\[dt]?frac\{-?\d+\}\{\d+\}|-?\d+/\d+(?!\d|\.\d)"
    rf"|-?\d{{1,3}}(?:,\d{{3}})+(?:\.\d+{_TRAILS_OFF})?(?!\d)|-?\d+(?:\.\d+{_TRAILS_OFF})?|-?\.\d+{_TRAILS_OFF}"
)
# A response that ends like a finished sentence or formula: one cut off mid-sentence (out
# of tokens) concluded nothing, and its last number is a guess (docs/GRADING.md, "No box").
_CONCLUDED = re.compile(
    r"(?:[.!?。)\]}$]|\d|\\[\])]"
    rf"|[\d$]\s*(?:[%€£¥°²³]|[\u3040-\u30ff\u4e00-\u9fff]{{1,3}}|(?:{UNIT_WORD})[²³]?))\s*$"
)
_TAIL = 200  # characters at the end of a response that can hold the patterns above or below
# Chat markup a base model writes after its answer (`<|im_start|>user`): not part of it.
_TRAILING_MARKUP = re.compile(r"(?:\s*(?:<\|[a-z_]+\|>|</s>)\s*(?:user|assistant|system)?)+\s*$")
_DISPLAY_MATH = re.compile(r"\s*(?:\\\[((?:.|\n)+?)\\\]|\$\$((?:.|\n)+?)\$\$)")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\{[^{}]*\}(?:\{[lcr|]*\})?")
_COPULA = re.compile(r"\b(?:is|are|was|equals)\b|=")


def answer_region(response: str) -> str:
    """The part of a response after its reasoning: text after the last `</think>`; nothing
    when a `<think>` block never closed (the model ran out of tokens while thinking)."""
    if "</think>" in response:
        return response.rsplit("</think>", 1)[1]
    if "<think>" in response:
        return response.split("<think>", 1)[0]
    return response


def _box_at(text: str, start: int) -> tuple[str, int] | None:
    """Content of the box command at `start`, brace-matched, and the index after it; None
    when the brace never closes (a truncated answer)."""
    command = next(c for c in _BOX_COMMANDS if text.startswith(c, start))
    position = start + len(command)
    if text.startswith(" ", position):  # `\boxed 5`: the argument is the next token
        token = text[position:].split(maxsplit=1)
        return (token[0].rstrip(".$"), position + 1 + len(token[0])) if token else None
    if not text.startswith("{", position):
        return None
    end = closing_bracket(text, position)
    return (text[position + 1 : end], end + 1) if end >= 0 else None


def _last_box_start(text: str, end: int) -> int:
    return max(text.rfind(command, 0, end) for command in _BOX_COMMANDS)


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` or `\\fbox{...}` (brace-matched), or of `\\boxed 5`.

    None when there is none, or when the last one never closes its brace: a truncated
    answer is no answer, rather than a guess at where it ended.
    """
    start = _last_box_start(text, len(text))
    if start < 0:
        return None
    box = _box_at(text, start)
    return box[0] if box else None


def final_boxes(text: str) -> tuple[str, int] | None:
    """The final boxed answer and where it starts. Boxes that end a response one after the
    other, joined only by commas, "and"/"or" or labels (`x = \\boxed{1}, x = \\boxed{2}`),
    are one answer: the list "1, 2" of a find-all question."""
    start = _last_box_start(text, len(text))
    if start < 0:
        return None
    box = _box_at(text, start)
    if box is None or not box[0].strip():
        return None
    contents = [box[0].strip()]
    while True:
        previous = _last_box_start(text, start)
        box = _box_at(text, previous) if previous >= 0 else None
        if box is None or box[1] > start or not _BOX_SEPARATOR.fullmatch(text, box[1], start):
            break
        if box[0].strip() and box[0].strip() not in contents:
            contents.insert(0, box[0].strip())
        start = previous
    return ", ".join(contents), start


def _last_answer_marker(text: str) -> re.Match[str] | None:
    """The last "answer is" / "answer:" (any case). Found from the end with `rfind`: a
    case-insensitive regex scan of every response costs more than all the rest of grading."""
    end = len(text)
    while True:
        found = max(text.rfind("nswer", 0, end), text.rfind("NSWER", 0, end))
        if found < 1:
            return None
        start = found - 1
        if start == 0 or not text[start - 1].isalnum():
            marker = _ANSWER_IS.match(text, start)
            if marker:
                return marker
        end = found + len("nswer") - 1


def _stated_answer(text: str) -> tuple[str, int] | None:
    """The answer after the last "the answer is" / "final answer is" / "final answer:", to
    the end of its sentence, and where it starts. When that is a sentence ("The largest $n$
    is 34"): its part after the last "is" or "=", else its last math or number."""
    marker = _last_answer_marker(text)
    if marker is None:
        return None
    display = _DISPLAY_MATH.match(text, marker.end())  # "the answer is:\n\\[\n6\n\\]"
    if display:
        stated = (display.group(1) or display.group(2)).strip()
        return (stated, marker.end()) if stated else None
    rest = text[marker.end() :].split("\n", 1)[0]
    end = _SENTENCE_END.search(rest)
    stated = (rest[: end.start()] if end else rest).strip().strip("$*").strip()
    if _PROSE.search(_MATH_SPAN.sub("", stated)):
        copula = deque(_COPULA.finditer(stated), maxlen=1)
        tail = stated[copula[0].end() :].strip() if copula else stated
        maths = [m.group(1) or m.group(2) for m in _MATH_SPAN.finditer(tail)]
        if maths:
            stated = maths[0 if copula else -1].strip()
        elif copula and tail:
            stated = tail.strip("$*").strip()
        elif _NUMBER.search(tail):
            stated = last_number(tail) or stated
    return (stated, marker.end()) if stated else None


def _answer_like(text: str) -> bool:
    """A number or some math: "the answer is correct" states nothing to grade."""
    return bool(re.search(r"[\d$\\]", text))


def _own_line(text: str, match: re.Match[str]) -> bool:
    """The match is all there is on its line: a heading, when it holds no math."""
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    line = text[line_start : len(text) if line_end < 0 else line_end]
    return line.strip() == match.group().strip()


def _bold_answer(text: str) -> str | None:
    """The last markdown bold span that is not a heading: not `**Conclusion**:` or
    `**Conclusion.**`, and without math neither a sentence (`**Calculate the probability**`)
    nor alone on its line (`**Final Answer**`)."""
    for match in reversed(list(_BOLD.finditer(text))):
        content = match.group(1).strip()
        if content.endswith((":", "：", ".")) or text.startswith((":", "："), match.end()):
            continue
        if not _answer_like(content) and (len(content.split()) > 3 or _own_line(text, match)):
            continue
        return content or None
    return None


def _in_word(text: str, match: re.Match[str]) -> bool:
    """The number is part of a word: `AZYUK2A`, `H2O` and `25x` state no number. A letter
    before it, or after it one that begins no unit or ordinal ending (`10cm`, `5th`)."""
    start, end = match.start(), match.end()
    before = text[start - 1] if start > 0 and text[start] != "-" else " "  # `x-2`: a sign
    if (before.isascii() and before.isalnum()) or before == ".":
        return True
    return end < len(text) and text[end].isascii() and text[end].isalpha() and not _UNIT_AFTER.match(text, end)


def _last_standalone(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The last match of `pattern` that is no part of a word. Kept in constant memory on
    megabyte responses: the last few matches, all of them only when those are all in words."""
    last = deque(pattern.finditer(text), maxlen=8)
    if last and all(_in_word(text, match) for match in last):
        last = deque(pattern.finditer(text))
    return next((match for match in reversed(last) if not _in_word(text, match)), None)


def last_number(text: str) -> str | None:
    """The last number in the text that is no part of a word, without thousands separators."""
    last = _last_standalone(_NUMBER, text)
    if last is None:
        return None
    number = last.group().replace(",", "")
    return number if number.endswith("...") else number.rstrip(".")


def last_math(text: str) -> str | None:
    """The response's last mathematical statement: its last math span, or a plain number
    written after it ("... so $x = 3$ and the total is 12" answers 12)."""
    math = deque(_ANY_MATH.finditer(text), maxlen=1)
    number = _last_standalone(_FALLBACK_NUMBER, text)
    if number and (not math or number.start() >= math[0].end()):
        return number.group().replace(",", "")
    if not math:
        return None
    span = next(group for group in math[0].groups() if group is not None).strip()
    if _PROSE.search(_ENVIRONMENT.sub("", span)):  # "$? just about 1$": words inside dollars
        inner = _last_standalone(_FALLBACK_NUMBER, span)
        return inner.group().replace(",", "") if inner else None
    return span or None


def gold_answer(gold: str) -> str:
    """The gold answer to compare with: a gold that boxes its answer (a worked solution, as
    some datasets store it) is read like a response; any other gold is taken whole."""
    boxed = final_boxes(gold) if "\\boxed" in gold or "\\fbox" in gold else None
    return boxed[0] if boxed else gold


def extract_answer(benchmark: str, response: str, config: MathGraderConfig) -> str | None:
    """The answer a response commits to, by the benchmark's convention and the grader mode:
    the final box(es) or the last stated answer, whichever comes later; then (GSM8K)
    `#### n`; then markdown bold; then (where the convention or mode needs it) the last
    number or the last math."""
    text = answer_region(response) if config.skip_thinking else response
    boxed = final_boxes(text)
    stated = _stated_answer(text)
    if boxed is not None and (stated is None or stated[1] <= boxed[1] or not _answer_like(stated[0])):
        return boxed[0]
    if benchmark == "gsm8k":
        marks = list(_GSM8K_MARK.finditer(text))
        if marks:
            marked = last_number(text[marks[-1].end() :].split("\n", 1)[0])
            if marked is not None:
                return marked
    if stated is not None:
        return stated[0]
    if config.use_markdown_bold:
        bold = _bold_answer(text)
        if bold:
            return bold
    if benchmark in config.last_number_benchmarks:
        return last_number(text)
    if config.last_math_fallback and _last_box_start(text, len(text)) < 0:  # no cut-off box
        # Both patterns are anchored at the end; searched in the whole text, the regex
        # engine would try every position of a long response.
        markup = _TRAILING_MARKUP.search(text, max(0, len(text) - _TAIL))
        text = text[: markup.start()] if markup else text
        return last_math(text) if _CONCLUDED.search(text, max(0, len(text) - _TAIL)) else None
    return None
