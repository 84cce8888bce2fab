"""Peak memory of `lm-eval-passk report` on a samples file of over a gigabyte.

The file: one lm-eval run directory with a single `samples_math500_passk_<date>.jsonl`
(plain JSON lines, rows as lm_eval_passk.analysis.demo._row writes them) and its
`results_<date>.json`. Each row is one problem with n = 1024 responses of about 2 KB of
reasoning text ending in a boxed answer, their JSON verdicts, the logged counts and pass@k;
rows are added until the file reaches `--gigabytes` (default 1.1, about 500 problems). It is
written row by row into a fresh temporary directory, deleted at the end unless `--keep`.

Baseline, measured in the same run: a process that imports the modules `report` uses
(lm_eval_passk.cli, .analysis.runs, .analysis.summary, numpy) and reads nothing. Each
command runs in a fresh process under a small wrapper process that reports its one
child's ru_maxrss (RUSAGE_CHILDREN), so every figure is one process's own peak: measured
from this script directly, a child would inherit this script's high-water mark through
fork and exec. `--naive` adds `[json.loads(line) for line in open(path)]`, which holds
every row at once: about as much memory as the file is large.

    python benchmarks/report_memory.py [--gigabytes 1.1] [--dir /tmp] [--keep] [--naive]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from lm_eval_passk.metrics import pass_at_k, report_ks
from lm_eval_passk.run_format import GradingSettings

TASK = "math500_passk"
DATE = "2025-01-01T00-00-00.000000"
MODEL = "bench/memory-model"
SAMPLES = 1024
RESPONSE_CHARS = 2048
MiB = 1024 * 1024

# Runs argv[2:], its stdout to the file argv[1]; prints that child's peak RSS and time.
WRAPPER = """
import json, resource, subprocess, sys, time
with open(sys.argv[1], "wb") as out:
    start = time.perf_counter()
    code = subprocess.run(sys.argv[2:], stdout=out).returncode
    seconds = time.perf_counter() - start
kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "seconds": seconds, "kib": kib}))
"""
BASELINE = "import lm_eval_passk.cli, lm_eval_passk.analysis.runs, lm_eval_passk.analysis.summary, numpy"
NAIVE = "import json, sys; rows = [json.loads(line) for line in open(sys.argv[1])]; print(len(rows))"

TEMPLATES = [
    "Let $x = {a}$ and $y = {b}$, so that $x + y = {s}$ and $xy = {p}$.",
    "We expand $(x + {a})^2 = x^2 + {d}x + {q}$ and compare coefficients.",
    "Since ${a} \\equiv {m} \\pmod{{{b}}}$, the remainder must be ${m}$.",
    "Hmm, wait. Let me re-check the case $n = {a}$: it gives ${p}$, not ${s}$.",
    "By the AM-GM inequality, $\\frac{{{a} + {b}}}{{2}} \\geq \\sqrt{{{p}}}$.",
    "Substituting back, we get $f({a}) = {q} - {d} + {b} = {s}$.",
    "The number of ways to choose ${b}$ items from ${a}$ is $\\binom{{{a}}}{{{b}}}$.",
    "Therefore the area is $\\frac{{1}}{{2}} \\cdot {a} \\cdot {b} = \\frac{{{p}}}{{2}}$.",
    "So we need to solve ${a}t^2 - {s}t + {b} = 0$, whose discriminant is ${q}$.",
    "Let me verify this with a smaller example, say ${m}$ and ${b}$, which works.",
    "Now the sum $\\sum_{{k=1}}^{{{a}}} k = \\frac{{{a} \\cdot {s}}}{{2}}$.",
    "Note that $\\gcd({a}, {b}) = {m}$, so the fraction does not simplify further.",
]


def sentence_pool(rng: random.Random, size: int = 4096) -> list[str]:
    pool = []
    for _ in range(size):
        a, b = rng.randint(2, 999), rng.randint(2, 99)
        pool.append(rng.choice(TEMPLATES).format(
            a=a, b=b, s=a + b, p=a * b, d=2 * a, q=a * a, m=a % b
        ))
    return pool


def write_row(out: TextIO, index: int, pool: list[str], rng: random.Random) -> None:
    """One problem's row, in the run format (lm_eval_passk.run_format), as the demo writes it."""
    gold = str(rng.randint(1, 9999))
    rate = rng.random() ** 3  # mostly hard problems, a few easy ones
    flags = [rng.random() < rate for _ in range(SAMPLES)]
    correct = sum(flags)
    sentences = RESPONSE_CHARS * len(pool) // sum(len(s) + 1 for s in pool)
    responses, verdicts = [], []
    for j, ok in enumerate(flags):
        answer = gold if ok else str(int(gold) + 1 + j % 3)
        text = " ".join(rng.choices(pool, k=sentences))
        responses.append(f"{text} The final answer is $\\boxed{{{answer}}}$.")
        verdicts.append(json.dumps({"correct": ok, "answer": answer, "reason": "match" if ok else "mismatch"}))
    ks = report_ks(SAMPLES)
    row = {
        "doc_id": index,
        "doc": {
            "problem_id": f"bench-{index:04d}", "problem": f"Synthetic problem {index}.",
            "answer": gold, "solution": "", "passk_prompt": f"Synthetic problem {index}.",
        },
        "target": gold,
        "resps": [responses],
        "filtered_resps": [verdicts],
        "filter": "passk",
        "n_samples": SAMPLES,
        "n_correct": correct,
        **{f"pass@{k}": float(v) for k, v in zip(ks, pass_at_k(SAMPLES, correct, ks))},
    }
    out.write(json.dumps(row) + "\n")


