"""n distinct samples per problem from lm-eval's OpenAI-style API models.

lm-eval 0.4.13's API models (`local-completions`, `local-chat-completions`, `openai-*`) put
the `seed=` of `--model_args` (default 1234) in every request, and a task's n repeats of a
problem are n identical requests: a server that honours the seed (vLLM, SGLang,
`transformers serve`) returns one sample n times. The offline backends need nothing: `hf`
and `vllm`/`vllm-vlm` draw the repeats from one running generator.

Here each repeat of an identical request gets its own seed. The first keeps the model's
seed, so a request sent once is exactly what lm-eval sends; repeat i >= 1 gets
`sample_seed(seed, i)`, a hash of both. So the same command against the same server draws
the same samples, another `seed=` draws others (none shared), `plan` (one seed per job) gives
every shard its own, and two runs with one seed still draw true duplicates that the
duplicate guard and `merge` see. A failed attempt hands its seed back, so lm-eval's retry of
it sends the same one. What was done is recorded in the results' passk block
(`sample_seed_record`).

lm_eval_passk/_discovery.py calls `patch_api_models` when lm-eval loads
`lm_eval.models.api_models`. The same wrapper keeps each response on disk as it arrives and
turns a server lost for good into one line (served_arrivals.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from lm_eval_passk.tasks._common.served_arrivals import (
    ArrivalLog,
    lost_server_line,
    transport_errors,
)

# vLLM and SGLang take a per-request seed as a (signed 32-bit) int; stay inside it.
SEED_MODULUS = 2**31 - 1
# How the seeds are derived, recorded with the run: bump it if sample_seed changes.
SCHEME = "first repeat: model seed; repeat i >= 1: sha256('{seed}:{i}') mod 2**31-1"
# The payload builders (lm_eval/models/openai_completions.py, 0.4.13) that write
# {"seed": seed, **gen_kwargs}: a `seed` in the generation kwargs replaces the model's.
# Others (sglang-generate, anthropic-chat, litellm) send no such field; they are left alone.
SEEDED_PAYLOADS = (
    "LocalCompletionsAPI._create_payload",
    "LocalChatCompletion._create_payload",
    "OpenAIChatCompletion._create_payload",
)
_ATTRIBUTE = "_passk_sample_draws"


def sample_seed(model_seed: int, index: int) -> int:
    """The seed of repeat `index` (0-based) of a request, for a model seeded `model_seed`."""
    if index == 0:
        return model_seed
    digest = hashlib.sha256(f"{model_seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_MODULUS


@dataclass
class SampleDraws:
    """Hands out repeat indices per identical request within one generate_until call."""

    model_seed: int
    drawn: Counter[str] = field(default_factory=Counter)
    returned: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def take(self, key: str) -> int:
        """The next repeat index of `key`: a handed-back one first (a retry), else a new one."""
        if self.returned[key]:
            return self.returned[key].pop(0)
        index = self.drawn[key]
        self.drawn[key] += 1
        return index

    def give_back(self, key: str, index: int) -> None:
        """A failed attempt's index: the retry of that request gets it again."""
        self.returned[key].append(index)
        self.returned[key].sort()


@dataclass
class SeedRecord:
    """What this process did to API requests' seeds, for the results' passk block."""

    model_seed: int | None = None
    requests: int = 0  # first attempts sent through a seeded payload
    reseeded: int = 0  # of those, repeats sent with a derived seed

    def to_dict(self) -> dict[str, Any] | None:
        if self.model_seed is None:
            return None
        return {"scheme": SCHEME, "model_seed": self.model_seed,
                "requests": self.requests, "reseeded": self.reseeded}


RECORD = SeedRecord()


def sample_seed_record() -> dict[str, Any] | None:
    """The per-sample seeding done in this process (None: no API model generated here)."""
    return RECORD.to_dict()


