"""What each math grader does with responses that never box their answer, on labelled data.

The question (docs/GRADING.md, "No box"): when a response neither boxes nor states its
answer, should the grader take nothing (`strict`), the last math span or number of a
response that ends like a finished sentence (`default`; math-verify takes the last math
without that condition) or the last number (`paper`)? Base models box less
often than RL models trained with a format reward, so the choice can bias a base-vs-RL
comparison. Measured on labelled outputs in ../shared/data/labelled_outputs:

- `boxed`: Qwen2.5-Math's 800 MATH responses as published (all box their answer);
- `unboxed`: the same responses with every `\\boxed{X}` written as plain `X`, as a base
  model that concludes without a box writes them (the label still applies);
- `cut`: the same unboxed responses cut at half their length: they never reached a
  conclusion, so crediting one is a false credit whatever its label (the label of the
  full response is not the truth for the cut one: every credit here counts as wrong);
- `gsm8k-prose`: OpenAI's 5,276 GPT-3 GSM8K solutions (`is_correct` labels), graded as a
  MATH-style task, without GSM8K's own `####`/last-number convention: prose answers.

For each grader and set: agreement with the labels, and the verdicts that differ from the
`strict` grader's, split into right and wrong by the label.

    python benchmarks/no_box_policy.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from lm_eval_passk.grading import grade_many

GRADERS = ("strict", "default", "paper")
BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}")


def labelled_sets(data: Path) -> dict[str, tuple[list[str], list[str], list[bool]]]:
    """name -> (responses, golds, labels)."""
    rows = [json.loads(line) for line in (data / "labelled_outputs/math_qwen/math_cot_100.jsonl").open()]
    responses, golds, labels = [], [], []
    for row in rows:
        for response, label in zip(row["response"], row["score"]):
            responses.append(response)
            golds.append(row["gt"])
            labels.append(bool(label))
    unboxed = [BOXED.sub(r"\1", response) for response in responses]
    cut = [response[: len(response) // 2] for response in unboxed]
    gsm_responses, gsm_golds, gsm_labels = [], [], []
    for line in (data / "labelled_outputs/gsm8k_openai/example_model_solutions.jsonl").open():
        row = json.loads(line)
        gold = row["ground_truth"].rsplit("A:", 1)[1].strip()
        for setting in ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"):
            gsm_responses.append(row[setting]["solution"])
            gsm_golds.append(gold)
            gsm_labels.append(row[setting]["is_correct"])
    return {
        "boxed": (responses, golds, labels),
        "unboxed": (unboxed, golds, labels),
        "cut": (cut, golds, [False] * len(cut)),
        "gsm8k-prose": (gsm_responses, gsm_golds, gsm_labels),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    print(f"{'set':<12} {'grader':<10} {'n':>6} {'agree':>14} {'credited':>9} "
          f"{'differ from strict':>20} {'of which right':>15}")
    for name, (responses, golds, labels) in labelled_sets(args.data).items():
        verdicts = {g: [v.correct for v in grade_many("math500", responses, golds, grader=g)] for g in GRADERS}
        for grader in GRADERS:
            correct = verdicts[grader]
            agree = sum(c == label for c, label in zip(correct, labels))
            changed = [i for i, c in enumerate(correct) if c != verdicts["strict"][i]]
            right = sum(correct[i] == labels[i] for i in changed)
            print(f"{name:<12} {grader:<10} {len(labels):>6} {agree:>6} ({agree / len(labels):6.1%}) "
                  f"{sum(correct):>9} {len(changed):>20} {right:>15}")


if __name__ == "__main__":
    main()
