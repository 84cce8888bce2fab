"""Peak memory of `lm-eval-passk merge` on 16 shards totalling over a gigabyte.

The shards: 16 run directories as 16 seeded jobs of one evaluation leave them, each with
`samples_math500_passk_<date>.jsonl` and a results file carrying the passk block; every
shard holds the same problems with n = 64 responses of about 2 KB of reasoning each (so the
merged run has n = 1024), problems added until the 16 files reach `--gigabytes` together
(default 1.1). Written into a fresh temporary directory, deleted at the end unless `--keep`.

Baseline, measured in the same run: a process that imports what `merge` uses
(lm_eval_passk.cli, .analysis.merge) and reads nothing. Each command runs in a fresh process
under report_memory.py's wrapper, so every figure is that one process's own peak.

    python benchmarks/merge_memory.py [--gigabytes 1.1] [--dir /tmp] [--keep]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path

from report_memory import MiB, measure, sentence_pool

from lm_eval_passk.metrics import pass_at_k, report_ks
from lm_eval_passk.run_format import GradingSettings

TASK = "math500_passk"
MODEL = "bench/merge-model"
SHARDS = 16
SAMPLES = 64  # per shard: 16 x 64 = 1024 merged
RESPONSE_CHARS = 2048
BASELINE = "import lm_eval_passk.cli, lm_eval_passk.analysis.merge"


def shard_row(index: int, pool: list[str], rng: random.Random) -> str:
    gold = str(1000 + index)
    flags = [rng.random() < 0.3 for _ in range(SAMPLES)]
    sentences = RESPONSE_CHARS * len(pool) // sum(len(s) + 1 for s in pool)
    responses, verdicts = [], []
    for j, ok in enumerate(flags):
        answer = gold if ok else str(int(gold) + 1 + j % 3)
        responses.append(" ".join(rng.choices(pool, k=sentences)) + f" So $\\boxed{{{answer}}}$.")
        verdicts.append(json.dumps({"correct": ok, "answer": answer, "reason": "match" if ok else "mismatch", "detail": ""}))
    c, ks = sum(flags), report_ks(SAMPLES)
    row = {
        "doc_id": index,
        "doc": {"problem_id": f"bench-{index:04d}", "problem": f"Problem {index}.", "answer": gold,
                "solution": "", "passk_prompt": f"Problem {index}.", "passk_record": ""},
        "target": gold, "resps": [responses], "filtered_resps": [verdicts], "filter": "passk",
        "n_samples": SAMPLES, "n_correct": c,
        **{f"pass@{k}": float(v) for k, v in zip(ks, pass_at_k(SAMPLES, c, ks))},
    }  # fmt: skip
    return json.dumps(row) + "\n"


def write_shards(root: Path, target_bytes: int) -> tuple[list[Path], int, int]:
    """16 shard runs of the same problems, until together they hold `target_bytes`."""
    pool = sentence_pool(random.Random(0))
    per_shard = target_bytes // SHARDS
    runs, problems, total = [], 0, 0
    for shard in range(SHARDS):
        rng = random.Random(1 + shard)  # its own seed: its own responses
        date = f"2025-01-01T00-00-{shard:02d}.000000"
        folder = root / f"shard-{shard:03d}" / "bench__merge-model"
        folder.mkdir(parents=True)
        path = folder / f"samples_{TASK}_{date}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            index = 0
            while (problems and index < problems) or (not problems and out.tell() < per_shard):
                out.write(shard_row(index, pool, rng))
                index += 1
        problems = index
        block = {"n": SAMPLES, "ks": report_ks(SAMPLES), **GradingSettings("math500").to_dict(),
                 "prompt": "qwen-boxed", "shard": None}  # fmt: skip
        results = {
            "results": {TASK: {}},
            "configs": {TASK: {"task": TASK, "repeats": SAMPLES, "passk": block}},
            "config": {"model": "vllm", "model_args": {"pretrained": MODEL, "seed": 10_000 + shard},
                       "random_seed": 10_000 + shard},
            "model_name": MODEL,
            "date": date,
        }  # fmt: skip
        (folder / f"results_{date}.json").write_text(json.dumps(results, indent=2))
        runs.append(root / f"shard-{shard:03d}")
        total += path.stat().st_size
    return runs, problems, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.1, help="all shards together (default 1.1)")
    parser.add_argument("--dir", type=Path, help="make the temporary directory here (default /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the shards and the merged run")
    args = parser.parse_args()

    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="passk-merge-", dir=args.dir))
    try:
        runs, problems, size = write_shards(root, int(args.gigabytes * 1e9))
        print(f"{SHARDS} shards: {size / 1e9:.2f} GB ({size / MiB:,.0f} MiB), {problems} problems x n={SAMPLES} each")
        output = root / "stdout.txt"
        base_mib, _ = measure([sys.executable, "-c", BASELINE], output)
        command = [sys.executable, "-m", "lm_eval_passk.cli", "merge", *map(str, runs), "--out", str(root / "merged")]
        merge_mib, seconds = measure(command, output)
        (merged,) = (root / "merged").rglob("results_*.json")
        block = json.loads(merged.read_text())["configs"][TASK]["passk"]
        if (len(block["problems"]), block["n"]) != (problems, SHARDS * SAMPLES):
            raise SystemExit(f"merge gave {len(block['problems'])} problems, n={block['n']}")
        print(f"peak RSS, baseline (imports only):  {base_mib:8.1f} MiB")
        print(f"peak RSS, merge of {SHARDS} shards:       {merge_mib:8.1f} MiB")
        print(f"merge / baseline ratio:             {merge_mib / base_mib:8.2f}")
        print(f"merge extra over baseline:          {merge_mib - base_mib:8.1f} MiB")
        print(f"merge peak RSS / input size:        {merge_mib * MiB / size:8.4f}")
        print(f"merge time:                         {seconds:8.1f} s ({size / 1e9 / seconds:.2f} GB/s)")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
