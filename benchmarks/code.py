"""Code-execution throughput on a large-k stream, against a naive runner.

The stream: P problems (stdin and functional, T tests each) x K samples. As in large-k
samples, a problem's programs repeat: most samples are one of a few programs (two correct
spellings, one wrong from the first test, one wrong on a late test, one that crashes
midway, and rarely one that loops forever on a large test), and a fraction `--unique` get
a comment of their own, so that their text, and their job, is new.

Ours: `grade_code_many` (sandboxed, deduplicated, the engine's workers), its workers
started before the clock starts. Baseline, measured in the same run on a random subset of
the same stream: one plain `subprocess.run([python, file], input=..., timeout=T)` per
test, no sandbox, no deduplication, sequential, stopping at a program's first failing test
(as ours does) and comparing outputs with the same rules.

    python benchmarks/code.py [--problems 8] [--samples 64] [--tests 20] [--baseline 96]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter

from lm_eval_passk.grading.code import (
    decode_tests,
    extract_code,
    functional_output_matches,
    grade_code_many,
    isolation,
    stdin_output_matches,
)
from lm_eval_passk.grading.code.sandbox._harness import PRELUDE
from lm_eval_passk.grading.code.testcases import functional_arguments

# Families of problems: the answer to a list of numbers, the expression a program computes
# it with, and a second, differently written correct program.
READ = "n = int(input())\nxs = list(map(int, input().split()))\n"
STDIN_FAMILIES = {
    "sum": (lambda xs: str(sum(xs)), "sum(xs)",
            "import sys\ndata = sys.stdin.read().split()\ntotal = 0\nfor x in data[1:]:\n    total += int(x)\nprint(total)\n"),
    "max": (lambda xs: str(max(xs)), "max(xs)",
            "n = int(input())\nbest = None\nfor x in map(int, input().split()):\n    best = x if best is None or x > best else best\nprint(best)\n"),
    "sort": (lambda xs: " ".join(map(str, sorted(xs))), "' '.join(map(str, sorted(xs)))",
             "n = int(input())\nprint(*sorted(map(int, input().split())))\n"),
    "distinct": (lambda xs: str(len(set(xs))), "len(set(xs))",
                 "n = int(input())\nseen = set()\nfor x in input().split():\n    seen.add(int(x))\nprint(len(seen))\n"),
}  # fmt: skip
FUNCTIONAL_FAMILIES = {
    "prefixSums": (lambda xs: list(itertools.accumulate(xs)), "list(accumulate(nums))",
                   "class Solution:\n    def prefixSums(self, nums):\n        out, total = [], 0\n"
                   "        for x in nums:\n            total += x\n            out.append(total)\n        return out\n"),
    "topTwo": (lambda xs: sorted(xs)[-2:], "sorted(nums)[-2:]",
               "import heapq\nclass Solution:\n    def topTwo(self, nums):\n        return sorted(heapq.nlargest(2, nums))\n"),
}  # fmt: skip


def _sizes(tests: int) -> list[int]:
    """Test sizes growing quadratically from 2 to about 3,000 numbers."""
    return [2 + (3000 * i * i) // (tests * tests) for i in range(tests)]


def make_problem(index: int, tests: int) -> tuple[dict, dict[str, str]]:
    """A code_generation_lite row and the program for each behaviour in MIX; the late
    failures start at the test three quarters of the way in."""
    rng = random.Random(index)
    functional = index % 3 == 2
    families = FUNCTIONAL_FAMILIES if functional else STDIN_FAMILIES
    name = list(families)[index % len(families)]
    solve, expression, other_spelling = families[name]
    late = _sizes(tests)[tests * 3 // 4]
    cases = []
    for n in _sizes(tests):
        xs = [rng.randint(-1000, 1000) for _ in range(n)]
        if functional:
            cases.append(
                {"input": json.dumps(xs), "output": json.dumps(solve(xs)), "testtype": "functional"}
            )
        else:
            cases.append(
                {
                    "input": f"{n}\n{' '.join(map(str, xs))}\n",
                    "output": solve(xs) + "\n",
                    "testtype": "stdin",
                }
            )
    if functional:
        head = f"class Solution:\n    def {name}(self, nums: List[int]) -> List[int]:\n        "
        programs = {
            "wrong from test 1": head + "return nums[:1]\n",
            "wrong late": head + f"return [] if len(nums) >= {late} else {expression}\n",
            "crash midway": head + f"assert len(nums) < {late}\n        return {expression}\n",
            "loops forever": head
            + f"while len(nums) >= {late}:\n            pass\n        return {expression}\n",
            "correct": head + f"return {expression}\n",
        }
    else:
        programs = {
            "wrong from test 1": "print(0)\n",
            "wrong late": READ + f"print(-1 if n >= {late} else {expression})\n",
            "crash midway": READ + f"assert n < {late}\nprint({expression})\n",
            "loops forever": READ + f"while n >= {late}:\n    pass\nprint({expression})\n",
            "correct": READ + f"print({expression})\n",
        }
    programs["correct, other spelling"] = other_spelling
    row = {
        "question_id": f"bench_{index}_{name}",
        "public_test_cases": json.dumps(cases[:2]),
        "private_test_cases": json.dumps(cases[2:]),
        "metadata": json.dumps({"func_name": name} if functional else {}),
    }
    return row, programs


# How often each behaviour appears among a problem's samples.
MIX = {
    "correct": 0.35,
    "correct, other spelling": 0.15,
    "wrong from test 1": 0.2,
    "wrong late": 0.15,
    "crash midway": 0.135,
    "loops forever": 0.015,
}


def stream(
    problems: int, samples: int, tests: int, unique: float, seed: int = 0
) -> tuple[list[str], list[dict]]:
    rng = random.Random(seed)
    responses, rows = [], []
    for index in range(problems):
        row, programs = make_problem(index, tests)
        for sample in range(samples):
            behaviour = rng.choices(list(MIX), weights=list(MIX.values()))[0]
            code = programs[behaviour]
            if rng.random() < unique:
                code += f"# sample {index}-{sample}\n"
            responses.append(f"Here is a solution.\n```python\n{code}```\n")
            rows.append(row)
    return responses, rows


def naive_program(code: str, row: dict, seconds: float) -> bool:
    """One plain interpreter per test, no sandbox, stopping at the first failure."""
    tests = decode_tests(row)
    with tempfile.TemporaryDirectory() as directory:
        script = os.path.join(directory, "solution.py")
        with open(script, "w") as out:
            out.write(PRELUDE + code)
            if tests.kind == "functional":
                out.write(
                    "\nimport json as _json, sys as _sys\n"
                    f"print('\\x1e' + _json.dumps(Solution().{tests.func_name}(*_json.loads(_sys.stdin.read()))))\n"
                )
        for case in tests.cases:
            given = (
                json.dumps(functional_arguments(case.input))
                if case.kind == "functional"
                else case.input
            )
            try:
                done = subprocess.run(
                    [sys.executable, script],
                    input=given.encode(),
                    capture_output=True,
                    timeout=seconds,
                )
            except subprocess.TimeoutExpired:
                return False
            output = done.stdout.decode(errors="replace")
            if tests.kind == "functional":
                output = output.rpartition("\x1e")[2]
                matches = functional_output_matches(output, case.output)
            else:
                matches = stdin_output_matches(output, case.output)
            if done.returncode != 0 or not matches:
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=8)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--tests", type=int, default=20)
    parser.add_argument(
        "--unique", type=float, default=0.5, help="fraction of samples with text of their own"
    )
    parser.add_argument(
        "--timeout", type=float, default=6.0, help="seconds per test (LiveCodeBench's 6)"
    )
    parser.add_argument("--baseline", type=int, default=96, help="responses for the naive runner")
    args = parser.parse_args()

    responses, rows = stream(args.problems, args.samples, args.tests, args.unique)
    programs = {(extract_code(r), row["question_id"]) for r, row in zip(responses, rows)}
    how = isolation()
    print(
        f"stream: {len(responses)} responses, {args.problems} problems x {args.tests} tests, "
        f"{len(programs)} distinct (program, problem) pairs; isolation: "
        f"{'bubblewrap' if how.bwrap else 'fallback'}{' as root, slot uids' if how.root else ''}; "
        f"{os.cpu_count()} CPUs"
    )

    grade_code_many(responses[:1], rows[:1], timeout_per_test=args.timeout)  # start the workers
    start = time.perf_counter()
    verdicts = grade_code_many(responses, rows, timeout_per_test=args.timeout)
    ours_seconds = time.perf_counter() - start
    ours_rate = len(responses) / ours_seconds
    reasons = Counter(v.reason for v in verdicts)
    print(
        f"grade_code_many (sandboxed):  {ours_seconds:7.1f} s, {ours_rate:7.1f} programs/s  {dict(reasons)}"
    )

    count = min(args.baseline, len(responses))
    subset = random.Random(1).sample(range(len(responses)), count)
    start = time.perf_counter()
    naive = [naive_program(extract_code(responses[i]) or "", rows[i], args.timeout) for i in subset]
    naive_seconds = time.perf_counter() - start
    naive_rate = count / naive_seconds
    agree = sum(naive[j] == verdicts[i].correct for j, i in enumerate(subset))
    print(
        f"naive subprocess per test ({count}): {naive_seconds:7.1f} s, {naive_rate:7.1f} programs/s"
    )
    print(f"speed-up over the naive runner: {ours_rate / naive_rate:.1f}x")
    print(f"agreement with the naive runner on those {count}: {agree}/{count}")


if __name__ == "__main__":
    main()
