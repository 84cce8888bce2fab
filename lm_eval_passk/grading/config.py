"""The math grading modes, as explicit configuration objects.

`default` is this project's grader; `strict` is the default without its no-box fallback;
`paper` follows the decision rules of the pipeline
Yue et al. 2025 graded with (shared/docs/PROTOCOL.md), for users who must reproduce
published numbers. docs/GRADING.md gives the evidence for every value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class MathGraderConfig:
    name: str
    # Extraction
    skip_thinking: bool  # ignore text inside <think>...</think>
    use_markdown_bold: bool  # "**42**" counts as a stated answer
    last_number_benchmarks: frozenset[str]  # benchmarks whose convention falls back to the last number
    last_math_fallback: bool  # other benchmarks fall back to the last math of a finished response
    # Equivalence
    exact_integers: bool  # two integers compare exactly, whatever the tolerance
    relative_tolerance: float  # for other numbers and constant expressions
    percent_variants: bool  # also accept answer == gold / 100 or gold * 100
    bracket_types_matter: bool  # [2,5) is not (2,5)
    unordered_lists: bool  # a bare "1, 2" equals "2, 1"
    timeout_seconds: float  # per symbolic comparison; a timeout counts as wrong


DEFAULT = MathGraderConfig(
    name="default",
    skip_thinking=True,
    use_markdown_bold=True,
    last_number_benchmarks=frozenset({"gsm8k"}),
    last_math_fallback=True,
    exact_integers=True,
    relative_tolerance=1e-9,
    percent_variants=False,
    bracket_types_matter=True,
    unordered_lists=True,
    timeout_seconds=5.0,
)

PAPER = MathGraderConfig(
    name="paper",
    skip_thinking=False,
    use_markdown_bold=False,
    last_number_benchmarks=frozenset(
        {"gsm8k", "math500", "aime24", "minerva_math", "aime25", "amc23", "olympiadbench"}
    ),
    last_math_fallback=False,
    exact_integers=False,
    relative_tolerance=1e-4,
    percent_variants=True,
    bracket_types_matter=False,
    unordered_lists=False,
    timeout_seconds=3.0,
)

# The default without its no-box fallback: a response that neither boxes nor states its
# answer has none (docs/GRADING.md, "No box": the evidence for the default's choice).
STRICT = replace(DEFAULT, name="strict", last_math_fallback=False)

CONFIGS = {config.name: config for config in (DEFAULT, STRICT, PAPER)}


def grader_config(name: str) -> MathGraderConfig:
    """The configuration named `name` ("default", "strict" or "paper")."""
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(
            f"unknown grader {name!r}; expected one of {', '.join(sorted(CONFIGS))}"
        ) from None
