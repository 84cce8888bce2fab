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
    # Function tasks (HumanEval, HumanEval+, MBPP+), checked by the benchmark's test code.
    # `code-complete`, for base models: the problem is the completion prompt itself (a
    # signature and docstring, or MBPP+'s task docstring) and the response continues it.
    "code-complete": "{problem}",
    # `code-instruct`, for chat models (with --apply_chat_template): EvalPlus's chat
    # prompt (evalplus codegen), the answer turn opened by its response prefix below.
    "code-instruct": (
        "Please provide a self-contained Python script that solves the following problem "
        "in a markdown code block:\n```\n{problem}\n```\n"
    ),
    # `answer-only`, for finding guessable problems (analysis/guessable.py): the problem,
    # then the model's turn opened with "The final answer is \boxed{" (response prefix
    # below), so it answers at once, without reasoning, in a few tokens.
    "answer-only": "{problem}\n",
}
DEFAULT_PROMPT = "boxed"
# Which prompts fit which kind of task: a math prompt asks for a boxed answer, which a code
# grader would never find, and a code prompt asks for a program, which a math grader would
# mark wrong. A task's kind is the kind of its default prompt (its YAML's metadata
# `prompt`, else DEFAULT_PROMPT).
PROMPT_KINDS: dict[str, tuple[str, ...]] = {
    "math": ("boxed", "qwen-boxed", "easyr1", "answer-only"),
    "code": ("code", "code-fence"),
    "function": ("code-complete", "code-instruct"),
}
# Text that opens the model's turn (lm-eval's `gen_prefix`); the response continues it.
RESPONSE_PREFIXES = {
    "code-fence": "```python\n",
    "code-instruct": (
        "Below is a Python script with a self-contained function that solves the problem "
        "and passes corresponding tests:\n```python\n"
    ),
    "answer-only": "The final answer is \\boxed{",
}
# Stop sequences a prompt adds to the task's `until`. A base model continuing a function
# goes on to write the next problem or a test harness, up to max_gen_toks (16,384):
# EvalPlus's direct-completion stops, less "\ndef " and "\nclass " (an MBPP+ answer is a
# whole program, which may define helpers after an import).
RESPONSE_STOPS = {"code-complete": ("\nif __name__", "\nprint(", "\nassert ", '\n"""')}
# An answer-only response is the answer and its closing brace, on the prefix's line: a new
# line is the model going on to something else.
RESPONSE_STOPS["answer-only"] = ("\n",)
# max_gen_toks a prompt sets in place of the template's 16,384 (--gen_kwargs still wins).
# The longest MATH500 gold answer is 53 characters (AIME's 3, AMC23's 6): 64 tokens hold
# it and its closing brace at one character per token or more.
RESPONSE_MAX_GEN_TOKS = {"answer-only": 64}


def render_prompt(name: str, problem: str) -> str:
    """Fill a named template with one problem statement."""
    return PROMPTS[name].replace("{problem}", problem)


def prompt_kind(name: str) -> str:
    """The kind of task ("math", "code" or "function") a named prompt is written for."""
    (kind,) = [kind for kind, names in PROMPT_KINDS.items() if name in names]
    return kind
