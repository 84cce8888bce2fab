"""Canonical text of an answer: the same value written two ways should read the same.

Applied to both the extracted answer and the gold answer before any comparison.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

# Units and unit-like words that follow a number in MATH, GSM8K and Minerva answers
# ("5 \text{ cm}", "12 dollars", "3.2 \mathrm{~kg}"). Only stripped after a number.
_UNITS = (
    "mm cm m km meter meters metre metres centimeter centimeters kilometer kilometers "
    "inch inches in ft foot feet yd yard yards mile miles mi "
    "sq square squared cubic units unit cm2 m2 "
    "g kg mg gram grams kilogram kilograms lb lbs pound pounds oz ounce ounces ton tons "
    "s sec second seconds min minute minutes h hr hrs hour hours day days week weeks "
    "month months year years "
    "dollar dollars cent cents "
    "degree degrees deg rad radian radians "
    "mph kph percent percentage pct "
    "J kJ eV keV MeV GeV W kW MW N Pa kPa atm K Hz kHz MHz GHz V mV A mA "
    "L mL l ml mol nm um pc kpc Mpc ly AU erg"
).split()
UNIT_WORD = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_TRAILING_UNITS = re.compile(
    rf"^(?P<value>.*?[\d}}])\s*(?:(?:{UNIT_WORD})(?:\^\{{?[23]\}}?|[23])?(?:/|\s|\.|$))+$"
)
# A measure word after a number in Chinese or Japanese answers ("3页", "858颗").
_TRAILING_CJK_UNIT = re.compile(r"^(?P<value>.*\d)\s*[\u3040-\u30ff\u4e00-\u9fff]{1,3}$")
_TEXT_COMMANDS = re.compile(
    r"\\(?:text|textbf|textit|textnormal|textrm|textsf|texttt|mathrm|mathbf|mathit|mathsf|mathtt"
    r"|mbox|hbox|operatorname)\s*\{((?:[^{}]|\{[^{}]*\})*)\}"
)
# Dots over the first and last digit of the period (`0.\dot{1}4285\dot{7}`, `0.1\dot{6}`):
# the same repeating decimal as an overline.
_DOTTED_PERIOD = re.compile(r"(\d*\.\d*)\\dot\{?(\d)\}?(?:(\d*)\\dot\{?(\d)\}?)?")
# A repeating decimal, `0.\overline{3}` or `1.2\overline{45}`: an exact fraction.
_REPEATING = re.compile(r"(?<![\d.])(\d*)\.(\d*)\\overline\{(\d+)\}")
# What may stand left of `=` as a mere label of the answer: a name (`x`, `AB`, `a_n`,
# `\theta'`), a function of names or numbers (`f(x)`, `P(2)`, `f^{-1}(3)`), an angle
# (`\angle ABC`, `m\angle A`), a length (`|AB|`, `\overline{AB}`) or a tuple of names
# (`(p,q)`). A left side with an operator (`x+y = 5`) is an equation, not a label.
_GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu "
    "xi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Sigma Phi Psi Omega"
).split()
_NAME = rf"(?:\\(?:{'|'.join(_GREEK)})(?![a-zA-Z])|[a-zA-Z]+)(?:_\{{[^{{}}]*\}}|_\w)?'*"
_LABEL = (
    rf"(?:m?\\angle\s*[A-Z]+|\\overline\{{[A-Z]+\}}|\|\s*[A-Za-z0-9]+\s*\|"
    rf"|{_NAME}(?:\^\{{-1\}}|\^-1)?(?:\s*\([\w\s,]*\))?"
    rf"|\(\s*{_NAME}(?:\s*,\s*{_NAME})+\s*\)"
    # a ratio or quotient of names: `V_1 : V_2 = 11:21`, `\frac{NO}{BO} = \frac{1}{\sqrt6}`
    rf"|{_NAME}(?:\s*:\s*{_NAME})+|\\frac\{{\s*{_NAME}\s*\}}\{{\s*{_NAME}\s*\}})"
)
_WHOLE_LABEL = re.compile(rf"\s*{_LABEL}\s*")
_LEADING_VARIABLE = re.compile(rf"^\s*{_LABEL}\s*(?:=|\\in)\s*(?=\S)")
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_THOUSANDS_SPACE = re.compile(r"(?<=\d),\\!\s*(?=\d)")
# An order relation: such an answer is a set of reals (`x \le 5` is (-oo, 5]).
RELATION = re.compile(r"<|>|\\[lg]eq?(?:slant)?(?![a-zA-Z])|\\[lg]t(?![a-zA-Z])|≤|≥")
_AND = re.compile(r"\s+and\s+|\s*\\land\s*|\s*\\wedge\s*")
_OR = re.compile(r"\s+or\s+|\s*\\lor\s*|\s*\\vee\s*")
_COMMAND_BEFORE_LETTER = re.compile(r"(\\[a-zA-Z]+)\s+(?=[a-zA-Z])")
_WHITESPACE = re.compile(r"\s+")
_AND_OR = re.compile(r"\s*,?\s+(?:and|or)\s+|(?<=[)\]])\s*(?:and|or)\s*(?=[(\[])")
_TRAILING_TEXT = re.compile(
    r"^(?P<value>.*[\d}])\s*\\(?:text|textnormal|textrm|mathrm|mbox)\s*\{[^{}]*\}(?:\^\{?[23]\}?)?\s*$"
)
_DOUBLED_BACKSLASH = re.compile(r"\\\\(?=[a-zA-Z])")
_RELATION_ALIASES = (
    (re.compile(r"<="), r"\\le "),
    (re.compile(r">="), r"\\ge "),
    (re.compile(r"!="), r"\\neq "),
    (re.compile(r"\\lt(?![a-zA-Z])"), "<"),
    (re.compile(r"\\gt(?![a-zA-Z])"), ">"),
)
# LaTeX spacing commands; not the `\\` row break of a matrix followed by a space.
_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\quad|\\qquad|\\displaystyle|~")
_DEGREES = re.compile(r"\^\s*\{?\\circ\}?|°|\\degree")
# `\left` and `\right` as sizing commands only: `\leftarrow`, `\rightharpoonup` and
# `\leftthreetimes` are other symbols, and `\leftarrow` is not `\rightarrow`.
_SIZING = re.compile(r"\\(?:left|right)(?![a-zA-Z])")
# Two names TeX defines as one symbol (`\to` is `\rightarrow`, `\gets` is `\leftarrow`).
_COMMAND_ALIASES = (
    (re.compile(r"\\to(?![a-zA-Z])"), r"\\rightarrow "),
    (re.compile(r"\\gets(?![a-zA-Z])"), r"\\leftarrow "),
)
# A decimal that trails off (`0.333...`, `3.14159\ldots`): its digits go on. With a
# visible period (one digit written three times or more, or a block of two or more
# written twice in a row) it is that repeating decimal, an exact fraction; otherwise a
# truncated decimal, which states no exact value (docs/GRADING.md, "Ellipsis").
_ELLIPSIS_DECIMAL = re.compile(r"(?<![\d.])(\d*)\.(\d+)\s*(?:\.{2,}|\\[lc]?dots(?![a-zA-Z])|…)")
TRUNCATED = "\\ldots"
# A degree sign inside a trigonometric function's argument is a unit to convert
# (`\sin(90^\circ - x)` is `\cos x`); elsewhere it marks the answer's unit and goes.
_TRIG = re.compile(r"\\(?:sin|cos|tan|cot|sec|csc)(?![a-zA-Z])")
_DEGREE_VALUE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:\^\s*\{?\\circ\}?|°|\\degree(?![a-zA-Z]))")
# A clock time: `20:34:00`, `08:34 P.M.`, `8:34\text{ pm}` (docs/GRADING.md, "Clock times").
_CLOCK = re.compile(
    r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:\\(?:text|mathrm|textrm|mbox)\s*\{\s*)?"
    r"(?:([ap])\.?\s*m\b\.?)?\s*\}?\s*$",
    re.IGNORECASE,
)
# A mixed number: `1 1/2`, `2 \frac{5}{8}` (a whole number, a space and a proper
# fraction). `1\frac12` without the space the LaTeX parser already reads so.
_MIXED_NUMBER = re.compile(r"^(-?)(\d+)\s+(?:(\d+)/(\d+)|\\frac\{(\d+)\}\{(\d+)\})$")
# A power followed by a number after a space: `2^6 3^5 5^4` multiplies.
_JUXTAPOSED_POWER = re.compile(r"(\^(?:\{[^{}]*\}|\d))\s+(?=\d)")
# Plain-text (sympy/Python) notation some datasets write their golds in: `2**100`,
# `sqrt(3)`, `(-infinity, 5)`, `pi`, `log(2)` (natural, as in sympy).
_PLAIN_FUNCTION = re.compile(
    r"(?<![\\a-zA-Z])(arcsin|arccos|arctan|sinh|cosh|tanh|sin|cos|tan|cot|sec|csc|exp|ln|log)(?=\s*\()"
)  # also with a module prefix, dropped: `np.arcsin(10/13)`, `math.sqrt(2)`
_PLAIN_CONSTANT = re.compile(r"(?<![\\a-zA-Z])(?:(infinity|infty|inf|oo)|(pi))(?![a-zA-Z])")
_PLAIN_SQRT = re.compile(r"(?<![\\a-zA-Z])sqrt\s*\(")
_PLAIN_MODULE = re.compile(r"(?<![\w.])(?:np|numpy|math|sympy|sp)\.(?=[a-z])")  # `np.arcsin(`
_PLAIN_POWER = re.compile(r"(?<=[\w)}\]])\*\*\s*")
_PLAIN_TIMES = re.compile(r"(?<=[\w)}\]])\s*\*\s*(?=[\w(\\-])")
# Cardinal number words (`five`, `twenty-one`, `one hundred and five`): a whole answer
# written so, or a base written so in a subscript (`413_{five}`).
_SMALL_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)
_SMALL_NUMBERS = {word: value for value, word in enumerate(_SMALL_WORDS)}
_TENS_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_TENS = {word: 10 * (i + 2) for i, word in enumerate(_TENS_WORDS)}
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9}
_NUMBER_WORDS = re.compile(
    rf"(?:(?:minus|negative)\s+)?(?:(?:{'|'.join([*_SMALL_NUMBERS, *_TENS, 'hundred', *_SCALES, 'and'])})(?:[\s-]+|$))+",
    re.IGNORECASE,
)
_BASE_WORD = re.compile(r"_\{\s*([a-zA-Z]+)\s*\}")


def _strip_delimiters(text: str) -> str:
    text = text.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if text.startswith(left) and text.endswith(right) and len(text) > len(left) + len(right):
            text = text[len(left) : -len(right)].strip()
    return text


@lru_cache(maxsize=65536)
def normalize(answer: str, strip_labels: bool = True) -> str:
    """Canonical form: no math delimiters, spacing, sizing, units, degrees, percent or
    dollar signs, `\\text{}` wrappers, labels (`x =`, `f(x) =`; kept with
    `strip_labels=False`), thousands separators or LaTeX shorthand (`\\frac12` reads
    `\\frac{1}{2}`); "a and b" and "a; b" are the list "a,b"; of a chain `x = 2+3 = 5` only
    the final value."""
    text = _strip_delimiters(answer)
    if "matrix" not in text and "array" not in text:  # `\\frac` written as a string escape
        text = _DOUBLED_BACKSLASH.sub(r"\\", text)
    if "\\left" in text or "\\right" in text:
        text = _SIZING.sub("", text)  # `\\left(`, not the `\\left` of `\\leftarrow`
    if "\\to" in text or "\\gets" in text:
        for alias, command in _COMMAND_ALIASES:
            text = alias.sub(command, text)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\dbinom", "\\binom")
    for alias, relation in _RELATION_ALIASES:
        text = alias.sub(relation, text)
    text = _THOUSANDS_SPACE.sub(",", text)  # MATH writes 10,\!080: a separator, not a list
    text = _SPACING.sub(" ", text)
    text = expand_shorthand(text)
    if ".." in text or "dots" in text or "…" in text:
        text = _ELLIPSIS_DECIMAL.sub(_ellipsis_decimal, text)
    if "\\dot" in text:
        text = _DOTTED_PERIOD.sub(lambda m: f"{m.group(1)}\\overline{{{''.join(g or '' for g in m.groups()[1:])}}}", text)
    text = _REPEATING.sub(_repeating_as_fraction, text)
    text = _degrees(text)
    if ":" in text:
        text = _clock_time(text)
    text = text.replace("\\%", "").replace("%", "").replace("\\$", "").replace("$", "")
    text = text.replace("{,}", ",").replace(";", ",")
    text = re.sub(r"(?<!\\)\\$", "", text.strip())  # a stray final backslash: "185\\"
    trailing_text = _TRAILING_TEXT.match(text)  # "17 \\text{ apples}": the number is the answer
    if trailing_text:
        text = trailing_text.group("value")
    text = _TEXT_COMMANDS.sub(lambda match: f" {match.group(1)} ", text)
    text = plain_notation(text)
    text = text.strip().rstrip(".").strip()
    units = _TRAILING_UNITS.match(text) or _TRAILING_CJK_UNIT.match(text)
    if units:
        text = units.group("value")
    text = number_words(text)  # before "and" makes a list of `one hundred and five`
    if " " in text:
        text = _MIXED_NUMBER.sub(_mixed_number, text)
        text = _JUXTAPOSED_POWER.sub(r"\1\\cdot ", text)  # `2^6 3^5`: a product, not 2^{63}
    if RELATION.search(text):  # "x > 1 and x < 3" is an intersection, not a list
        text = _AND.sub(r"\\land ", _OR.sub(r"\\lor ", text))
    else:
        text = _AND_OR.sub(",", text)
    text = final_value(text)
    if strip_labels:
        text = strip_assignment(text)
    text = number_words(text)
    if _THOUSANDS.match(text):  # before spaces go: "32, 349" is a list, "32,349" a number
        text = text.replace(",", "")
    return squeeze(text)


def _repeating_as_fraction(match: re.Match[str]) -> str:
    whole, fixed, repeating = match.group(1) or "0", match.group(2), match.group(3)
    shift = 10 ** len(fixed)
    value = Fraction(int(whole)) + (
        Fraction(int(fixed or "0")) + Fraction(int(repeating), 10 ** len(repeating) - 1)
    ) / shift
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def _ellipsis_decimal(match: re.Match[str]) -> str:
    whole, digits = match.group(1), match.group(2)
    for period in range(1, len(digits) // 2 + 1):
        block = digits[-period:]
        if digits[-2 * period : -period] != block or (period == 1 and not digits.endswith(block * 3)):
            continue
        start = len(digits) - 2 * period
        while start > 0 and digits[start - 1] == digits[start - 1 + period]:
            start -= 1
        fixed, repeating = digits[:start], digits[start : start + period]
        return f"{whole}.{fixed}\\overline{{{repeating}}}"
    return f"{whole}.{digits}{TRUNCATED}"


def _degrees(text: str) -> str:
    if "\\" in text and _TRIG.search(text):
        text = _DEGREE_VALUE.sub(r"(\1\\cdot\\frac{\\pi}{180})", text)
    return _DEGREES.sub("", text)


def _clock_time(text: str) -> str:
    """`20:34`, `08:34 P.M.` and `8:34 pm` read `20:34:00`: a time with its seconds, which
    the equivalence compares part by part (a bare `20:34`, maybe a ratio, stays)."""
    clock = _CLOCK.match(text)
    if not clock or not (clock.group(3) or clock.group(4) or clock.group(1).startswith("0")):
        return text
    hours, minutes, seconds, half = int(clock.group(1)), int(clock.group(2)), clock.group(3), clock.group(4)
    if half and 1 <= hours <= 12:
        hours = hours % 12 + (12 if half.lower() == "p" else 0)
    elif half:
        return text
    return f"{hours}:{minutes:02d}:{seconds or '00'}"


def _mixed_number(match: re.Match[str]) -> str:
    sign, whole = match.group(1), int(match.group(2))
    numerator, denominator = (int(g) for g in (match.group(3) or match.group(5), match.group(4) or match.group(6)))
    if not 0 < numerator < denominator:
        return match.group()
    value = Fraction(whole * denominator + numerator, denominator)
    return f"{sign}\\frac{{{value.numerator}}}{{{value.denominator}}}"


def plain_notation(text: str) -> str:
    """Plain-text math as LaTeX: `2**100` is `2^{100}`, `sqrt(3)` is `\\sqrt{3}`,
    `infinity` and `oo` are `\\infty`, `pi` is `\\pi`, `log(2)` is `\\ln(2)`."""
    if "inf" in text or "oo" in text or "pi" in text:
        text = _PLAIN_CONSTANT.sub(lambda m: "\\infty " if m.group(1) else "\\pi ", text)
    if "(" not in text and "*" not in text:
        return text
    if "." in text:
        text = _PLAIN_MODULE.sub("", text)
    text = _PLAIN_FUNCTION.sub(lambda m: "\\ln" if m.group(1) == "log" else f"\\{m.group(1)}", text)
    while "sqrt" in text and (sqrt := _PLAIN_SQRT.search(text)) is not None:
        end = closing_bracket(text, sqrt.end() - 1, "(", ")")
        if end < 0:
            break
        text = f"{text[: sqrt.start()]}\\sqrt{{{text[sqrt.end() : end]}}}{text[end + 1 :]}"
    if "*" in text:
        text = _plain_powers(text)
        text = _PLAIN_TIMES.sub("\\\\cdot ", text)
    return text


def _plain_powers(text: str) -> str:
    """`a**b` as `a^{b}`: the exponent a signed number, a name or a bracketed group."""
    out, index = [], 0
    while (power := _PLAIN_POWER.search(text, index)) is not None:
        out.append(text[index : power.start()])
        start = power.end()
        if text.startswith("(", start):
            end = closing_bracket(text, start, "(", ")")
            if end < 0:
                return text
            exponent, index = text[start + 1 : end], end + 1
        else:
            token = re.match(r"-?(?:\d+(?:\.\d+)?|\\?[a-zA-Z]+)", text[start:])
            if token is None:
                return text
            exponent, index = token.group(), start + token.end()
        out.append(f"^{{{exponent}}}")
    out.append(text[index:])
    return "".join(out)


def _number_phrase(words: str) -> int | None:
    """The value of a cardinal number phrase (`twenty-one`, `one hundred and five`)."""
    tokens = [t for t in re.split(r"[\s-]+", words.lower()) if t and t != "and"]
    sign = -1 if tokens and tokens[0] in ("minus", "negative") else 1
    tokens = tokens[1:] if sign < 0 else tokens
    total = current = 0
    previous = ""
    for token in tokens:
        if token in _SMALL_NUMBERS or token in _TENS:
            # `twenty one` and `one hundred five`, never `five five` or `twelve twenty`
            if previous in _SMALL_NUMBERS or (previous in _TENS and token not in _SMALL_NUMBERS):
                return None
            if previous in _TENS and _SMALL_NUMBERS[token] in (0, *range(10, 20)):
                return None
            current += _SMALL_NUMBERS.get(token, _TENS.get(token, 0))
        elif token == "hundred":
            if current == 0 or current >= 100:
                return None
            current *= 100
        elif token in _SCALES:
            if current == 0:
                return None
            total += current * _SCALES[token]
            current = 0
        else:
            return None
        previous = token
    return sign * (total + current) if tokens else None


def number_words(text: str) -> str:
    """A whole answer written in words is its number (`\\text{five}` is 5); so is a base
    written in words (`413_{five}` is `413_{5}`)."""
    if "_" in text:
        text = _BASE_WORD.sub(
            lambda m: f"_{{{value}}}" if (value := _number_phrase(m.group(1))) is not None else m.group(),
            text,
        )
    if text[:1].isalpha() and _NUMBER_WORDS.fullmatch(text.strip()):
        value = _number_phrase(text)
        if value is not None:
            return str(value)
    return text


def final_value(text: str) -> str:
    """Of a chain `x = 5+5+1 = 11` the last side; of `x = \\frac13 \\approx 0.33` the last
    exact side (before the first `\\approx`), unless that is a label (`x \\approx 11`). A
    single equation (`2x + 3y = 6`) stays whole."""
    if ("=" not in text and "\\approx" not in text) or len(split_top_level(text, ",")) > 1:
        return text
    exact, _, approximate = text.partition("\\approx")
    sides = split_top_level(exact, "=")
    if not approximate and len(sides) < 3:
        return text
    for side in reversed(sides):
        if side.strip() and not _WHOLE_LABEL.fullmatch(side):
            return side.strip()
    return final_value(approximate) if approximate else text


def split_top_level(text: str, separator: str) -> list[str]:
    """Split on `separator` where no bracket of any kind is open."""
    parts, depth, start, index = [], 0, 0, 0
    while index < len(text):
        char = text[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith(separator, index):
            parts.append(text[start:index])
            start = index + len(separator)
            index = start
            continue
        index += 1
    parts.append(text[start:])
    return parts


def squeeze(text: str) -> str:
    """Remove whitespace, except the one space that ends a command name before a letter
    (`\\le x` must not become the unknown command `\\lex`)."""
    text = _COMMAND_BEFORE_LETTER.sub("\\1\0", text)
    return _WHITESPACE.sub("", text).replace("\0", " ")


def strip_assignment(text: str) -> str:
    """Drop a leading label: "x = 5", "f(x) = 5", "(p,q) = (3,2)" and "x \\in [0,1]" answer
    with their right side."""
    return _LEADING_VARIABLE.sub("", text)


_SHORTHAND = re.compile(r"\\(frac|binom|sqrt)(?![a-zA-Z])")
_COMMAND_NAME = re.compile(r"\\[a-zA-Z]+")
# Deeper nesting than this is no answer (and would exhaust the recursion).
_MAX_SHORTHAND_CHARS = 1000


def closing_bracket(text: str, start: int, opening: str = "{", closing: str = "}") -> int:
    """Index of the bracket closing the one opened at `start`, or -1."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == opening:
            depth += 1
        elif text[index] == closing:
            depth -= 1
            if depth == 0:
                return index
    return -1


