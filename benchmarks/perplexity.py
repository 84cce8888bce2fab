"""Perplexity scoring throughput (`lm-eval-passk perplexity`) on the tiny random model,
against a naive one-response-at-a-time transformers loop.

The run: P problems x K responses (default 16 x 16 = 256), each a random sequence of 20 to
200 words of the tiny model's vocabulary after a prompt of about 15, written as lm-eval
writes a run. Ours: score_run through lm-eval's hf model (batched by lm-eval, journaled
per response), on CPU. Baseline, measured in the same run on the same model: for each
response, tokenize prompt and prompt + response, one forward pass, sum the response's
log-probabilities. The two must agree (largest relative difference of mean NLL printed).

    python benchmarks/perplexity.py [--problems 16] [--samples 16] [--batch_size 16]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from lm_eval_passk.run_format import GradingSettings, read_perplexities, samples_files

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from tiny_model import VOCAB_WORDS, build_tiny_model

DATE = "2025-01-01T00-00-00.000000"


def write_run(directory: Path, problems: int, samples: int, seed: int = 0) -> list[tuple[str, list[str]]]:
    """A run of random responses; returns (prompt, responses) per problem."""
    rng = random.Random(seed)
    rows = []
    folder = directory / "org__bench"
    folder.mkdir(parents=True)
    with (folder / f"samples_bench_passk_{DATE}.jsonl").open("w") as file:
        for index in range(problems):
            prompt = " ".join(rng.choices(VOCAB_WORDS, k=15)) + " "
            responses = [" ".join(rng.choices(VOCAB_WORDS, k=rng.randint(20, 200))) for _ in range(samples)]
            doc = {"problem_id": f"p{index}", "passk_prompt": prompt, "answer": "1"}
            verdicts = [json.dumps({"correct": False, "answer": "", "reason": ""})] * samples
            file.write(json.dumps({"doc_id": index, "doc": doc, "resps": [responses], "filtered_resps": [verdicts]}) + "\n")
            rows.append((prompt, responses))
    results = {"model_name": "bench", "configs": {"bench_passk": {"passk": GradingSettings("math500").to_dict()}}}
    (folder / f"results_{DATE}.json").write_text(json.dumps(results))
    return rows


def naive(model_dir: Path, rows: list[tuple[str, list[str]]]) -> tuple[float, dict[tuple[str, int], float]]:
    """Seconds and mean NLL per response, one forward pass per response."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    values = {}
    start = time.perf_counter()
    with torch.no_grad():
        for index, (prompt, responses) in enumerate(rows):
            for r, response in enumerate(responses):
                context = tokenizer(prompt.rstrip(), add_special_tokens=False).input_ids
                whole = tokenizer(prompt + response, add_special_tokens=False).input_ids
                count = len(whole) - len(context)
                logits = model(torch.tensor([whole[:-1]])).logits[0]
                logprobs = torch.log_softmax(logits, dim=-1)[-count:]
                values[(f"p{index}", r)] = -float(logprobs.gather(1, torch.tensor(whole[-count:])[:, None]).mean())
    return time.perf_counter() - start, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--batch_size", type=int, default=16)
    args = parser.parse_args()

    import torch
    from lm_eval.api.registry import get_model

    from lm_eval_passk.perplexity.score import score_run

    torch.set_num_threads(1)  # one core for both: a shared machine, and a fair ratio
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_dir = build_tiny_model(work / "model")
        rows = write_run(work / "run", args.problems, args.samples)
        total = args.problems * args.samples
        lm = get_model("hf").create_from_arg_string(
            f"pretrained={model_dir},dtype=float32", {"batch_size": args.batch_size, "device": "cpu"}
        )
        start = time.perf_counter()
        score_run(work / "run", lm, scorer="tiny")
        ours = time.perf_counter() - start
        baseline, values = naive(model_dir, rows)
        (samples,) = samples_files(work / "run").values()
        scored = {(e.key.problem_id, e.key.response): e.nll for e in read_perplexities(samples.path)}
        worst = max(abs(scored[key] - value) / value for key, value in values.items())  # type: ignore[operator]
    print(f"{total} responses of 20-200 tokens, tiny model, CPU, 1 thread")
    print(f"lm-eval-passk perplexity (hf, batch_size {args.batch_size}): {total / ours:8.1f} responses/s")
    print(f"naive transformers loop, one response at a time:       {total / baseline:8.1f} responses/s")
    print(f"ratio: {baseline / ours:.2f}x; largest relative difference of mean NLL: {worst:.1e}")


if __name__ == "__main__":
    main()
