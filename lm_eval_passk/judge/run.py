"""Judge the reasoning of answer-correct responses with any lm-eval model.

The judge is an lm-eval LM (vllm, hf, local-chat-completions, ...) called through lm-eval's
own model API (`generate_until`), not a client of our own. Each answer-correct response is
judged exactly `votes` times; replies are parsed once (an unparseable one abstains) and
never retried; only lm-eval's transport retries apply. Every vote is journaled the moment
lm-eval hands it over, through the LM's cache hook.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lm_eval.api.instance import Instance
from lm_eval.api.model import CacheHook

from lm_eval_passk.judge.verdict import parse_vote
from lm_eval_passk.progress import Progress
from lm_eval_passk.run_format import (
    GradedRow,
    Journal,
    SamplesFile,
    VoteKey,
    graded_rows,
    journal_path,
    samples_files,
)
from lm_eval_passk.tasks._common.sample_seeds import seeded_vote_kwargs

log = logging.getLogger("lm_eval.passk.judge")

DEFAULT_TEMPLATE = Path(__file__).with_name("judge_prompt.txt")
# Sampled, so that the votes of one response are independent draws.
DEFAULT_GEN_KWARGS = {"do_sample": True, "temperature": 0.6, "max_gen_toks": 4096, "until": []}
# Requests handed to lm-eval per generate_until call: large enough to batch well.
CHUNK = 64


def render_prompt(template: str, row: GradedRow, response: str) -> str:
    """Fill the template's {problem}, {reference} and {response}."""
    reference = str(row.doc.get("solution") or "").strip() or "(no reference solution)"
    problem = str(row.doc.get("problem") or row.doc.get("question") or "")
    return (
        template.replace("{problem}", problem)
        .replace("{reference}", reference)
        .replace("{response}", response)
    )


class _ArrivalHook(CacheHook):
    """lm-eval calls add_partial with each reply as it arrives: journal it right then.
    Votes of one response share a context; they are handed out in order."""

    def __init__(self, journal: Journal) -> None:
        super().__init__(None)
        self.journal = journal
        self.waiting: dict[str, deque[VoteKey]] = defaultdict(deque)

    def expect(self, context: Any, key: VoteKey) -> None:
        self.waiting[str(context)].append(key)

    def add_partial(self, attr: str, req: Any, res: Any) -> None:
        if attr != "generate_until":
            return
        queue = self.waiting.get(str(req[0]))
        if queue:
            self.journal.record(queue.popleft(), parse_vote(str(res)), str(res))


@dataclass
class JudgeStats:
    requested: int = 0
    already_done: int = 0
    votes: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _requests(
    samples: SamplesFile, lm: Any, judge: str, votes: int, template: str, chat: bool,
    journal: Journal, stats: JudgeStats,
) -> Iterator[tuple[VoteKey, Any]]:
    for row in graded_rows(samples):
        for index, (response, correct) in enumerate(zip(row.responses, row.correct)):
            if not correct:  # only answer-correct responses are judged
                continue
            keys = [VoteKey(judge, row.problem_id, index, vote) for vote in range(votes)]
            todo = [key for key in keys if key not in journal]
            stats.already_done += len(keys) - len(todo)
            if not todo:
                continue
            prompt = render_prompt(template, row, response)
            context = lm.apply_chat_template([{"role": "user", "content": prompt}]) if chat else prompt
            for key in todo:
                yield key, context


def judge_samples(
    lm: Any, samples: SamplesFile, judge: str, votes: int, template: str,
    gen_kwargs: dict[str, Any], chat: bool,
) -> JudgeStats:
    """Judge every answer-correct response of one samples file, resuming its journal."""
    journal = Journal(journal_path(samples.path))
    hook = _ArrivalHook(journal)
    lm.set_cache_hook(hook)
    stats = JudgeStats()
    progress = Progress(f"judging {samples.task}", unit="votes")
    batch: list[tuple[VoteKey, Any]] = []

    def send() -> None:
        for key, context in batch:
            hook.expect(context, key)
        instances = [
            Instance(
                "generate_until", {}, (context, seeded_vote_kwargs(lm, gen_kwargs, key.vote)),
                idx=0, metadata=("cot_judge", i, 1),
            )
            for i, (key, context) in enumerate(batch)
        ]
        replies = lm.generate_until(instances)
        # Replies lm-eval returned without passing them to the hook (e.g. an API's empty
        # content placeholder) are recorded here; they abstain.
        for (key, _), reply in zip(batch, replies):
            journal.record(key, parse_vote(str(reply)), str(reply))
        stats.requested += len(batch)
        progress.update(len(batch))
        batch.clear()

    try:
        for request in _requests(samples, lm, judge, votes, template, chat, journal, stats):
            batch.append(request)
            if len(batch) >= CHUNK:
                send()
        if batch:
            send()
    finally:
        progress.close()
        journal.close()
    return stats


def read_template(path: Path) -> str:
    """The judge prompt template, which must hold {problem} and {response}."""
    try:
        template = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"{path}: cannot read the judge prompt ({error.strerror})") from None
    missing = [p for p in ("{problem}", "{response}") if p not in template]
    if missing:
        raise ValueError(f"{path}: the template lacks {', '.join(missing)}")
    return template


def judge_run(
    run_dir: Path, lm: Any, judge: str, votes: int = 3, tasks: list[str] | None = None,
    template_path: Path = DEFAULT_TEMPLATE, gen_kwargs: dict[str, Any] | None = None, chat: bool = True,
) -> dict[str, JudgeStats]:
    """Judge the latest samples file of each task of a run (or only `tasks`)."""
    if votes < 1:
        raise ValueError("--votes must be at least 1")
    template = read_template(template_path)
    available = samples_files(run_dir)
    chosen = tasks or sorted(available)
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise ValueError(f"{run_dir}: no samples for {', '.join(unknown)} (have: {', '.join(sorted(available))})")
    results = {}
    for task in chosen:
        stats = judge_samples(
            lm, available[task], judge, votes, template, gen_kwargs or DEFAULT_GEN_KWARGS, chat
        )
        log.info("%s: %d votes requested, %d already in the journal", task, stats.requested, stats.already_done)
        results[task] = stats
    return results
