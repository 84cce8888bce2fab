"""Guessable problems: the problems whose answer a model hits without reasoning, found from
an answer-only run before a large-k comparison (docs/ANALYSIS.md).

At k = 1024 a lucky guess counts as a solve. Yue et al. 2025 (Appendix D.2) ran Qwen2.5-7B
base on AIME24 with the answer asked for directly, sampled many times, and removed each
problem it answered correctly at a low but non-zero rate (below 5%): hit now and then, so
by chance. A problem answered directly at a high rate was kept, as easy rather than
guessable. 18 of the 30 problems remained; the list is not published.

The criterion here is theirs, on a run of the `answer-only` prompt (the problem, then "The
final answer is \\boxed{" and a few tokens): a problem is guessable when the answer-only
run hits it with a rate c/n in (0, threshold). Two structural checks explain a high direct
rate as guessing rather than ease, so a problem the run hits at all is also removed when
its gold answer appears in its statement, or when the gold is one of the benchmark's most
common gold answers. A problem the run never hits is kept. Alternatively the problems to
remove are given as a list of ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from lm_eval_passk.analysis.runs import read_task_run
from lm_eval_passk.grading.answer_groups import answer_classes
from lm_eval_passk.grading.math import MATH_BENCHMARKS
from lm_eval_passk.grading.normalize import normalize, parse_number
from lm_eval_passk.run_format import (
    RunError,
    benchmark_of,
    gold_answer,
    problem_id,
    problem_statement,
    read_rows,
    samples_files,
)

# Yue et al. 2025, Appendix D.2: "a low but non-zero probability (e.g., <5%)".
GUESS_THRESHOLD = 0.05
# "Among the few most common answers": the gold answers more frequent than the benchmark's
# sixth most frequent one (so at most five, ties kept together), each the gold of at least
# two problems. On the local copies: MATH500's 1, 2, 3, 4 and 6 (80 of 500 problems),
# AMC23's 7 and 5, AIME24's 104 (2 of 30 problems), none in AIME25.
COMMON_ANSWERS = 5
MIN_COMMON_PROBLEMS = 2
# A gold answer that is not a number counts as appearing in the statement only when it is
# this long: a one- or two-character answer (x, 2i, A) occurs in almost any statement.
MIN_TEXT_MATCH_CHARS = 3

GUESSED, IN_STATEMENT, COMMON_ANSWER, LISTED = "guessed", "in_statement", "common_answer", "listed"
REASONS = {
    GUESSED: "the answer-only run hits it at a rate in (0, threshold)",
    IN_STATEMENT: "the answer-only run hits it and its gold answer appears in the statement",
    COMMON_ANSWER: "the answer-only run hits it and its gold is one of the benchmark's most common answers",
    LISTED: "listed by --exclude-guessable",
}
# A number in a statement, not part of a longer number and not an exponent or index
# (x^2 does not state the answer 2).
_STATED_NUMBER = re.compile(r"(?<![\d.^_])\d+(?:\.\d+)?(?![\d])")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")  # a non-negative integer or decimal gold


def guess_reasons(n: int, c: int, threshold: float, in_statement: bool, common: bool) -> list[str]:
    """Why a problem the answer-only run hit c times in n is guessable (empty: it is not)."""
    if c == 0:
        return []
    reasons = [GUESSED] if c / n < threshold else []
    return reasons + [IN_STATEMENT] * in_statement + [COMMON_ANSWER] * common


def gold_in_statement(gold: str, statement: str) -> bool:
    """Whether a gold answer is written in the problem statement: a gold that is a plain
    non-negative number as a number of equal value (025 = 25 = 25.0), any other gold
    (fractions, expressions, negative numbers) as text of at least three characters."""
    written = normalize(gold)
    if _PLAIN_NUMBER.fullmatch(written):
        value = parse_number(written)
        return any(Fraction(token) == value for token in _STATED_NUMBER.findall(statement))
    text = gold.strip().strip("$").strip()
    return len(text) >= MIN_TEXT_MATCH_CHARS and text in statement


def common_golds(benchmark: str, golds: dict[str, str]) -> dict[str, int]:
    """The problems whose gold is one of the benchmark's most common gold answers, with
    how many problems share it; golds grouped by the grader's equivalence."""
    ids = list(golds)
    classes = answer_classes(benchmark, [golds[i] for i in ids], symbolic=False) or []
    sizes = sorted((len(members) for members in classes), reverse=True)
    # Larger than the sixth-largest class: at most five answers, and a tie is never split.
    cut = max(sizes[COMMON_ANSWERS] + 1 if len(sizes) > COMMON_ANSWERS else 0, MIN_COMMON_PROBLEMS)
    return {ids[i]: len(members) for members in classes if len(members) >= cut for i in members}


