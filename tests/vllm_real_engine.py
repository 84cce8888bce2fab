"""Run the `lm_eval` CLI on the real `vllm` package with only the engine replaced.

Usage: python tests/vllm_real_engine.py LOG.jsonl LM_EVAL_ARGS...

No accelerator is needed: `vllm.LLM.__init__` builds no engine (it keeps a real vLLM
`ModelConfig`, made by vLLM's own `EngineArgs` from the model folder, which is all lm-eval
reads from it) and `vllm.LLM.generate` runs no model. Everything else is vLLM's and
lm-eval's own: lm-eval's `VLLM` / `VLLM_VLM` classes, the `SamplingParams` they build (a
name vLLM does not accept fails there), the `TokensPrompt` / `TextPrompt` they send, the
tokenizer from `vllm.tokenizers.get_tokenizer`, the chat template that vLLM resolves, and the
images in `multi_modal_data`. `generate` checks what it is handed the way the engine would
(the type of every prompt and of its parameters, PIL images) and logs one JSON line per
request; each answer is a seeded draw from a few boxed answers, the seed being the
request's own (`SamplingParams.seed`) or, as in vLLM, the engine's running generator.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from typing import Any


def install(log_path: str) -> None:
    """Replace vllm.LLM's constructor and generate; everything else stays vLLM's."""
    import vllm
    from vllm.engine.arg_utils import EngineArgs
    from vllm.outputs import CompletionOutput, RequestOutput

    log = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 (open for the process's life)
    calls = [0]

    class _Engine:
        def __init__(self, model_config: Any) -> None:
            self.model_config = model_config

    def __init__(self: Any, **engine_args: Any) -> None:
        config = EngineArgs(**engine_args).create_model_config()
        self.llm_engine = _Engine(config)
        self._draws = random.Random(engine_args.get("seed", 0))
        log.write(json.dumps({"event": "init", "kwargs": {k: str(v) for k, v in engine_args.items()}}) + "\n")

    def generate(self: Any, prompts: Any, sampling_params: Any = None, **kwargs: Any) -> list[Any]:
        from PIL import Image

        params_list = sampling_params if isinstance(sampling_params, list) else [sampling_params] * len(prompts)
        outputs = []
        for index, (prompt, params) in enumerate(zip(prompts, params_list, strict=True)):
            if not isinstance(params, vllm.SamplingParams):
                raise TypeError(f"sampling_params must be vllm.SamplingParams, got {type(params)}")
            if not isinstance(prompt, dict) or not ({"prompt", "prompt_token_ids"} & prompt.keys()):
                raise TypeError(f"not a vLLM TextPrompt or TokensPrompt: {prompt!r}")
            images = (prompt.get("multi_modal_data") or {}).get("image")
            images = images if isinstance(images, list) else [images] if images is not None else []
            for image in images:
                if not isinstance(image, Image.Image):
                    raise TypeError(f"multi_modal_data image must be a PIL image, got {type(image)}")
            draw = random.Random(params.seed) if params.seed is not None else self._draws
            text = f"so we get {draw.choice(['1', '2', '3'])} . The answer is \\boxed{{{draw.choice([1, 2, 3])}}}"
            text += f" {draw.getrandbits(32)}"
            log.write(json.dumps({
                "event": "request", "call": calls[0], "prompts_in_call": len(prompts),
                "prompt_kind": "text" if "prompt" in prompt else "tokens",
                "prompt_md5": hashlib.md5(str(prompt.get("prompt", prompt.get("prompt_token_ids"))).encode()).hexdigest(),
                "image_sizes": [list(image.size) for image in images],
                "temperature": params.temperature, "top_p": params.top_p, "max_tokens": params.max_tokens,
                "stop": list(params.stop or []), "seed": params.seed, "n": params.n, "text": text,
            }) + "\n")
            completion = CompletionOutput(
                index=0, text=text, token_ids=[], cumulative_logprob=None, logprobs=None, finish_reason="stop",
            )
            outputs.append(RequestOutput(
                request_id=str(index), prompt=prompt.get("prompt"), prompt_token_ids=prompt.get("prompt_token_ids"),
                prompt_logprobs=None, outputs=[completion], finished=True,
            ))
        log.flush()
        calls[0] += 1
        return outputs

    vllm.LLM.__init__ = __init__
    vllm.LLM.generate = generate


if __name__ == "__main__":
    install(sys.argv[1])
    sys.argv = ["lm_eval", *sys.argv[2:]]
    from lm_eval.__main__ import cli_evaluate

    cli_evaluate()