def _argument(text: str, start: int) -> tuple[str, int] | None:
    """The next TeX argument from `start`: a braced group's content, one character, or one
    command name; with the index after it. None when there is no argument."""
    index = start
    while index < len(text) and text[index] == " ":
        index += 1
    if index == len(text):
        return None
    if text[index] == "{":
        end = closing_bracket(text, index)
        return None if end < 0 else (text[index + 1 : end], end + 1)
    if text[index].isalnum():
        return text[index], index + 1
    command = _COMMAND_NAME.match(text, index)
    return (command.group(), command.end()) if command else None


def expand_shorthand(text: str) -> str:
    """Brace the arguments of `\\frac`, `\\binom` and `\\sqrt` as TeX reads them:
    `\\frac94\\pi` is `\\frac{9}{4}\\pi`, `\\frac{270}7` is `\\frac{270}{7}`, `\\sqrt3` is
    `\\sqrt{3}`. The LaTeX parser accepts only the braced form."""
    if len(text) > _MAX_SHORTHAND_CHARS or not _SHORTHAND.search(text):
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        command = _SHORTHAND.match(text, index)
        if not command:
            out.append(text[index])
            index += 1
            continue
        out.append(command.group())
        index = command.end()
        arguments = 2
        if command.group(1) == "sqrt":
            arguments = 1
            while index < len(text) and text[index] == " ":
                index += 1
            if text.startswith("[", index):
                end = closing_bracket(text, index, "[", "]")
                if end < 0:
                    return text
                out.append(f"[{expand_shorthand(text[index + 1 : end])}]")
                index = end + 1
        for _ in range(arguments):
            argument = _argument(text, index)
            if argument is None:
                break
            out.append(f"{{{expand_shorthand(argument[0])}}}")
            index = argument[1]
    return "".join(out)


