"""PassKTask: a YAML-configured lm-eval task whose repeats and metrics follow `n`."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, fields
from typing import Any

from lm_eval.api.task import ConfigurableTask

from lm_eval_passk.metrics import pass_at_k, report_ks
from lm_eval_passk.metrics.sampling import (
    DuplicateCount,
    repeated_fraction,
    sampling_is_degenerate,
    sampling_is_duplicated,
)
from lm_eval_passk.run_format import (
    PROBLEM_ID,
    RESULTS_BLOCK,
    SAMPLE_SEEDS,
    GradingSettings,
)
from lm_eval_passk.tasks._common.dataset import BenchmarkLoader
from lm_eval_passk.tasks._common.filter import GradeAllResponses, GradedResponses
from lm_eval_passk.tasks._common.options import check_prompt_fits, read_options
from lm_eval_passk.tasks._common.prompts import (
    RESPONSE_MAX_GEN_TOKS,
    RESPONSE_PREFIXES,
    RESPONSE_STOPS,
)
from lm_eval_passk.tasks._common.sample_seeds import sample_seed_record

# Per problem, besides pass@k: the counts the estimator used, whether all n responses
# were identical (its mean over problems is the run's degenerate-sampling mark) and the
# fraction of its long responses that repeat another (the passk block pools these).
COUNT_METRICS = ("n_samples", "n_correct", "identical_responses", "duplicate_responses")
# The sampling guards' metrics: lower is better.
GUARD_METRICS = ("identical_responses", "duplicate_responses")
# A metric whose per-problem value is that problem's counts and reasons; its aggregation
# builds the results' passk block from what lm-eval gathered from every rank.
PROBLEMS_METRIC = "problems"
# A problem's duplicate counts, under these names in its `problems` item and passk entry.
DUPLICATE_COUNTS = tuple(field.name for field in fields(DuplicateCount))


class PassKTask(ConfigurableTask):
    """Draws n samples per problem (`repeats`, overridable by `--metadata '{"n": ...}'`)
    and reports pass@k for k = 1, 2, 4, ..., n from the graded filter output.

    `--metadata` is read once, here: the grading settings become the options of the
    `passk` filter and are recorded once, in the results' `passk` block; the docs hold
    only the problems."""

    def __init__(self, config: dict[str, Any]) -> None:
        config = {key: value for key, value in config.items() if key != "class"}
        loader = config.get("custom_dataset")
        if not isinstance(loader, BenchmarkLoader):
            raise TypeError(
                f"task {config.get('task')!r}: custom_dataset must be a BenchmarkLoader "
                "(lm_eval_passk.tasks._common.dataset), as in the bundled task folders"
            )
        self.loader = loader
        self.metadata: dict[str, Any] = dict(config.get("metadata") or {})
        self.options = read_options(self.metadata)
        check_prompt_fits(str(config.get("task")), self.options.prompt, loader.prompt_kind)
        self.settings = GradingSettings(
            benchmark=loader.benchmark,
            grader=self.options.grader,
            response_prefix=RESPONSE_PREFIXES.get(self.options.prompt, ""),
            require_sandbox=self.options.require_sandbox,
        )
        self.n: int = self.options.n if self.options.n is not None else int(config.get("repeats", 1))
        self.ks = report_ks(self.n)
        config["repeats"] = self.n
        if self.settings.response_prefix:
            config["gen_prefix"] = self.settings.response_prefix
        if self.options.prompt in RESPONSE_STOPS:
            generation = dict(config.get("generation_kwargs") or {})
            generation["until"] = [*generation.get("until", []), *RESPONSE_STOPS[self.options.prompt]]
            config["generation_kwargs"] = generation
        if self.options.prompt in RESPONSE_MAX_GEN_TOKS:  # answer-only: no room to reason
            generation = dict(config.get("generation_kwargs") or {})
            generation["max_gen_toks"] = RESPONSE_MAX_GEN_TOKS[self.options.prompt]
            config["generation_kwargs"] = generation
        # Keep and grade all n responses (lm-eval's default `take_first` keeps only one).
        config["filter_list"] = [
            {
                "name": "passk",
                "filter": [
                    {"function": GradeAllResponses, **self.settings.to_dict(), "n": self.n}
                ],
            }
        ]
        config["metric_list"] = [
            {"metric": name, "aggregation": "mean", "higher_is_better": name not in GUARD_METRICS}
            for name in [f"pass@{k}" for k in self.ks] + list(COUNT_METRICS)
        ] + [
            {"metric": PROBLEMS_METRIC, "aggregation": self._collect_problems, "higher_is_better": True}
        ]
        # A process_results in the config tells lm-eval not to look our metric names up in
        # its registry (and then in HF evaluate, over the network).
        config["process_results"] = self.process_results
        self._per_problem: dict[str, dict[str, Any]] = {}
        self._reasons: Counter[str] = Counter()
        super().__init__(config=config)

    def download(self, dataset_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """The problems, from the options read in __init__ (not read again)."""
        self.dataset = self.loader.dataset(self.options, self.metadata)

    def process_results(self, doc: dict[str, Any], results: list[GradedResponses]) -> dict:
        (graded,) = results  # one request per problem; the filter packs its n verdicts
        n, c = len(graded), graded.n_correct
        ks = [k for k in self.ks if k <= n]
        values = pass_at_k(n, c, ks)
        return {
            **{f"pass@{k}": float(value) for k, value in zip(ks, values)},
            "n_samples": n,
            "n_correct": c,
            "identical_responses": float(graded.identical),
            "duplicate_responses": repeated_fraction([graded.duplicates]),
            PROBLEMS_METRIC: {
                "id": doc[PROBLEM_ID], "n": n, "c": c, "identical": graded.identical,
                **asdict(graded.duplicates), "reasons": dict(graded.reasons),
            },
        }

    def _collect_problems(self, items: list[dict[str, Any]]) -> int:
        """The `problems` metric's aggregation: lm-eval calls it once, on rank 0, with every
        rank's per-problem items, before dump_config. Building the passk block here (not
        from process_results, which each rank runs on its own share) keeps it complete
        under data parallelism. Returns the number of problems."""
        self._per_problem = {
            item["id"]: {
                "n_samples": item["n"], "n_correct": item["c"], "identical": item["identical"],
                # The counts, not the fraction: a merge of runs pools them exactly.
                **{name: item[name] for name in DUPLICATE_COUNTS},
            }
            for item in items
        }
        self._reasons = Counter()
        for item in items:
            self._reasons.update(item["reasons"])
        return len(items)

    def dump_config(self) -> dict:
        """The task config, plus a `passk` block: the grading settings, every problem's n
        and c, and the sampling guards' marks (results_*.json keeps this under
        configs.TASK.passk; lm_eval_passk.run_format reads it)."""
        config = super().dump_config()
        problems = self._per_problem.values()
        flags = [problem["identical"] for problem in problems]
        fraction = sum(flags) / len(flags) if flags else 0.0
        duplicated = repeated_fraction(
            DuplicateCount(**{name: problem[name] for name in DUPLICATE_COUNTS})
            for problem in problems
        )
        config[RESULTS_BLOCK] = {
            "n": self.n,
            "ks": self.ks,
            **self.settings.to_dict(),
            "prompt": self.options.prompt,
            "shard": "{}/{}".format(*self.options.shard) if self.options.shard else None,
            # An adaptive round draws only some problems (lm_eval_passk/adaptive.py); merge
            # joins such runs by problem id.
            "problem_subset": len(self.options.problems) if self.options.problems else None,
            "identical_fraction": fraction,
            "sampling_degenerate": sampling_is_degenerate(fraction),
            # Pooled over every rank's problems: total repeated / total long responses.
            "duplicate_fraction": duplicated,
            "sampling_duplicated": sampling_is_duplicated(duplicated),
            # How each response's verdict was reached; timeouts and parse errors count as
            # wrong and are reported here, never raised.
            "reasons": dict(self._reasons),
            # API models: how the repeats' seeds were set (None: no API model ran here).
            SAMPLE_SEEDS: sample_seed_record(),
            "problems": self._per_problem,
        }
        return config
