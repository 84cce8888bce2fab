"""Build a tiny random causal LM and a word-level tokenizer offline, for CLI tests.

The vocabulary is a handful of words, numbers and `\\boxed{n}` tokens, and the weights are
random and small, so sampling is close to uniform over it: responses are a dozen tokens
long (EOS is one token of ~16) and some of them end in the right boxed answer, which
gives every problem a varied number of correct samples.
"""

from __future__ import annotations

from pathlib import Path

VOCAB_WORDS = [
    "The", "answer", "is", "so", "we", "get", ".", "####",
    "1", "2", "3", "\\boxed{1}", "\\boxed{2}", "\\boxed{3}",
]
SPECIAL = ["<unk>", "<pad>", "</s>"]


def word_level_tokenizer(words: list[str], specials: list[str], **extra_special_tokens):
    """A whitespace-split word tokenizer over `words`, trained offline with `tokenizers`."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.WordLevelTrainer(special_tokens=specials, min_frequency=1)
    tokenizer.train_from_iterator([" ".join(words)], trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", eos_token="</s>",
        **extra_special_tokens,
    )


def build_tiny_model(directory: Path, max_positions: int = 17000) -> Path:
    """Save a tokenizer and a randomly initialised 1-layer Llama under `directory`."""
    import torch
    from transformers import LlamaForCausalLM

    fast = word_level_tokenizer(VOCAB_WORDS, SPECIAL)
    fast.save_pretrained(directory)

    torch.manual_seed(0)
    LlamaForCausalLM(tiny_llama_config(fast, max_positions)).save_pretrained(directory)
    return directory


def tiny_llama_config(tokenizer, max_positions: int):
    """A 1-layer Llama of width 16 over `tokenizer`'s vocabulary (also the text half of
    tests/tiny_vlm.py). Positions beyond 16,384 so the protocol's max_gen_toks fits."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )


if __name__ == "__main__":
    import sys

    print(build_tiny_model(Path(sys.argv[1])))


def byte_level_tokenizer(specials: list[str] = SPECIAL):
    """A tokenizer of single bytes (no merges): any text round-trips through encode and
    decode, so a stand-in engine can read prompts back (tests/vllm_stub, PromptAnswers)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {token: index for index, token in enumerate([*specials, *alphabet])}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tokenizer.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", pad_token="<pad>", eos_token="</s>",
        additional_special_tokens=[],
    )


# What a chat-completions server renders the messages with: each message's text, then a newline.
SERVED_CHAT_TEMPLATE = "{% for message in messages %}{{ message['content'] }}\n{% endfor %}"


def build_tiny_served_model(directory: Path, max_positions: int = 17000) -> Path:
    """A tiny model for `transformers serve`: byte-level tokens (the server's stop strings
    need a vocabulary whose tokens decode to text), a chat template for
    `/v1/chat/completions`, and sampling on by default (the server takes `do_sample` from
    the model's generation config; a request's temperature alone does not turn it on)."""
    import torch
    from transformers import GenerationConfig, LlamaForCausalLM

    tokenizer = byte_level_tokenizer()
    tokenizer.chat_template = SERVED_CHAT_TEMPLATE
    tokenizer.save_pretrained(directory)
    torch.manual_seed(0)
    model = LlamaForCausalLM(tiny_llama_config(tokenizer, max_positions))
    model.generation_config = GenerationConfig(
        do_sample=True, temperature=1.0, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(directory)
    return directory
