"""Prompt templates (Yue et al. 2025, Appendix E), selected with `--metadata '{"prompt": ...}'`."""

from __future__ import annotations

_BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

PROMPTS: dict[str, str] = {
    # The problem and the boxed-answer instruction; lm-eval's --apply_chat_template wraps it.
    "boxed": "{problem}\n" + _BOXED_INSTRUCTION,
    # The paper's SimpleRL / Qwen prompt in raw Qwen chat markup, used for base models too.
    # Run it without --apply_chat_template: the markup is already here.
    "qwen-boxed": (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\n{problem}\n" + _BOXED_INSTRUCTION + "<|im_end|>\n"
        "<|im_start|>assistant\n"
    ),
    # EasyR1's prompt for Qwen2.5-VL, as the paper's vision experiments used it.
    "easyr1": (
        "{problem} You FIRST think about the reasoning process as an internal monologue and "
        "then provide the final answer. The reasoning process MUST BE enclosed within "
        "<think> </think> tags. The final answer MUST BE put in \\boxed{}."
    ),
    # Code tasks: the benchmark's own prompt is the problem text (LiveCodeBench's format
    # section included). `code-fence` also opens the assistant turn with a python code
    # fence, as the paper does for base models, so that they start writing code.
    "code": "{problem}",
    "code-fence": "{problem}",
}
DEFAULT_PROMPT = "boxed"
# Which prompts fit which kind of task: a math prompt asks for a boxed answer, which a code
# grader would never find, and a code prompt asks for a program, which a math grader would
# mark wrong. A task's kind is the kind of its default prompt (its YAML's metadata
# `prompt`, else DEFAULT_PROMPT).
PROMPT_KINDS: dict[str, tuple[str, ...]] = {
    "math": ("boxed", "qwen-boxed", "easyr1"),
    "code": ("code", "code-fence"),
}
# Text that opens the model's turn (lm-eval's `gen_prefix`); the response continues it.
RESPONSE_PREFIXES = {"code-fence": "```python\n"}


def render_prompt(name: str, problem: str) -> str:
    """Fill a named template with one problem statement."""
    return PROMPTS[name].replace("{problem}", problem)


def prompt_kind(name: str) -> str:
    """The kind of task ("math" or "code") a named prompt is written for."""
    (kind,) = [kind for kind, names in PROMPT_KINDS.items() if name in names]
    return kind
