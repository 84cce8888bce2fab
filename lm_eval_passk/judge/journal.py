"""The judgement journal: one JSON line per judge vote, appended the moment it arrives.

It lives next to the samples file it judges (`judgements_<task>_<date>.jsonl` beside
`samples_<task>_<date>.jsonl`), so a rerun after a crash or a kill resumes where the last
one stopped and never asks for a vote twice. No lm-eval import: the analysis reads it too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

_SAMPLES_PREFIX = "samples_"


@dataclass(frozen=True)
class VoteKey:
    judge: str
    problem_id: str
    response: int  # index of the response among the problem's n
    vote: int  # 0 .. votes-1


def journal_path(samples_path: Path) -> Path:
    name = samples_path.name.removesuffix(".gz").removesuffix(".jsonl")
    return samples_path.with_name(f"judgements_{name.removeprefix(_SAMPLES_PREFIX)}.jsonl")


def _keys_and_votes(path: Path) -> list[tuple[VoteKey, str]]:
    entries = []
    if not path.exists():
        return entries
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill: that vote was not recorded
            key = VoteKey(entry["judge"], entry["problem_id"], entry["response"], entry["vote"])
            entries.append((key, entry["verdict"]))
    return entries


class Journal:
    """Append-only record of votes; knows which votes are already done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done = {key for key, _ in _keys_and_votes(path)}
        self._file = None

    def __contains__(self, key: VoteKey) -> bool:
        return key in self.done

    def record(self, key: VoteKey, verdict: str, reply: str) -> None:
        if key in self.done:
            return
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        entry = {**asdict(key), "verdict": verdict, "reply": reply[-2000:]}
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()  # in the kernel's hands now: survives a kill of this process
        self.done.add(key)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_votes(samples_path: Path, judge: str | None = None) -> dict[tuple[str, int], list[str]] | None:
    """Votes per (problem id, response index) from the journal beside a samples file, for
    one judge (the only one there, or `judge`); None when there is no journal."""
    entries = _keys_and_votes(journal_path(samples_path))
    if not entries:
        return None
    judges = sorted({key.judge for key, _ in entries})
    if judge is None and len(judges) > 1:
        raise ValueError(f"{journal_path(samples_path)} holds several judges ({', '.join(judges)}): choose one with --judge")
    chosen = judge or judges[0]
    votes: dict[tuple[str, int], dict[int, str]] = defaultdict(dict)
    for key, verdict in entries:
        if key.judge == chosen:
            votes[(key.problem_id, key.response)][key.vote] = verdict
    return {response: [v[i] for i in sorted(v)] for response, v in votes.items()}
