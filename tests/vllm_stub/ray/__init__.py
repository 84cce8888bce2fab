"""Stand-in for `ray`, for tests only (see ../vllm/__init__.py).

lm_eval/models/vllm_vlms.py (`--model vllm-vlm`) imports `ray` at module load; real vLLM
installs it as a dependency, this environment has none. lm-eval uses ray only for
data_parallel_size > 1, which no test runs: every entry point here raises.
"""

from __future__ import annotations

from typing import Any


def _unavailable(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("tests/vllm_stub/ray is a stand-in: data_parallel_size > 1 is not supported")


remote = get = init = shutdown = _unavailable
