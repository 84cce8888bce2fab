"""The pass@k filter: keep all n responses of every problem and grade them in one pass.

lm-eval's default filter (`take_first`) keeps one response per problem; this one replaces
it. Before grading, the raw responses are written to disk so a grading failure loses
nothing the GPU produced.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from lm_eval.api.filter import Filter

from lm_eval_passk.grading import Verdict, grade_many
from lm_eval_passk.metrics.sampling import (
    LONG_RESPONSE_CHARS,
    DuplicateCount,
    all_identical,
    count_duplicates,
    identical_fraction,
    repeated_fraction,
    sampling_is_degenerate,
    sampling_is_duplicated,
)
from lm_eval_passk.run_format import (
    PROBLEM_ID,
    GradingSettings,
    grading_target,
    verdict_json,
)

# A child of lm-eval's logger, so our lines show up where and when lm-eval's do.
log = logging.getLogger("lm_eval.passk")

RAW_DIR_VARIABLE = "LM_EVAL_PASSK_RAW_DIR"


def raw_responses_dir() -> Path:
    """Where raw responses are saved: $LM_EVAL_PASSK_RAW_DIR or ~/.cache/lm_eval_passk/raw."""
    configured = os.environ.get(RAW_DIR_VARIABLE)
    return Path(configured) if configured else Path.home() / ".cache" / "lm_eval_passk" / "raw"


def save_raw_responses(
    benchmark: str, resps: Sequence[Sequence[str]], docs: Sequence[dict[str, Any]]
) -> Path:
    """Write every problem's responses as JSON lines; return the file's path."""
    directory = raw_responses_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = directory / f"{benchmark}_{stamp}_{os.getpid()}.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for doc, responses in zip(docs, resps):
            record = {"problem_id": doc[PROBLEM_ID], "responses": list(responses)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def warn_if_degenerate(task: str, resps: Sequence[Sequence[str]]) -> float:
    """Log a loud warning when most problems' responses are identical; return the fraction."""
    fraction = identical_fraction(resps)
    if sampling_is_degenerate(fraction):
        log.warning(
            "\n%s\n%s: %.0f%% of problems got n identical responses. pass@k for k > 1 is "
            "meaningless. Causes: greedy decoding (do_sample false / temperature 0), a "
            "`seed` in generation kwargs, or --use_cache hits.\n%s",
            "!" * 80, task, 100 * fraction, "!" * 80,
        )
    return fraction


def warn_if_duplicated(task: str, duplicates: Sequence[DuplicateCount]) -> float:
    """Log a loud warning when more than 5% of long responses repeat another response of
    their problem; return that fraction, pooled over this process's problems."""
    fraction = repeated_fraction(duplicates)
    if sampling_is_duplicated(fraction):
        log.warning(
            "\n%s\n%s: %.1f%% of long responses (%d of %d over %d characters) exactly repeat "
            "another response of the same problem. Long samples essentially never repeat at "
            "temperature > 0, so these are duplicated draws and pass@k at large k rests on "
            "less evidence than n says. Likely causes: two jobs or shards run with the same "
            "seed and merged (lm-eval's vLLM backend seeds every engine with 1234 unless "
            "--model_args sets seed=...), vLLM data_parallel_size > 1 (every worker gets the "
            "same seed), or --use_cache hits.\n%s",
            "!" * 80, task, 100 * fraction,
            sum(d.repeated_responses for d in duplicates),
            sum(d.long_responses for d in duplicates), LONG_RESPONSE_CHARS, "!" * 80,
        )
    return fraction


class GradedResponses(list):
    """One problem's verdicts, one compact JSON string per response (lm-eval logs a filter's
    output as strings, so JSON keeps it machine-readable), plus the counts pass@k needs and
    the sampling guards' marks: all responses identical, long responses repeated."""

    def __init__(
        self, verdicts: Sequence[Verdict], identical: bool, duplicates: DuplicateCount
    ) -> None:
        super().__init__(verdict_json(v) for v in verdicts)
        self.n_correct = sum(v.correct for v in verdicts)
        self.identical = identical
        self.duplicates = duplicates
        self.reasons = Counter(v.reason for v in verdicts)


class GradeAllResponses(Filter):
    """Grade all n responses of all problems in one pass; one GradedResponses per problem.
    Its options are the task's grading settings (PassKTask puts them in the filter config)."""

    def __init__(
        self, benchmark: str, grader: str = "default", response_prefix: str = "",
        require_sandbox: bool = False, n: int | None = None,
    ) -> None:
        self.settings = GradingSettings(benchmark, grader, response_prefix, require_sandbox)
        self.n = n  # samples per problem; more are lm-eval's data-parallel padding

    def apply(
        self, resps: Iterable[Sequence[str]], docs: list[dict[str, Any]]
    ) -> list[GradedResponses]:
        resps = [list(responses) for responses in resps]
        if not docs:
            return []
        settings = self.settings
        path = save_raw_responses(settings.benchmark, resps, docs)
        log.info("%s: raw responses of %d problems saved to %s", settings.benchmark, len(docs), path)
        resps = self._without_padding(resps, docs)
        warn_if_degenerate(settings.benchmark, resps)
        # Counted on the generated text (without the response prefix, the same for all n).
        duplicates = [count_duplicates(responses) for responses in resps]
        warn_if_duplicated(settings.benchmark, duplicates)

        # All problems' responses in one call: one deduplicated, parallel pass.
        flat_responses = [
            settings.response_prefix + response for responses in resps for response in responses
        ]
        targets = [grading_target(doc) for doc in docs]
        flat_targets = [target for target, responses in zip(targets, resps) for _ in responses]
        verdicts = grade_many(
            settings.benchmark, flat_responses, flat_targets, grader=settings.grader,
            require_sandbox=settings.require_sandbox,
        )
        reasons = Counter(verdict.reason for verdict in verdicts)
        log.info(
            "%s: graded %d responses with the %s grader: %s",
            settings.benchmark, len(verdicts), settings.grader,
            ", ".join(f"{r} {c}" for r, c in reasons.most_common()),
        )

        graded, start = [], 0
        for responses, problem_duplicates in zip(resps, duplicates):
            problem_verdicts = verdicts[start : start + len(responses)]
            graded.append(
                GradedResponses(problem_verdicts, all_identical(responses), problem_duplicates)
            )
            start += len(responses)
        return graded

    def _without_padding(
        self, resps: Sequence[Sequence[str]], docs: Sequence[dict[str, Any]]
    ) -> list[Sequence[str]]:
        """The first n responses of each problem. Under data parallelism lm-eval evens out
        the ranks' request counts by repeating a rank's last problem, whose responses then
        number 2n (measured: 3 problems on 2 ranks gave one problem 8 of n = 4); graded as
        they are, that problem would count twice the samples of the others."""
        if self.n is None or all(len(responses) <= self.n for responses in resps):
            return list(resps)
        padded = [doc[PROBLEM_ID] for doc, r in zip(docs, resps) if len(r) > self.n]
        log.warning(
            "%s: lm-eval padded this process's share of problems (data parallelism): "
            "responses beyond n = %d of %s are not graded; they are in the raw file",
            self.settings.benchmark, self.n, ", ".join(map(str, padded)),
        )
        return [responses[: self.n] for responses in resps]
