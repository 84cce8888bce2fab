"""PassKTask: a YAML-configured lm-eval task whose repeats and metrics follow `n`."""

from __future__ import annotations

from collections import Counter
from typing import Any

from lm_eval.api.task import ConfigurableTask

from lm_eval_passk.metrics import pass_at_k, report_ks
from lm_eval_passk.metrics.sampling import sampling_is_degenerate
from lm_eval_passk.tasks._common.filter import GradedResponses
from lm_eval_passk.tasks._common.options import read_options
from lm_eval_passk.tasks._common.prompts import RESPONSE_PREFIXES

# Per problem, besides pass@k: the counts the estimator used, and whether all n
# responses were identical (its mean over problems is the run's degenerate-sampling mark).
COUNT_METRICS = ("n_samples", "n_correct", "identical_responses")


class PassKTask(ConfigurableTask):
    """Draws n samples per problem (`repeats`, overridable by `--metadata '{"n": ...}'`)
    and reports pass@k for k = 1, 2, 4, ..., n from the graded filter output."""

    def __init__(self, config: dict[str, Any]) -> None:
        config = {key: value for key, value in config.items() if key != "class"}
        options = read_options(config.get("metadata") or {})
        self.n: int = options.n if options.n is not None else int(config.get("repeats", 1))
        self.ks = report_ks(self.n)
        config["repeats"] = self.n
        if options.prompt in RESPONSE_PREFIXES:
            config["gen_prefix"] = RESPONSE_PREFIXES[options.prompt]
        config["metric_list"] = [
            {"metric": name, "aggregation": "mean", "higher_is_better": name != "identical_responses"}
            for name in [f"pass@{k}" for k in self.ks] + list(COUNT_METRICS)
        ]
        # A process_results in the config tells lm-eval not to look our metric names up in
        # its registry (and then in HF evaluate, over the network).
        config["process_results"] = self.process_results
        self._per_problem: dict[str, dict[str, Any]] = {}
        self._reasons: Counter[str] = Counter()
        self.grader = options.grader
        super().__init__(config=config)

    def process_results(self, doc: dict[str, Any], results: list[GradedResponses]) -> dict:
        (graded,) = results  # one request per problem; the filter packs its n verdicts
        n, c = len(graded), graded.n_correct
        self._reasons.update(graded.reasons)
        self._per_problem[doc["problem_id"]] = {
            "n_samples": n,
            "n_correct": c,
            "identical": graded.identical,
        }
        ks = [k for k in self.ks if k <= n]
        values = pass_at_k(n, c, ks)
        return {
            **{f"pass@{k}": float(value) for k, value in zip(ks, values)},
            "n_samples": n,
            "n_correct": c,
            "identical_responses": float(graded.identical),
        }

    def dump_config(self) -> dict:
        """The task config, plus a `passk` block: every problem's n and c, and the
        degenerate-sampling mark (results_*.json keeps this under configs.TASK.passk)."""
        config = super().dump_config()
        flags = [problem["identical"] for problem in self._per_problem.values()]
        fraction = sum(flags) / len(flags) if flags else 0.0
        config["passk"] = {
            "n": self.n,
            "ks": self.ks,
            "identical_fraction": fraction,
            "sampling_degenerate": sampling_is_degenerate(fraction),
            # How each response's verdict was reached; timeouts and parse errors count as
            # wrong and are reported here, never raised.
            "grading": {"grader": self.grader, "reasons": dict(self._reasons)},
            "problems": self._per_problem,
        }
        return config
