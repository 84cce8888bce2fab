"""Grading throughput on a realistic large-k stream, against a naive math-verify loop.

The stream: P problems x K samples (default 250 x 128 = 32,000 responses), each a few
kilobytes of reasoning ending in a boxed answer. As in real large-k samples the final
answers repeat: most samples give the gold answer in one of a few spellings, the rest a
handful of recurring wrong answers, a few no answer at all. Golds are MATH500's when
../shared/data is present, else synthetic.

Baseline, measured in the same run: a per-pair loop `verify(parse(gold), parse(response))`
with math-verify, on the first `--baseline` responses of the same stream.

Then pathological inputs, each mixed into a batch of normal responses: each must come
back wrong within a few seconds without stalling the rest.

    python benchmarks/grading.py [--problems 250] [--samples 128] [--baseline 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from lm_eval_passk.grading import grade_many

SHARED_MATH500 = Path(__file__).resolve().parents[2] / "shared" / "data" / "math500" / "test.jsonl"
REASONING = (
    "Let us set up the problem carefully. We write $f(x) = x^2 - 4x + 4$ and note that "
    "$f(x) = (x-2)^2 \\geq 0$ for all real $x$. Next, consider the sum "
    "$\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}$, which for $n = 10$ gives $55$. "
    "Checking the boundary cases: when $x = 0$ we get $4$, and when $x = 3$ we get $1$. "
)


def golds(problems: int) -> list[str]:
    if SHARED_MATH500.is_file():
        rows = [json.loads(line) for line in SHARED_MATH500.open()]
        return [row["answer"] for row in rows[:problems]]
    return [f"\\frac{{{i}}}{{{i + 7}}}" if i % 3 else str(i * 11) for i in range(problems)]


def spellings(gold: str) -> list[str]:
    """Equivalent ways a model writes the gold answer."""
    return [gold, f"{gold} ", f"\\displaystyle {gold}", gold.replace("\\frac", "\\dfrac")]


def stream(problems: int, samples: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    responses, targets = [], []
    for gold in golds(problems):
        wrong = [f"{rng.randint(2, 999)}", f"\\frac{{{rng.randint(1, 9)}}}{{{rng.randint(11, 19)}}}", "x+1"]
        for _ in range(samples):
            roll = rng.random()
            if roll < 0.6:
                answer = f"\\boxed{{{rng.choice(spellings(gold))}}}"
            elif roll < 0.95:
                answer = f"\\boxed{{{rng.choice(wrong)}}}"
            else:
                answer = None  # ran out of tokens mid-way, as some samples do
            reasoning = REASONING * rng.randint(4, 12)
            ending = f"Therefore, the final answer is {answer}." if answer else "So we try"
            responses.append(f"{reasoning}\n{ending}")
            targets.append(gold)
    return responses, targets


def naive_loop(responses: list[str], targets: list[str]) -> list[bool]:
    from math_verify import parse, verify

    return [bool(verify(parse(f"${t}$"), parse(r))) for r, t in zip(responses, targets)]


PATHOLOGICAL = {
    "tower of exponents": ("\\boxed{2^{2^{2^{2^{2^{2^{2}}}}}}}", "16"),
    "20,000-digit number": ("\\boxed{" + "7" * 20000 + "}", "7"),
    "unbalanced brackets": ("\\boxed{\\frac{1}{2" + "{(" * 5000, "\\frac{1}{2}"),
    "unbalanced parentheses": ("\\boxed{((((((((((((x+1)}", "x+1"),
    "megabyte response": ("word " * 200_000 + "\\boxed{3}", "4"),
    "expansion bomb": ("\\boxed{(x+1)^{100000} - (x+2)^{100000}}", "x^2+1"),
    "factorial bomb": ("\\boxed{(10^{10})!}", "5"),
    "power bomb": ("\\boxed{9^{9^{9^{9}}} + 1}", "3"),
}


def pathological_check() -> list[tuple[str, bool, str, float]]:
    """Each hostile response alone in a batch of 200 normal ones: (name, correct, reason,
    seconds for the whole batch)."""
    normal = [f"{REASONING}\\boxed{{{i % 7}}}" for i in range(200)]
    normal_targets = [str(i % 7) for i in range(200)]
    results = []
    for name, (response, target) in PATHOLOGICAL.items():
        start = time.perf_counter()
        verdicts = grade_many("math500", [*normal, response], [*normal_targets, target])
        seconds = time.perf_counter() - start
        assert all(v.correct for v in verdicts[:-1]), f"{name} disturbed the normal responses"
        results.append((name, verdicts[-1].correct, verdicts[-1].reason, seconds))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=250)
    parser.add_argument("--samples", type=int, default=128)
    parser.add_argument("--baseline", type=int, default=1000, help="responses for the naive loop")
    args = parser.parse_args()

    responses, targets = stream(args.problems, args.samples)
    megabytes = sum(map(len, responses)) / 1e6
    print(f"stream: {len(responses)} responses, {megabytes:.0f} MB, {len(set(targets))} distinct gold answers")

    grade_many("math500", ["\\boxed{\\sqrt{2}}"], ["2"])  # start the pool's workers first
    start = time.perf_counter()
    verdicts = grade_many("math500", responses, targets)
    ours_seconds = time.perf_counter() - start
    ours_rate = len(responses) / ours_seconds
    reasons: dict[str, int] = {}
    for verdict in verdicts:
        reasons[verdict.reason] = reasons.get(verdict.reason, 0) + 1
    print(f"lm_eval_passk.grading.grade_many: {ours_seconds:7.1f} s, {ours_rate:8.0f} responses/s  {reasons}")

    count = min(args.baseline, len(responses))
    subset = random.Random(1).sample(range(len(responses)), count)
    start = time.perf_counter()
    naive = naive_loop([responses[i] for i in subset], [targets[i] for i in subset])
    naive_seconds = time.perf_counter() - start
    naive_rate = count / naive_seconds
    agree = sum(naive[j] == verdicts[i].correct for j, i in enumerate(subset))
    print(f"naive math-verify loop ({count}):   {naive_seconds:7.1f} s, {naive_rate:8.0f} responses/s")
    print(f"speed-up over the naive loop: {ours_rate / naive_rate:.1f}x")
    print(f"agreement with math-verify on those {count}: {agree}/{count}")

    print("pathological inputs (each in a batch with 200 normal responses):")
    for name, correct, reason, seconds in pathological_check():
        print(f"  {name:24s} correct={correct!s:5s} reason={reason:12s} batch {seconds:5.2f} s")


if __name__ == "__main__":
    main()