# A plain number: integer, decimal, scientific, or a fraction of two integers.
_PLAIN_NUMBER = re.compile(
    r"^(?P<sign>[-+]?)(?:"
    r"(?P<decimal>\d+(?:\.\d*)?|\.\d+)(?:(?:e|E|\\times10\^|\*10\^)\{?(?P<exponent>[-+]?\d+)\}?)?"
    r"|\\frac\{(?P<fn>\d+)\}\{(?P<fd>\d+)\}|\\frac(?P<fn1>\d)(?P<fd1>\d)|(?P<sn>\d+)/(?P<sd>\d+)"
    r")$"
)
# Longer numbers are compared by their digits: Python refuses to convert beyond 4300
# digits, and no benchmark answer comes near it.
_MAX_DIGITS = 1000


def parse_number(text: str) -> Fraction | None:
    """The exact value of a normalised plain number, or None if it is not one."""
    if len(text) > _MAX_DIGITS:
        return None
    match = _PLAIN_NUMBER.match(text)
    if not match:
        return None
    sign = -1 if match.group("sign") == "-" else 1
    if match.group("decimal") is not None:
        exponent = int(match.group("exponent") or 0)
        if abs(exponent) > 400:  # 10^{10^6} is no answer to these benchmarks
            return None
        return sign * Fraction(match.group("decimal")) * Fraction(10) ** exponent
    numerator = match.group("fn") or match.group("fn1") or match.group("sn")
    denominator = match.group("fd") or match.group("fd1") or match.group("sd")
    if int(denominator) == 0:
        return None
    return sign * Fraction(int(numerator), int(denominator))
