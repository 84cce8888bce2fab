"""Read a judge's vote from its reply."""

from __future__ import annotations

import re

from lm_eval_passk.grading.extract import last_boxed

_WRAPPER = re.compile(r"\\text\{([^{}]*)\}|\\textbf\{([^{}]*)\}|\\mathrm\{([^{}]*)\}")


def parse_vote(reply: str) -> str:
    """"yes" or "no" from the reply's last `\\boxed{}`; anything else abstains."""
    boxed = last_boxed(reply)
    if boxed is None:
        return "abstain"
    word = _WRAPPER.sub(lambda m: next(g for g in m.groups() if g is not None), boxed)
    word = word.strip().strip(".").strip().lower()
    return word if word in ("yes", "no") else "abstain"
