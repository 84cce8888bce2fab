"""The `lm-eval-passk` command: a thin argument parser over the analysis, scoring and
scale-out layers, one module per command family."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lm_eval_passk import __version__
from lm_eval_passk._discovery import TASKS_DIR
from lm_eval_passk.cli import analysis, scale, scoring
from lm_eval_passk.cli.common import GRADER_NAMES, OneLineErrorParser

__all__ = ["GRADER_NAMES", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="lm-eval-passk",
        description="Large-k pass@k tasks and analysis for lm-evaluation-harness.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    analysis.add_commands(commands)
    scale.add_commands(commands)
    scoring.add_commands(commands)
    include_path = commands.add_parser(
        "include-path",
        help="print our task folder, for `lm_eval --include_path` where discovery is off",
    )
    include_path.set_defaults(func=lambda args: print(TASKS_DIR))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except ValueError as error:  # bad input: runs, files, options (RunError is one)
        print(f"lm-eval-passk: error: {error}", file=sys.stderr)
        return 2
    return 0
