"""Stand-in for the `vllm` package, for tests only: NOT the real engine.

tests/test_vllm_path.py puts tests/vllm_stub on PYTHONPATH of the `lm_eval` subprocess it
runs; so does the `vllm-vlm` test in tests/test_mathvista_task.py. Only the engine is
replaced: lm-eval's own vLLM backends (lm_eval/models/vllm_causallms.py, `--model vllm`,
and lm_eval/models/vllm_vlms.py, `--model vllm-vlm`) run unchanged on top of this module.
It implements just what those backends use:

- `LLM(**engine_args)` records its constructor arguments.
- `LLM.generate(prompts, sampling_params=..., use_tqdm=..., lora_request=...)` runs no
  model: it logs one JSON line per request (SamplingParams kwargs, prompt token count,
  number of prompts in the call) to the file named by $VLLM_STUB_LOG and answers each
  request with a distinct canned text, or by its prompt ($VLLM_STUB_ANSWERS: PromptAnswers). A prompt is a `TokensPrompt` ({"prompt_token_ids"})
  or a `TextPrompt` ({"prompt": text, optional "multi_modal_data": {"image": PIL image or
  list of them}}); the log line also says which (`prompt_kind`), the text of a text prompt
  (`prompt_text`; `prompt_tokens` is then None: no tokenizer runs here) and, for each
  attached image, its PIL size and mode and the md5 of its pixel bytes (`images`; an image
  that is not a PIL image raises TypeError, as real vLLM rejects it).
- `SamplingParams(**kwargs)` keeps its kwargs and, like real vLLM's msgspec Struct,
  raises TypeError on a name real vLLM does not accept (e.g. a leaked `do_sample`).
- `TokensPrompt`, `TextPrompt` (TypedDicts in vLLM: calling one returns a plain dict),
  `vllm.lora.request.LoRARequest`, `vllm.tokenizers.get_tokenizer`
  (transformers' AutoTokenizer).
- ../vllm-0.8.0.dist-info/METADATA answers importlib.metadata.version("vllm"); below 0.8.3
  lm-eval skips chat-template resolution, which needs a real engine.

`ray` is not stood in: lm_eval/models/vllm_vlms.py imports it at module load and real vLLM
does not install it, so the real package comes from our `[vllm]` extra (and the `[test]`
one, for these tests). A stand-in here once hid that `--model vllm-vlm` failed to import
for users (issue 21). tests/test_vllm_real.py runs the same backends on the real package.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NotRequired, TypedDict

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


# As in vLLM (vllm.inputs.data.TextPrompt): `TextPrompt(prompt=..., ...)` is a plain dict.
# (Functional form, so NotRequired is seen despite `from __future__ import annotations`.)
TextPrompt = TypedDict(
    "TextPrompt",
    {
        "prompt": str,
        "multi_modal_data": NotRequired[dict[str, Any]],
        "mm_processor_kwargs": NotRequired[dict[str, Any]],
    },
)


def describe_images(multi_modal_data: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Size, mode and md5 of the pixel bytes of each image in `multi_modal_data["image"]`
    (one PIL image or a list of them, as vLLM accepts)."""
    from PIL import Image

    images = (multi_modal_data or {}).get("image")
    if images is None:
        return []
    if not isinstance(images, list):
        images = [images]
    described = []
    for image in images:
        if not isinstance(image, Image.Image):
            raise TypeError(f"multi_modal_data['image'] holds a {type(image).__name__}, not a PIL image")
        described.append(
            {
                "size": list(image.size),
                "mode": image.mode,
                "md5": hashlib.md5(image.tobytes()).hexdigest(),
            }
        )
    return described


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


ANSWERS_VARIABLE = "VLLM_STUB_ANSWERS"


class PromptAnswers:
    """$VLLM_STUB_ANSWERS (a JSON object {prompt text: [answers]}): a request is answered
    with the answers of the longest key its prompt (decoded with the engine's tokenizer;
    use one that round-trips text, e.g. tests/tiny_model.py's byte-level one) contains,
    in turn per key, so each problem gets its own answers whatever order the requests
    come in. A prompt that contains no key raises KeyError."""

    def __init__(self, path: str, tokenizer_name: str) -> None:
        self.answers: dict[str, list[str]] = json.loads(Path(path).read_text())
        self.keys = sorted(self.answers, key=len, reverse=True)
        self.served: dict[str, int] = {}
        from vllm.tokenizers import get_tokenizer

        self.tokenizer = get_tokenizer(tokenizer_name)

    def answer(self, prompt: dict[str, Any]) -> str:
        text = prompt.get("prompt")
        if text is None:
            text = self.tokenizer.decode(prompt["prompt_token_ids"], skip_special_tokens=True)
        key = next((key for key in self.keys if key in text), None)
        if key is None:
            raise KeyError(f"no {ANSWERS_VARIABLE} key in prompt {text[-200:]!r}")
        turn = self.served.get(key, 0)
        self.served[key] = turn + 1
        return self.answers[key][turn % len(self.answers[key])]


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
        answers = os.environ.get(ANSWERS_VARIABLE)
        self._answers = (
            PromptAnswers(answers, kwargs.get("tokenizer") or kwargs["model"]) if answers else None
        )
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
            if isinstance(prompt, str):
                prompt = {"prompt": prompt}
            if "prompt_token_ids" in prompt:
                kind, tokens, prompt_text = "tokens", list(prompt["prompt_token_ids"]), None
            elif isinstance(prompt.get("prompt"), str):
                kind, tokens, prompt_text = "text", [], prompt["prompt"]
            else:
                raise TypeError(f"a prompt needs 'prompt' or 'prompt_token_ids', got {sorted(prompt)}")
            multi_modal_data = prompt.get("multi_modal_data")
            images = describe_images(multi_modal_data)
            text = self._answers.answer(prompt) if self._answers else canned_text(number)
            _log(
                {
                    "event": "request",
                    "call": call,
                    "prompts_in_call": len(prompts),
                    "request": number,
                    "prompt_tokens": len(tokens) if kind == "tokens" else None,
                    "prompt_kind": kind,
                    "prompt_text": prompt_text,
                    "multi_modal_keys": sorted(multi_modal_data or {}),
                    "image_count": len(images),
                    "images": images,
                    "sampling_params": params.kwargs,
                    "use_tqdm": use_tqdm,
                    "lora_request": lora_request,
                    "text": text,
                }
            )
            outputs.append(
                RequestOutput(str(number), tokens, [CompletionOutput(0, text)])
            )
        return outputs
