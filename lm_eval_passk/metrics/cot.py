"""CoT-Pass@k vote aggregation (Wen et al. 2025): which answer-correct responses count."""

from __future__ import annotations

from collections.abc import Sequence

RULES = ("any", "majority", "all")


def accepted(votes: Sequence[str], rule: str) -> bool:
    """Whether a response's judge votes ("yes", "no", "abstain") accept its reasoning:
    any: at least one yes; majority: more yes than no; all: every vote yes (an abstention
    fails it). So for every response all => majority => any."""
    yes, no = votes.count("yes"), votes.count("no")
    if rule == "any":
        return yes >= 1
    if rule == "majority":
        return yes > no
    if rule == "all":
        return bool(votes) and yes == len(votes)
    raise ValueError(f"unknown rule {rule!r}; expected one of {', '.join(RULES)}")
