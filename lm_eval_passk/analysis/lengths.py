"""Response length per run: tokens under a tokenizer the user names (`--tokenizer`), else
characters; split by correct and incorrect responses, with the responses that hit the
generation limit (`max_gen_toks`) counted as truncated (docs/ANALYSIS.md).

lm-eval logs neither token counts nor why a generation stopped: a row holds the response
text and the generation settings it was requested with (run_format.generation_limit). So
tokens are counted by encoding the text again, and a response is truncated when that count
reaches the limit. The samples file is streamed once more (a file at n = 1024 runs to
gigabytes), and each response's verdict comes from the run already read (its
`correct_flags`, regraded or logged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from lm_eval_passk.analysis.runs import TaskRun
from lm_eval_passk.analysis.sides import compare_sides, report_sides
from lm_eval_passk.run_format import (
    generation_limit,
    problem_id,
    read_rows,
    responses_of,
)

CHARACTERS, TOKENS = "characters", "tokens"
# Encoding the decoded text again can give a few tokens fewer than were generated (a
# sampled non-canonical split merges), so a response within 1% of the limit counts as
# truncated: at max_gen_toks = 16,384 that is 164 tokens; below 100 tokens, exactly the
# limit. A response that ended by itself that close to the limit counts as truncated too.
TRUNCATION_MARGIN = 0.01
# Responses encoded per tokenizer call: the fast tokenizers encode a batch in parallel.
ENCODE_BATCH = 256
# Quantiles kept per run and subset; the figure's boxes are drawn from these alone.
PERCENTILES = {"p5": 5, "q1": 25, "median": 50, "q3": 75, "p95": 95}
SUBSETS = ("all", "correct", "incorrect")


@dataclass(frozen=True)
class LengthUnit:
    """How a response's length is counted: `count` maps texts to their lengths."""

    name: str  # CHARACTERS or TOKENS
    tokenizer: str | None
    count: Callable[[list[str]], list[int]]


def characters() -> LengthUnit:
    return LengthUnit(CHARACTERS, None, lambda texts: [len(text) for text in texts])


def tokens(name_or_path: str) -> LengthUnit:
    """Tokens under a Hugging Face tokenizer (a hub name or a local directory); a name
    that cannot be loaded is a ValueError naming it."""
    try:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError, ImportError) as error:  # not found, not a tokenizer, no transformers
        raise ValueError(f"--tokenizer {name_or_path}: cannot load it ({type(error).__name__}: {error})") from None

    def count(texts: list[str]) -> list[int]:
        encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]

    return LengthUnit(TOKENS, name_or_path, count)


def is_truncated(length: int, limit: int | None) -> bool:
    """Whether a response of `length` tokens hit a generation limit of `limit` tokens."""
    return limit is not None and length >= limit - int(limit * TRUNCATION_MARGIN)


@dataclass(frozen=True)
class Response:
    length: int
    correct: bool
    limit: int | None  # the row's max_gen_toks; None: not logged


def _responses(run: TaskRun, ids: set[str], unit: LengthUnit) -> Iterator[Response]:
    """Each response of the problems `ids`, in the samples' order, with its verdict."""
    seen: dict[str, int] = {}
    batch: list[tuple[str, bool, int | None]] = []

    def flush() -> Iterator[Response]:
        lengths = unit.count([text for text, _, _ in batch])
        yield from (Response(length, ok, limit) for length, (_, ok, limit) in zip(lengths, batch))
        batch.clear()

    for row in read_rows(run.source):
        identity = problem_id(row)
        if identity not in ids:
            continue
        texts = responses_of(row)  # as generated: without the task's response prefix
        start = seen.get(identity, 0)
        flags = run.correct_flags[identity][start : start + len(texts)]
        seen[identity] = start + len(texts)
        limit = generation_limit(row)
        batch += [(text, ok, limit) for text, ok in zip(texts, flags)]
        if len(batch) >= ENCODE_BATCH:
            yield from flush()
    if batch:
        yield from flush()


def _stats(lengths: list[int]) -> dict[str, Any]:
    array = np.array(lengths, dtype=float)
    stats: dict[str, Any] = {"responses": int(array.size), "mean": float(array.mean()) if array.size else None}
    for name, q in PERCENTILES.items():
        stats[name] = float(np.percentile(array, q)) if array.size else None
    stats["max"] = int(array.max()) if array.size else None
    return stats


def response_lengths(run: TaskRun, ids: list[str], unit: LengthUnit) -> dict[str, Any]:
    """{"unit", "tokenizer", "max_gen_toks", "all"/"correct"/"incorrect": quantiles,
    "truncated"}: truncated counts per subset in tokens where the rows logged their limit,
    else None with a `truncation_note` saying why."""
    lengths: dict[str, list[int]] = {subset: [] for subset in SUBSETS}
    truncated = dict.fromkeys(SUBSETS, 0)
    limits: set[int] = set()
    unlimited = False
    for response in _responses(run, set(ids), unit):
        subset = "correct" if response.correct else "incorrect"
        for name in ("all", subset):
            lengths[name].append(response.length)
        if response.limit is None:
            unlimited = True
            continue
        limits.add(response.limit)
        if unit.name == TOKENS and is_truncated(response.length, response.limit):
            truncated["all"] += 1
            truncated[subset] += 1
    summary: dict[str, Any] = {
        "unit": unit.name,
        "tokenizer": unit.tokenizer,
        "max_gen_toks": sorted(limits),
        **{subset: _stats(values) for subset, values in lengths.items()},
        "truncated": truncated,
    }
    if unit.name != TOKENS:
        summary["truncated"] = None
        summary["truncation_note"] = "lengths in characters: pass --tokenizer to count the responses that hit max_gen_toks"
    elif unlimited:
        summary["truncated"] = None
        summary["truncation_note"] = "the samples do not log max_gen_toks for every response"
    return summary


def add_to_report(document: dict[str, Any], runs: list[TaskRun], unit: LengthUnit) -> None:
    """Add `response_length` to every model summary of a report document."""
    for summary, run, ids in report_sides(document, runs):
        summary["response_length"] = response_lengths(run, ids, unit)


def add_to_compare(
    document: dict[str, Any], base_runs: list[TaskRun], rl_runs: list[list[TaskRun]], unit: LengthUnit
) -> None:
    """Add `response_length` to the base summary and every RL summary of a compare document, over
    the problems the compared runs share."""
    for summary, run, ids in compare_sides(document, base_runs, rl_runs):
        summary["response_length"] = response_lengths(run, ids, unit)
