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
    "mph kph "
    "J kJ eV keV MeV GeV W kW MW N Pa kPa atm K Hz kHz MHz GHz V mV A mA "
    "L mL l ml mol nm um pc kpc Mpc ly AU erg"
).split()
_UNIT_WORD = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_TRAILING_UNITS = re.compile(
    rf"^(?P<value>.*?[\d}}])\s*(?:(?:{_UNIT_WORD})(?:\^\{{?[23]\}}?|[23])?(?:/|\s|\.|$))+$"
)
_TEXT_COMMANDS = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
_LEADING_VARIABLE = re.compile(r"^\\?[a-zA-Z]+(?:_\{?\w+\}?)?\s*(?:=|\\in)\s*(?=\S)")
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
# LaTeX spacing commands; not the `\\` row break of a matrix followed by a space.
_SPACING = re.compile(r"(?<!\\)\\[,;:! ]|\\quad|\\qquad|\\displaystyle|~")
_DEGREES = re.compile(r"\^\s*\{?\\circ\}?|°|\\degree")


def _strip_delimiters(text: str) -> str:
    text = text.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if text.startswith(left) and text.endswith(right) and len(text) > len(left) + len(right):
            text = text[len(left) : -len(right)].strip()
    return text


@lru_cache(maxsize=65536)
def normalize(answer: str) -> str:
    """Canonical form: no math delimiters, spacing, sizing, units, degrees, percent or
    dollar signs, `\\text{}` wrappers, leading `x =`, or thousands separators."""
    text = _strip_delimiters(answer)
    text = text.replace("\\left", "").replace("\\right", "")
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\dbinom", "\\binom")
    text = _SPACING.sub(" ", text)
    text = _DEGREES.sub("", text)
    text = text.replace("\\%", "").replace("%", "").replace("\\$", "").replace("$", "")
    text = text.replace("{,}", ",")
    text = _TEXT_COMMANDS.sub(lambda match: f" {match.group(1)} ", text)
    text = text.strip().rstrip(".").strip()
    units = _TRAILING_UNITS.match(text)
    if units:
        text = units.group("value")
    text = strip_assignment(text)
    text = re.sub(r"\s+", "", text)
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    return text


def strip_assignment(text: str) -> str:
    """Drop a leading `x =` or `x \\in`: "x = 5" answers "5"."""
    return _LEADING_VARIABLE.sub("", text)


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
