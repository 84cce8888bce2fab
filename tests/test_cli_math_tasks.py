"""The four math tasks through the real `lm_eval` CLI, offline, with a tiny random model.

What is checked against what: the sampling settings against the protocol's numbers; the
reported pass@k against the estimator recomputed here with exact integer binomials from
the logged n_correct; n_correct against the logged per-response verdicts; and, where a
response ends in a `\\boxed{d}` token, the verdict against the fixture's gold answer 2.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from fractions import Fraction
from math import comb

import pytest
from conftest import MATH_RUN_N as N
from conftest import MATH_TASKS

from lm_eval_passk.metrics.sampling import count_duplicates

PROTOCOL_STOPS = {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "</s>"}


def exact_pass_at_k(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(comb(n - c, k), comb(n, k))


@pytest.mark.parametrize("task", MATH_TASKS)
def test_every_response_is_logged_and_graded(math_run: dict, task: str) -> None:
    rows = math_run["samples"][task]
    assert len(rows) == 3
    for row in rows:
        (responses,) = row["resps"]
        (verdicts,) = row["filtered_resps"]
        assert len(responses) == N
        assert len(verdicts) == N
        decoded = [json.loads(v) for v in verdicts]
        assert row["n_samples"] == N
        assert row["n_correct"] == sum(v["correct"] for v in decoded)
        assert row["doc"]["problem_id"]


@pytest.mark.parametrize("task", MATH_TASKS)
def test_sampling_settings_are_the_protocols(math_run: dict, task: str) -> None:
    for row in math_run["samples"][task]:
        prompt, gen_kwargs = row["arguments"]["gen_args_0"].values()
        assert gen_kwargs["do_sample"] is True
        assert gen_kwargs["temperature"] == 0.6
        assert gen_kwargs["top_p"] == 0.95
        assert gen_kwargs["max_gen_toks"] == 16384
        assert set(gen_kwargs["until"]) == PROTOCOL_STOPS
        assert "seed" not in gen_kwargs
        assert "\\boxed{}" in prompt  # the default `boxed` prompt
    config = math_run["results"]["configs"][task]
    assert config["repeats"] == N
    assert config["num_fewshot"] == 0


@pytest.mark.parametrize("task", MATH_TASKS)
def test_reported_pass_at_k_is_the_mean_estimator_over_logged_counts(
    math_run: dict, task: str
) -> None:
    rows = math_run["samples"][task]
    counts = [row["n_correct"] for row in rows]
    results = math_run["results"]["results"][task]
    for k in (1, 2, 4, 8):
        expected = sum(exact_pass_at_k(N, c, k) for c in counts) / len(counts)
        assert results[f"pass@{k},passk"] == pytest.approx(float(expected), abs=1e-12)
        for row in rows:
            assert row[f"pass@{k}"] == pytest.approx(float(exact_pass_at_k(N, row["n_correct"], k)), abs=1e-12)
    assert "pass@16,passk" not in results
    block = math_run["results"]["configs"][task]["passk"]
    # The settings are recorded once, here, and not copied into any doc.
    assert block["benchmark"] == task.removesuffix("_passk")
    assert (block["grader"], block["response_prefix"], block["require_sandbox"]) == ("default", "", False)
    assert not any(key in row["doc"] for row in rows for key in ("passk_task", "passk_grader", "passk_require_sandbox", "passk_response_prefix"))
    assert sum(block["reasons"].values()) == 3 * N
    assert block["reasons"].get("match", 0) == sum(counts)
    per_problem = block["problems"]
    assert per_problem == {
        row["doc"]["problem_id"]: {
            "n_samples": N, "n_correct": row["n_correct"], "identical": False,
            **asdict(count_duplicates(row["resps"][0])),
        }
        for row in rows
    }  # fmt: skip


# Boxes that end a response joined only by these are one list answer (docs/GRADING.md).
BOX_SEPARATOR = re.compile(r"(?:[\s,;$]|\band\b|\bor\b|[a-zA-Z]\s*=)*")


@pytest.mark.parametrize("task", ["math500_passk", "aime24_passk", "minerva_math_passk"])
def test_verdicts_follow_the_final_boxed_answer(math_run: dict, task: str) -> None:
    # Every fixture problem of these tasks has gold answer 2 ("002" for one AIME problem).
    checked = 0
    for row in math_run["samples"][task]:
        (responses,) = row["resps"]
        (verdicts,) = row["filtered_resps"]
        for response, verdict in zip(responses, verdicts):
            boxes = list(re.finditer(r"\\boxed\{(\d)\}", response))
            if not boxes or "\\boxed" in response[boxes[-1].end():]:
                continue
            final = [boxes[-1]]
            for earlier in reversed(boxes[:-1]):
                if not BOX_SEPARATOR.fullmatch(response, earlier.end(), final[0].start()):
                    break
                final.insert(0, earlier)
            if re.search(r"answers?\s*(?:is|are|:)", response[final[0].start():], re.IGNORECASE):
                continue  # a stated answer after the box would count instead
            expected = {box.group(1) for box in final} == {"2"}
            assert json.loads(verdict)["correct"] == expected, response
            checked += 1
    assert checked > 0


def test_raw_responses_are_saved_before_grading(math_run: dict) -> None:
    saved = {}
    for path in math_run["raw"]:
        for line in path.open():
            record = json.loads(line)
            saved[record["problem_id"]] = record["responses"]
    for rows in math_run["samples"].values():
        for row in rows:
            assert saved[row["doc"]["problem_id"]] == row["resps"][0]


def test_varied_samples_raise_no_degenerate_warning(math_run: dict) -> None:
    for task in MATH_TASKS:
        block = math_run["results"]["configs"][task]["passk"]
        assert block["sampling_degenerate"] is False
        assert (block["duplicate_fraction"], block["sampling_duplicated"]) == (0.0, False)
        assert math_run["results"]["results"][task]["duplicate_responses,passk"] == 0.0
    assert "identical responses" not in math_run["log"]
    assert "exactly repeat" not in math_run["log"]
