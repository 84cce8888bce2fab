"""The leaderboard as Hugging Face model-card metadata: `leaderboard --format model-index`.

One YAML document per model (separated by `---`), each a `model-index` block to paste into
that model's README front matter: per task, a result whose metrics are pass@k at the
leaderboard's k, in percent rounded to 2 decimals (the JSON keeps the fractions).
"""

from __future__ import annotations

from typing import Any

# The model-index schema asks for a task type; large-k pass@k is measured on sampled text.
TASK = {"type": "text-generation", "name": "Text Generation"}


def model_results(document: dict[str, Any], model: str) -> list[dict[str, Any]]:
    """The model-index `results` of one model: a result per task it has a run of."""
    results = []
    for task, models in document["tasks"].items():
        summary = models.get(model)
        if summary is None:
            continue
        metrics = [
            {
                "type": f"pass@{k}",
                "name": f"pass@{k} (n = {summary['n']} samples per problem)",
                "value": round(100 * summary["pass_at_k"][str(k)], 2),
                "verified": False,
            }
            for k in document["ks"]
            if str(k) in summary["pass_at_k"]
        ]
        if metrics:  # a run whose n is below every k has nothing to report
            results.append({"task": dict(TASK), "dataset": {"name": task, "type": task}, "metrics": metrics})
    return results


def model_index_yaml(document: dict[str, Any]) -> str:
    """A `model-index` YAML document per model of a leaderboard document."""
    import yaml  # PyYAML: a dependency of lm-eval's `datasets`

    from lm_eval_passk import __version__

    models = list(dict.fromkeys(m for models in document["tasks"].values() for m in models))
    blocks = []
    for model in models:
        block = yaml.safe_dump(
            {"model-index": [{"name": model, "results": model_results(document, model)}]},
            sort_keys=False, allow_unicode=True,
        )
        blocks.append(f"# {model}: pass@k from lm-eval-passk {__version__} (percent)\n{block}")
    return "---\n".join(blocks)
