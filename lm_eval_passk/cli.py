"""The `lm-eval-passk` command: a thin argument parser over the package's functions."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from lm_eval_passk import __version__
from lm_eval_passk._discovery import TASKS_DIR


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lm-eval-passk",
        description="Large-k pass@k tasks and analysis for lm-evaluation-harness.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "include-path",
        help="print our task folder, for `lm_eval --include_path` where discovery is off",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "include-path":
        print(TASKS_DIR)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