@dataclass
class TaskExclusion:
    """The problems of one task to leave out, why, and what the check saw."""

    source: str
    threshold: float | None  # None: a list of ids
    excluded: dict[str, list[str]] = field(default_factory=dict)  # problem -> reasons
    answer_only: dict[str, list[int]] = field(default_factory=dict)  # problem -> [n, c]
    flags: dict[str, list[str]] = field(default_factory=dict)  # structural checks that hold

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "threshold": self.threshold,
            "problems_checked": len(self.answer_only) if self.threshold is not None else None,
            "excluded": dict(sorted(self.excluded.items())),
            "answer_only": self.answer_only,
            "structural_flags": self.flags,
        }


def _statements_and_golds(samples: Any) -> tuple[dict[str, str], dict[str, str]]:
    statements: dict[str, str] = {}
    golds: dict[str, str] = {}
    for row in read_rows(samples.path):
        identity = problem_id(row)
        statement, gold = problem_statement(row), gold_answer(row, samples.settings)
        if statement is not None and isinstance(gold, str):
            statements.setdefault(identity, statement)
            golds.setdefault(identity, gold)
    return statements, golds


def from_answer_only_run(
    run_dir: Path, threshold: float, regrade: bool = False, grader: str | None = None
) -> dict[str, TaskExclusion]:
    """Per task of an answer-only run directory: its guessable problems (module doc)."""
    found = samples_files(run_dir)
    if not found:
        raise RunError(f"--exclude-guessable {run_dir}: no samples_*.jsonl files (an answer-only lm_eval run?)")
    exclusions = {}
    for task, samples in found.items():
        run = read_task_run(samples, regrade, grader)
        exclusion = TaskExclusion(str(run_dir), threshold)
        flags: dict[str, list[str]] = {}
        try:
            benchmark: str | None = benchmark_of(task, samples.settings)
        except RunError:
            benchmark = None
        if benchmark in MATH_BENCHMARKS:  # answers to compare; code and vision: hit rates only
            statements, golds = _statements_and_golds(samples)
            for problem, gold in golds.items():
                if gold_in_statement(gold, statements[problem]):
                    flags.setdefault(problem, []).append(IN_STATEMENT)
            for problem in common_golds(str(benchmark), golds):
                flags.setdefault(problem, []).append(COMMON_ANSWER)
        for problem, (n, c) in sorted(run.problems.items()):
            exclusion.answer_only[problem] = [n, c]
            found_flags = flags.get(problem, [])
            reasons = guess_reasons(n, c, threshold, IN_STATEMENT in found_flags, COMMON_ANSWER in found_flags)
            if reasons:
                exclusion.excluded[problem] = reasons
        exclusion.flags = {problem: flags[problem] for problem in sorted(flags)}
        exclusions[task] = exclusion
    return exclusions


def read_listed_ids(source: str) -> tuple[str, list[str]]:
    """(where, ids) from a file of problem ids (one per line, `#` starts a comment) or
    from comma-separated ids on the command line."""
    path = Path(source)
    if path.is_file():
        lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
        ids = [line for line in lines if line]
        if not ids:
            raise ValueError(f"--exclude-guessable {path}: no problem ids in the file")
        return str(path), ids
    ids = [part.strip() for part in source.split(",") if part.strip()]
    if not ids:
        raise ValueError("--exclude-guessable: expected an answer-only run directory, a file of ids or ids")
    return "--exclude-guessable", ids


def from_listed_ids(where: str, ids: Iterable[str], tasks: dict[str, set[str]]) -> tuple[dict[str, TaskExclusion], list[str]]:
    """Per task, the listed ids among its problems; and the listed ids no task has."""
    listed = set(ids)
    exclusions = {}
    for task, problems in tasks.items():
        exclusion = TaskExclusion(where, None)
        exclusion.excluded = {problem: [LISTED] for problem in sorted(listed & problems)}
        exclusions[task] = exclusion
    unknown = sorted(listed - set().union(*tasks.values()))
    return exclusions, unknown
