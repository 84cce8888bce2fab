"""Pure numeric metrics for pass@k analysis (numpy only, no lm-eval import)."""

from lm_eval_passk.metrics.pass_at_k import pass_at_k, report_ks

__all__ = ["pass_at_k", "report_ks"]
