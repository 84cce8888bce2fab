"""The figures behind docs/SCALE.md's disk and memory estimates for a large-k run.

Measured on real model outputs (Qwen2.5-Math's example file of 8 sampled chain-of-thought
responses per problem for 100 MATH problems, ../shared/data/labelled_outputs/math_qwen):

- bytes per character of a response once JSON-escaped as in a samples file;
- gzip ratios of such text: one response alone, 100 different problems' responses in one
  stream, and the file's order (8 samples of a problem in a row: near-duplicates that fall
  inside gzip's 32 KB window);
- in-memory sizes: a Python str of 65,536 ASCII characters (16,384 tokens at ~4 characters
  per token) and a Python list of 16,384 token ids, the shape in which vLLM hands back each
  output's tokens beside its text.

    python benchmarks/sample_sizes.py [--file PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import tracemalloc
from pathlib import Path

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "shared/data/labelled_outputs/math_qwen/math_cot_100.jsonl"
TOKENS = 16_384  # the protocol's generation budget
CHARS_PER_TOKEN = 4  # assumption for English prose with LaTeX


def gzip_ratio(text: str) -> float:
    data = text.encode()
    return len(data) / len(gzip.compress(data, compresslevel=6))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.file.open()]
    by_problem = [row["code"] for row in rows]  # each row's sampled responses
    responses = [response for samples in by_problem for response in samples]
    escaped = [json.dumps(response, ensure_ascii=False) for response in responses]
    chars = [len(response) for response in responses]
    print(f"{args.file.name}: {len(rows)} problems, {len(responses)} responses")
    print(f"characters per response: mean {statistics.mean(chars):,.0f}, median {statistics.median(chars):,.0f}, "
          f"max {max(chars):,}")
    print(f"JSON bytes per character: {sum(len(e.encode()) for e in escaped) / sum(chars):.3f}")
    alone = sum(len(e.encode()) for e in escaped) / sum(len(gzip.compress(e.encode(), 6)) for e in escaped)
    print(f"gzip ratio, each response alone:                 {alone:.1f}")
    print(f"gzip ratio, one response of each problem:        {gzip_ratio(chr(10).join(json.dumps(s[0]) for s in by_problem)):.1f}")
    print(f"gzip ratio, the file's order (8 samples in a row): {gzip_ratio(chr(10).join(escaped)):.1f}")

    text = "x" * (TOKENS * CHARS_PER_TOKEN)
    tracemalloc.start()
    token_ids = [random.randrange(1_000, 150_000) for _ in range(TOKENS)]  # ids >= 257 are separate int objects
    ids_bytes, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"python str of {len(text):,} ASCII characters: {sys.getsizeof(text):,} bytes")
    print(f"python list of {len(token_ids):,} token ids: {ids_bytes:,} bytes ({ids_bytes / TOKENS:.1f} per token)")


if __name__ == "__main__":
    main()
