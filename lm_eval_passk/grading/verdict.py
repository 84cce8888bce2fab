"""The result of grading one response."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """Whether one response is correct, what answer was read from it, and why."""

    correct: bool
    answer: str | None
    reason: str  # "match", "mismatch", "no_answer", "timeout" or "error: ..."

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
