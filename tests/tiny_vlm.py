"""Build a tiny random LLaVA (CLIP vision tower + 1-layer Llama) offline, for CLI tests.

Everything comes from arguments: a word-level tokenizer trained here with `tokenizers`
(with "<image>" as a special token), a CLIPImageProcessor for 32-pixel images, a LlavaConfig
of a 1-layer CLIP vision tower (patch 16, so an image is 2 x 2 patches = 4 image tokens)
and a 1-layer Llama, and a small Jinja chat template so `--apply_chat_template` works. As in
tiny_model.py, the text vocabulary is a handful of words, numbers and `\\boxed{n}` tokens
and the weights are small and random, so sampling is close to uniform over it: responses
are short (EOS is one token of 18) and some of them end in the right boxed answer.
"""

from __future__ import annotations

from pathlib import Path

from tiny_model import tiny_llama_config, word_level_tokenizer

VOCAB_WORDS = [
    "The", "answer", "is", "so", "we", "get", ".",
    "1", "2", "3", "\\boxed{1}", "\\boxed{2}", "\\boxed{3}", "\\boxed{1.5}",
]
SPECIAL = ["<unk>", "<pad>", "</s>", "<image>"]
IMAGE_SIZE = 32
PATCH_SIZE = 16
IMAGE_TOKENS = (IMAGE_SIZE // PATCH_SIZE) ** 2  # "default" strategy drops CLS

# Messages whose content is a string or a list of {"type": "image"} / {"type": "text"} parts.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'] }}: "
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image> {% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)


def build_tiny_vlm(directory: Path, max_positions: int = 17000) -> Path:
    """Save a processor and a randomly initialised tiny LLaVA under `directory`."""
    import torch
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    fast = word_level_tokenizer(VOCAB_WORDS, SPECIAL, additional_special_tokens=["<image>"])
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": IMAGE_SIZE},
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        do_center_crop=True,
        do_resize=True,
        do_convert_rgb=True,
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=fast,
        patch_size=PATCH_SIZE,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,  # CLIP's CLS token
        chat_template=CHAT_TEMPLATE,
    )
    processor.save_pretrained(directory)

    torch.manual_seed(0)
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=IMAGE_SIZE,
            patch_size=PATCH_SIZE,
            projection_dim=16,
        ).to_dict(),
        text_config=tiny_llama_config(fast, max_positions).to_dict(),
        image_token_index=fast.convert_tokens_to_ids("<image>"),
        image_seq_length=IMAGE_TOKENS,
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
        projector_hidden_act="gelu",
        pad_token_id=fast.pad_token_id,
        eos_token_id=fast.eos_token_id,
    )
    model = LlavaForConditionalGeneration(config)
    model.generation_config.eos_token_id = fast.eos_token_id
    model.generation_config.pad_token_id = fast.pad_token_id
    model.generation_config.bos_token_id = None
    model.save_pretrained(directory)
    return directory


if __name__ == "__main__":
    import sys

    print(build_tiny_vlm(Path(sys.argv[1])))
