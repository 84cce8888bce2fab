"""Stand-in for `vllm.tokenizers`: `get_tokenizer` is transformers' AutoTokenizer."""

from __future__ import annotations

from typing import Any


def get_tokenizer(
    tokenizer_name: str,
    *args: Any,
    tokenizer_mode: str = "auto",
    trust_remote_code: bool = False,
    revision: str | None = None,
    **kwargs: Any,
):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(
        tokenizer_name,
        *args,
        trust_remote_code=trust_remote_code,
        revision=revision,
        use_fast=tokenizer_mode != "slow",
        **kwargs,
    )
