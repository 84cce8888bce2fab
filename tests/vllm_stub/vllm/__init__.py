"""Stand-in for the `vllm` package, for tests only: NOT the real engine.

tests/test_vllm_path.py puts tests/vllm_stub on PYTHONPATH of the `lm_eval` subprocess it
runs. Only the engine is replaced: lm-eval's own vLLM backend
(lm_eval/models/vllm_causallms.py, `--model vllm`) runs unchanged on top of this module.
It implements just what that backend uses:

- `LLM(**engine_args)` records its constructor arguments.
- `LLM.generate(prompts, sampling_params=..., use_tqdm=..., lora_request=...)` runs no
  model: it logs one JSON line per request (SamplingParams kwargs, prompt token count,
  number of prompts in the call) to the file named by $VLLM_STUB_LOG and answers each
  request with a distinct canned text.
- `SamplingParams(**kwargs)` keeps its kwargs and, like real vLLM's msgspec Struct,
  raises TypeError on a name real vLLM does not accept (e.g. a leaked `do_sample`).
- `TokensPrompt`, `vllm.lora.request.LoRARequest`, `vllm.tokenizers.get_tokenizer`
  (transformers' AutoTokenizer).
- ../vllm-0.8.0.dist-info/METADATA answers importlib.metadata.version("vllm"); below 0.8.3
  lm-eval skips chat-template resolution, which needs a real engine.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__version__ = "0.8.0"

LOG_VARIABLE = "VLLM_STUB_LOG"

# Keyword arguments real vLLM's SamplingParams accepts (stable across 0.8 - 0.1x). Real
# vLLM (a msgspec Struct) raises TypeError on any other name; so does this stand-in.
SAMPLING_PARAM_NAMES = frozenset(
    {
        "n", "best_of", "presence_penalty", "frequency_penalty", "repetition_penalty",
        "temperature", "top_p", "top_k", "min_p", "seed", "stop", "stop_token_ids",
        "bad_words", "ignore_eos", "max_tokens", "min_tokens", "logprobs",
        "prompt_logprobs", "detokenize", "skip_special_tokens",
        "spaces_between_special_tokens", "logits_processors", "include_stop_str_in_output",
        "truncate_prompt_tokens", "output_kind", "guided_decoding", "logit_bias",
        "allowed_token_ids", "extra_args",
    }
)


def _log(record: dict[str, Any]) -> None:
    path = os.environ.get(LOG_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, default=repr) + "\n")


class SamplingParams:
    """Keeps the keyword arguments it was built with, in `.kwargs`."""

    def __init__(self, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - SAMPLING_PARAM_NAMES)
        if unknown:
            raise TypeError(f"Unexpected keyword argument(s) for SamplingParams: {unknown}")
        self.kwargs = dict(kwargs)
        for name, value in kwargs.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"SamplingParams({self.kwargs!r})"


def TokensPrompt(prompt_token_ids: list[int]) -> dict[str, Any]:  # noqa: N802 (a TypedDict in vLLM)
    return {"prompt_token_ids": list(prompt_token_ids)}


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list[int] = field(default_factory=list)
    finish_reason: str | None = "stop"


@dataclass
class RequestOutput:
    request_id: str
    prompt_token_ids: list[int]
    outputs: list[CompletionOutput]
    prompt_logprobs: Any = None
    finished: bool = True


def canned_text(request_number: int) -> str:
    """A distinct response per request; two in three end in \\boxed{2} (every fixture
    problem's answer), the rest in \\boxed{3}, so grading sees right and wrong answers.
    With $VLLM_STUB_RESPONSES (a JSON list of texts), those texts in turn instead."""
    scripted = os.environ.get("VLLM_STUB_RESPONSES")
    if scripted:
        texts = json.loads(Path(scripted).read_text())
        return texts[request_number % len(texts)]
    answer = 3 if request_number % 3 == 0 else 2
    return f"Draft {request_number}: so we get {answer}. The answer is \\boxed{{{answer}}}."


class LLM:
    """Records its constructor arguments; `generate` logs and answers every request."""

    def __init__(self, **kwargs: Any) -> None:
        self.engine_args = dict(kwargs)
        self._calls = 0
        self._requests = 0
        _log({"event": "init", "kwargs": self.engine_args, "pid": os.getpid()})

    def generate(
        self,
        prompts: list[dict[str, Any]],
        sampling_params: SamplingParams | list[SamplingParams] | None = None,
        use_tqdm: bool = True,
        lora_request: Any = None,
    ) -> list[RequestOutput]:
        if not isinstance(prompts, list):
            prompts = [prompts]
        if sampling_params is None:
            sampling_params = SamplingParams()
        if not isinstance(sampling_params, list):
            sampling_params = [sampling_params] * len(prompts)
        if len(sampling_params) != len(prompts):
            raise ValueError("The lengths of prompts and sampling_params must be the same.")
        call = self._calls
        self._calls += 1
        outputs = []
        for prompt, params in zip(prompts, sampling_params):
            number = self._requests
            self._requests += 1
            tokens = prompt["prompt_token_ids"]
            text = canned_text(number)
            _log(
                {
                    "event": "request",
                    "call": call,
                    "prompts_in_call": len(prompts),
                    "request": number,
                    "prompt_tokens": len(tokens),
                    "sampling_params": params.kwargs,
                    "use_tqdm": use_tqdm,
                    "lora_request": lora_request,
                    "text": text,
                }
            )
            outputs.append(
                RequestOutput(str(number), list(tokens), [CompletionOutput(0, text)])
            )
        return outputs
