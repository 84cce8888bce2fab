"""Score each response of a run by its perplexity under any lm-eval model.

Perplexity of a response = exp(mean negative log-likelihood of its tokens), given its own
context: the prompt lm-eval sent plus the response prefix the task opened the model's turn
with (run_format.prompted_rows). The model is an lm-eval LM (hf, vllm, local-completions
with logprobs) called through lm-eval's own `loglikelihood`, not a client of ours. Token
counts and the context check use the model's `_encode_pair` and `max_length`, which every
lm-eval TemplateLM has; a model without them is refused by name. Each score is appended to
the perplexity file the moment lm-eval hands it over (the LM's cache hook), so a killed run
resumes without scoring anything twice.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lm_eval.api.instance import Instance
from lm_eval.api.model import CacheHook

from lm_eval_passk.progress import Progress
from lm_eval_passk.run_format import (
    TRUNCATED_PROMPT,
    TRUNCATED_RESPONSE,
    Perplexity,
    PerplexityLog,
    PromptedRow,
    SamplesFile,
    ScoreKey,
    perplexity_path,
    prompted_rows,
    samples_files,
)

log = logging.getLogger("lm_eval.passk.perplexity")

# Responses handed to lm-eval per loglikelihood call: lm-eval batches within a call
# (--batch_size), and a kill loses at most what a call has not handed to the hook yet.
CHUNK = 64


@dataclass(frozen=True)
class Request:
    key: ScoreKey
    context: str
    response: str
    tokens: int
    truncated: str | None


@dataclass
class ScoreStats:
    requested: int = 0  # sent to the model
    already_done: int = 0  # in the perplexity file from an earlier run
    not_scored: int = 0  # empty, or longer than the model's context alone
    truncated_prompt: int = 0


class _ArrivalHook(CacheHook):
    """lm-eval calls add_partial with each (context, response) score as it arrives, in its
    own (length-sorted) order: record it right then. Identical pairs score identically, so
    their keys are handed out in any order."""

    def __init__(self, log_file: PerplexityLog) -> None:
        super().__init__(None)
        self.log_file = log_file
        self.waiting: dict[tuple[str, str], deque[Request]] = defaultdict(deque)

    def expect(self, request: Request) -> None:
        self.waiting[(request.context, request.response)].append(request)

    def add_partial(self, attr: str, req: Any, res: Any) -> None:
        if attr != "loglikelihood":
            return
        queue = self.waiting.get((str(req[0]), str(req[1])))
        if queue:
            self.log_file.record(scored(queue.popleft(), float(res[0])))


def scored(request: Request, logprob: float) -> Perplexity:
    """The entry for a response whose tokens sum to `logprob`."""
    return Perplexity(request.key, request.tokens, -logprob / request.tokens, request.truncated)


def _tokenizer_of(lm: Any) -> tuple[Any, int]:
    """The model's `_encode_pair` and `max_length`: the tokens lm-eval scores and the
    context they must fit in. Without them no count or truncation could be trusted."""
    encode, max_length = getattr(lm, "_encode_pair", None), getattr(lm, "max_length", None)
    if encode is None or not isinstance(max_length, int):
        raise ValueError(
            f"perplexity needs an lm-eval TemplateLM (hf, vllm, local-completions, ...) for its "
            f"token counts and context length; {type(lm).__name__} has no _encode_pair/max_length"
        )
    return encode, max_length


def chosen_responses(row: PromptedRow, per_problem: int | None, seed: int) -> list[int]:
    """Indices of the responses to score: all, or `per_problem` drawn without replacement,
    seeded per problem (the same draw on every rerun, whatever else the run holds)."""
    indices = list(range(len(row.responses)))
    if per_problem is None or per_problem >= len(indices):
        return indices
    return sorted(random.Random(f"{seed}:{row.problem_id}").sample(indices, per_problem))


def _requests(
    samples: SamplesFile, lm: Any, scorer: str, per_problem: int | None, seed: int,
    log_file: PerplexityLog, stats: ScoreStats,
) -> Iterator[Request]:
    encode, max_length = _tokenizer_of(lm)
    for row in prompted_rows(samples):
        for index in chosen_responses(row, per_problem, seed):
            key = ScoreKey(scorer, row.problem_id, index)
            if key in log_file:
                stats.already_done += 1
                continue
            response = row.responses[index]
            context_tokens, response_tokens = encode(row.context, response) if response else ([], [])
            tokens = len(response_tokens)
            # lm-eval keeps the last max_length tokens of prompt + response (hf keeps one
            # more, vllm exactly max_length): at least one prompt token must stay, so a
            # response of max_length tokens or more is not scored at all.
            if tokens == 0 or tokens >= max_length:
                truncated = TRUNCATED_RESPONSE if tokens else None
                log_file.record(Perplexity(key, tokens, None, truncated))
                stats.not_scored += 1
                continue
            truncated = TRUNCATED_PROMPT if len(context_tokens) + tokens > max_length else None
            stats.truncated_prompt += truncated is not None
            yield Request(key, row.context, response, tokens, truncated)


def score_samples(
    lm: Any, samples: SamplesFile, scorer: str, per_problem: int | None = None, seed: int = 0
) -> ScoreStats:
    """Score the responses of one samples file (all, or `per_problem` of each problem),
    resuming its perplexity file."""
    log_file = PerplexityLog(perplexity_path(samples.path))
    hook = _ArrivalHook(log_file)
    lm.set_cache_hook(hook)
    stats = ScoreStats()
    progress = Progress(f"perplexity {samples.task}", unit="responses")
    batch: list[Request] = []

    def send() -> None:
        for request in batch:
            hook.expect(request)
        instances = [
            Instance("loglikelihood", {}, (r.context, r.response), idx=i, metadata=("passk_perplexity", i, 1))
            for i, r in enumerate(batch)
        ]
        # Scores lm-eval returned without passing them to the hook are recorded here (the
        # log ignores keys it holds already).
        for request, (logprob, _) in zip(batch, lm.loglikelihood(instances)):
            log_file.record(scored(request, float(logprob)))
        stats.requested += len(batch)
        progress.update(len(batch))
        batch.clear()

    try:
        for request in _requests(samples, lm, scorer, per_problem, seed, log_file, stats):
            batch.append(request)
            if len(batch) >= CHUNK:
                send()
        if batch:
            send()
    finally:
        progress.close()
        log_file.close()
    return stats


def score_run(
    run_dir: Path, lm: Any, scorer: str, tasks: list[str] | None = None,
    per_problem: int | None = None, seed: int = 0,
) -> dict[str, ScoreStats]:
    """Score the latest samples file of each task of a run (or only `tasks`)."""
    if per_problem is not None and per_problem < 1:
        raise ValueError("--per-problem must be at least 1")
    available = samples_files(run_dir)
    chosen = tasks or sorted(available)
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise ValueError(f"{run_dir}: no samples for {', '.join(unknown)} (have: {', '.join(sorted(available))})")
    results = {}
    for task in chosen:
        stats = score_samples(lm, available[task], scorer, per_problem, seed)
        log.info("%s: %d responses scored, %d already in the file", task, stats.requested, stats.already_done)
        results[task] = stats
    return results