def _request_key(messages: Any, gen_kwargs: Any) -> str:
    text = json.dumps([messages, gen_kwargs], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _seeds_its_payload(lm: Any) -> bool:
    builder = getattr(type(lm), "_create_payload", None)
    return getattr(builder, "__qualname__", "") in SEEDED_PAYLOADS


def _repeated_request(requests: list[Any]) -> bool:
    keys = [_request_key(request.args[0], request.args[1]) for request in requests]
    return len(set(keys)) < len(keys)


def _with_seed(draws: SampleDraws, index: int, gen_kwargs: Any) -> Any:
    if index == 0:
        return gen_kwargs
    return {**(gen_kwargs or {}), "seed": sample_seed(draws.model_seed, index)}


def patch_api_models(module: Any) -> None:
    """Wrap lm-eval's TemplateAPI so that repeats of a request carry their own seeds."""
    template = module.TemplateAPI
    if getattr(template.generate_until, "passk_seeded", False):  # patched already
        return
    generate_until, model_call, amodel_call = (
        template.generate_until, template.model_call, template.amodel_call
    )

    @functools.wraps(generate_until)
    def seeded_generate_until(self: Any, requests: list[Any], *args: Any, **kwargs: Any) -> Any:
        if not requests:
            return generate_until(self, requests, *args, **kwargs)
        arrivals = ArrivalLog(self)
        try:
            return _generate(self, requests, *args, **kwargs)
        except transport_errors() as error:
            raise SystemExit(lost_server_line(self, error, arrivals)) from None
        finally:
            arrivals.detach()

    def _generate(self: Any, requests: list[Any], *args: Any, **kwargs: Any) -> Any:
        if not _seeds_its_payload(self):
            return generate_until(self, requests, *args, **kwargs)
        if getattr(self, "_batch_size", 1) > 1 and _repeated_request(requests):
            # Batched, a problem's repeats share one request and so one seed.
            raise SystemExit(
                f"lm-eval-passk: batch_size={self._batch_size} sends the repeats of a prompt in "
                "one request with one seed, so the server returns one sample n times; use "
                "batch_size=1 with num_concurrent instead"
            )
        setattr(self, _ATTRIBUTE, SampleDraws(int(self._seed)))
        RECORD.model_seed = int(self._seed)
        try:
            return generate_until(self, requests, *args, **kwargs)
        finally:
            delattr(self, _ATTRIBUTE)

    def _draw(self: Any, args: tuple, kwargs: dict[str, Any]) -> tuple[SampleDraws | None, str, int]:
        draws = getattr(self, _ATTRIBUTE, None)
        # lm-eval 0.4.13 passes every argument by name; anything else goes through as it is.
        if draws is None or args or not kwargs.get("generate", True):
            return None, "", 0
        key = _request_key(kwargs.get("messages"), kwargs.get("gen_kwargs"))
        first_attempt = not draws.returned[key]
        index = draws.take(key)
        if first_attempt:  # a retry is the same request again
            RECORD.requests += 1
            RECORD.reseeded += index > 0
        kwargs["gen_kwargs"] = _with_seed(draws, index, kwargs.get("gen_kwargs"))
        return draws, key, index

    @functools.wraps(model_call)
    def seeded_model_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        draws, key, index = _draw(self, args, kwargs)
        try:
            return model_call(self, *args, **kwargs)
        except BaseException:
            if draws is not None:
                draws.give_back(key, index)
            raise

    @functools.wraps(amodel_call)
    async def seeded_amodel_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        draws, key, index = _draw(self, args, kwargs)
        try:
            return await amodel_call(self, *args, **kwargs)
        except BaseException:
            if draws is not None:
                draws.give_back(key, index)
            raise

    seeded_generate_until.passk_seeded = True  # type: ignore[attr-defined]
    template.generate_until = seeded_generate_until
    template.model_call = seeded_model_call
    template.amodel_call = seeded_amodel_call


def seeded_vote_kwargs(lm: Any, gen_kwargs: dict[str, Any], vote: int) -> dict[str, Any]:
    """Generation kwargs for vote `vote` of a judged response: for an API model whose payload
    takes a seed, that vote's own seed (so a resumed judge never redraws an earlier vote);
    other models draw distinct votes from their running generator."""
    if "lm_eval.models.api_models" not in sys.modules or not _seeds_its_payload(lm):
        return dict(gen_kwargs)
    return {**gen_kwargs, "seed": sample_seed(int(lm._seed), vote)}
