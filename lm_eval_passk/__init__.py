"""lm-eval-passk: large-k pass@k tasks and analysis for lm-evaluation-harness.

Kept empty on purpose: `lm_eval_passk.pth` imports `lm_eval_passk._discovery` in every
interpreter, and this package's own import must stay free.
"""

__version__ = "0.1.0"
