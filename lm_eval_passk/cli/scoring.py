"""Commands that score a run's responses through an lm-eval model: judge, perplexity."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lm_eval_passk.cli.common import check_at_least_one, check_run_has_samples

# What `lm_eval` passes as the device when none is given (lm-eval 0.4.13's EvaluatorConfig):
# hf takes it where a GPU is, and the CPU where none is (HFLM ignores a device it lacks).
DEFAULT_DEVICE = "cuda:0"
DEVICE_HELP = f"passed to the lm-eval model, e.g. cuda:1 or cpu (default {DEFAULT_DEVICE}, as for lm_eval: the CPU without a GPU)"


def add_commands(commands: Any) -> None:
    """The scoring subcommands, each with its handler as `func`."""
    judge = commands.add_parser(
        "judge", help="judge the reasoning of answer-correct responses with any lm-eval model (CoT-Pass@k)"
    )
    judge.add_argument("run", type=Path, metavar="RUN", help="an lm_eval --output_path directory")
    judge.add_argument("--model", required=True, help="an lm-eval model type: vllm, hf, local-chat-completions, ...")
    judge.add_argument("--model_args", default="", help="as for lm_eval, e.g. pretrained=Qwen/Qwen2.5-72B-Instruct")
    judge.add_argument("--votes", type=int, default=3, help="votes per judged response (default 3)")
    judge.add_argument("--tasks", help="comma-separated tasks of the run to judge (default: all)")
    judge.add_argument("--prompt", type=Path, help="judge prompt template with {problem}, {reference}, {response}")
    judge.add_argument("--gen_kwargs", default="", help="judge generation kwargs, e.g. temperature=0.6,max_gen_toks=4096")
    judge.add_argument("--judge_name", help="name recorded with each vote (default: the model and its arguments)")
    judge.add_argument("--batch_size", default="auto", help="passed to the lm-eval model (default auto)")
    judge.add_argument("--device", default=DEFAULT_DEVICE, help=DEVICE_HELP)
    judge.add_argument("--no_chat_template", action="store_true", help="send the prompt as plain text")

    perplexity = commands.add_parser(
        "perplexity", help="perplexity of each response of a run under any lm-eval model (docs/ANALYSIS.md)"
    )
    perplexity.add_argument("run", type=Path, metavar="RUN", help="an lm_eval --output_path directory")
    perplexity.add_argument("--model", required=True, help="an lm-eval model type with loglikelihood: hf, vllm, local-completions")
    perplexity.add_argument("--model_args", default="", help="as for lm_eval, e.g. pretrained=Qwen/Qwen2.5-7B")
    perplexity.add_argument("--per-problem", type=int, help="score a seeded sample of this many responses per problem (default: all)")
    perplexity.add_argument("--seed", type=int, default=0, help="seed of --per-problem's sample (default 0)")
    perplexity.add_argument("--tasks", help="comma-separated tasks of the run to score (default: all)")
    perplexity.add_argument("--scorer_name", help="name recorded with each score (default: the model and its arguments)")
    perplexity.add_argument("--batch_size", default="auto", help="passed to the lm-eval model (default auto)")
    perplexity.add_argument("--device", default=DEFAULT_DEVICE, help=DEVICE_HELP)

    judge.set_defaults(func=run_judge)
    perplexity.set_defaults(func=run_perplexity)


def run_judge(args: argparse.Namespace) -> None:
    from lm_eval.api.registry import get_model
    from lm_eval.utils import simple_parse_args_string

    from lm_eval_passk.judge.run import (
        DEFAULT_GEN_KWARGS,
        DEFAULT_TEMPLATE,
        judge_run,
        read_template,
    )

    check_run_has_samples(args.run, args.tasks)
    check_at_least_one(args.votes, "--votes")
    read_template(args.prompt or DEFAULT_TEMPLATE)
    lm = get_model(args.model).create_from_arg_string(
        args.model_args, {"batch_size": args.batch_size, "device": args.device}
    )
    if not args.no_chat_template:
        try:  # a model without a chat template fails here, before any vote is asked for
            lm.apply_chat_template([{"role": "user", "content": "x"}])
        except ValueError as error:
            first = str(error).split("!")[0].split(". ")[0]  # transformers' first sentence
            raise ValueError(
                f"--model {args.model} {args.model_args}: no chat template to apply ({first}); "
                "pass --no_chat_template to send the prompt as plain text"
            ) from None
    results = judge_run(
        args.run,
        lm,
        judge=args.judge_name or f"{args.model}:{args.model_args}",
        votes=args.votes,
        tasks=args.tasks.split(",") if args.tasks else None,
        template_path=args.prompt or DEFAULT_TEMPLATE,
        gen_kwargs=DEFAULT_GEN_KWARGS | simple_parse_args_string(args.gen_kwargs),
        chat=not args.no_chat_template,
    )
    for task, stats in results.items():
        print(f"{task}: {stats.requested} votes requested, {stats.already_done} already journaled")


def run_perplexity(args: argparse.Namespace) -> None:
    from lm_eval.api.registry import get_model

    from lm_eval_passk.perplexity.score import score_run

    check_run_has_samples(args.run, args.tasks)
    check_at_least_one(args.per_problem, "--per-problem")
    lm = get_model(args.model).create_from_arg_string(
        args.model_args, {"batch_size": args.batch_size, "device": args.device}
    )
    results = score_run(
        args.run, lm, scorer=args.scorer_name or f"{args.model}:{args.model_args}",
        tasks=args.tasks.split(",") if args.tasks else None, per_problem=args.per_problem, seed=args.seed,
    )
    for task, stats in results.items():
        print(
            f"{task}: {stats.requested} responses scored, {stats.already_done} already in the file, "
            f"{stats.truncated_prompt} with the prompt cut, {stats.not_scored} not scored (empty or too long)"
        )