def write_samples(run_dir: Path, target_bytes: int, seed: int = 0) -> tuple[Path, int]:
    """Write rows until the samples file holds `target_bytes`; return (path, problems)."""
    rng = random.Random(seed)
    pool = sentence_pool(rng)
    path = run_dir / f"samples_{TASK}_{DATE}.jsonl"
    problems = 0
    with path.open("w", encoding="utf-8") as out:
        while out.tell() < target_bytes:
            write_row(out, problems, pool, rng)
            problems += 1
    results = {
        "results": {TASK: {}},
        "configs": {TASK: {"task": TASK, "repeats": SAMPLES, "passk": {
            "n": SAMPLES, "ks": report_ks(SAMPLES), **GradingSettings("math500").to_dict(),
        }}},
        "model_name": MODEL,
        "date": DATE,
    }
    (run_dir / f"results_{DATE}.json").write_text(json.dumps(results, indent=2))
    return path, problems


def measure(command: list[str], stdout: Path) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of `command` run in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(stdout), *command], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"wrapper failed: {done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise SystemExit(f"{command[:4]} exited with {result['code']}: {done.stderr}")
    return result["kib"] / 1024, result["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.1, help="samples file size (default 1.1)")
    parser.add_argument("--dir", type=Path, help="make the temporary run directory here (default /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the run directory")
    parser.add_argument("--naive", action="store_true", help="also measure a naive reader (memory ~ file size)")
    args = parser.parse_args()

    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="passk-memory-", dir=args.dir))
    try:
        path, problems = write_samples(run_dir, int(args.gigabytes * 1e9))
        size = path.stat().st_size
        print(f"samples file: {size / 1e9:.2f} GB ({size / MiB:,.0f} MiB), {problems} problems x n={SAMPLES}")

        output = run_dir / "stdout.txt"
        base_mib, _ = measure([sys.executable, "-c", BASELINE], output)
        command = [sys.executable, "-m", "lm_eval_passk.cli", "report", str(run_dir), "--format", "json"]
        report_mib, seconds = measure(command, output)
        summary = json.loads(output.read_text())["tasks"][TASK][MODEL]
        if (summary["problems"], summary["n"]) != (problems, SAMPLES):
            raise SystemExit(f"report read {summary['problems']} problems, n={summary['n']}")

        print(f"peak RSS, baseline (imports only):  {base_mib:8.1f} MiB")
        print(f"peak RSS, report --format json:     {report_mib:8.1f} MiB")
        print(f"report / baseline ratio:            {report_mib / base_mib:8.2f}")
        print(f"report extra over baseline:         {report_mib - base_mib:8.1f} MiB")
        print(f"report peak RSS / file size:        {report_mib * MiB / size:8.4f}")
        print(f"report time:                        {seconds:8.1f} s ({size / 1e9 / seconds:.2f} GB/s)")
        if args.naive:
            naive_mib, naive_s = measure([sys.executable, "-c", NAIVE, str(path)], output)
            print(f"peak RSS, naive json.loads list:    {naive_mib:8.1f} MiB ({naive_s:.1f} s)")
            print(f"naive / report ratio:               {naive_mib / report_mib:8.1f}")
    finally:
        if args.keep:
            print(f"kept {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
