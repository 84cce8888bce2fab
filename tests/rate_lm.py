"""A stand-in lm-eval model with known per-problem solve rates, for adaptive studies run
through the real `lm_eval`: a problem statement naming "rate p" is answered right (\\boxed{2})
with probability p, else wrong (\\boxed{3}). Draws use python's `random`, which lm_eval's
--seed seeds, so a job is reproducible and jobs with distinct seeds draw independently. Run
as a script: it registers the model and hands its arguments to lm-eval's own CLI."""

from __future__ import annotations

import random
import re
import sys

from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

RATE = re.compile(r"rate ([0-9.]+)")


@register_model("passk-rate-stand-in")
class RateStandIn(LM):
    def __init__(self, **kwargs: object) -> None:
        super().__init__()

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        replies = []
        for request in requests:
            rate = float(RATE.search(request.args[0]).group(1))
            answer = 2 if random.random() < rate else 3
            # Long and distinct, as sampled chains of thought are (the duplicate guard).
            replies.append(f"Attempt {random.getrandbits(64):016x}: " + "checking each step. " * 12 + f"\\boxed{{{answer}}}")
        return replies

    def loglikelihood(self, requests):
        raise NotImplementedError

    def loglikelihood_rolling(self, requests):
        raise NotImplementedError


if __name__ == "__main__":
    from lm_eval.__main__ import cli_evaluate

    sys.argv = ["lm_eval", *sys.argv[1:]]
    cli_evaluate()
