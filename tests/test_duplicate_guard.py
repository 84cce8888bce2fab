"""The duplicate guard: long responses that repeat exactly mean duplicated sampling (two
jobs with one seed merged, vLLM data parallelism with one seed, --use_cache hits)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from conftest import FIXTURE_DATA, lm_eval_args, offline_env, run_lm_eval

from lm_eval_passk.metrics.sampling import (
    DUPLICATE_WARNING_FRACTION,
    LONG_RESPONSE_CHARS,
    DuplicateCount,
    count_duplicates,
    duplicate_fraction,
    pooled_duplicate_fraction,
    repeated_fraction,
    sampling_is_duplicated,
)

LONG_A = "a" * 201
LONG_B = "b" * 300
LONG_C = "c" * 1000


def test_short_repeats_are_ignored() -> None:
    assert count_duplicates(["\\boxed{2}"] * 8) == DuplicateCount(0, 0)
    assert duplicate_fraction(["\\boxed{2}"] * 8) == 0.0
    # Short repeats beside long responses neither count as long nor as repeats.
    assert count_duplicates(["\\boxed{2}"] * 6 + [LONG_A, LONG_B]) == DuplicateCount(2, 0)


def test_exactly_200_characters_is_not_long() -> None:
    assert LONG_RESPONSE_CHARS == 200
    assert count_duplicates(["x" * 200] * 4) == DuplicateCount(0, 0)
    assert count_duplicates(["x" * 201] * 4) == DuplicateCount(4, 3)
    # Characters, not bytes: 150 two-byte characters (300 bytes in UTF-8) are not long.
    assert count_duplicates(["é" * 150] * 2) == DuplicateCount(0, 0)


def test_long_repeats_count_every_copy_after_the_first() -> None:
    responses = [LONG_A, LONG_B, LONG_A, LONG_C, LONG_A, LONG_B]
    # Six long responses, three distinct texts: A's 2nd and 3rd and B's 2nd repeat.
    assert count_duplicates(responses) == DuplicateCount(long_responses=6, repeated_responses=3)
    assert duplicate_fraction(responses) == 0.5


def test_all_unique_and_all_the_same() -> None:
    assert duplicate_fraction([LONG_A, LONG_B, LONG_C]) == 0.0
    assert duplicate_fraction([LONG_A] * 8) == 7 / 8
    assert duplicate_fraction([LONG_A]) == 0.0
    assert duplicate_fraction([]) == 0.0


def test_repeats_are_counted_within_a_problem_and_pooled_over_problems() -> None:
    problems = [
        [LONG_A, LONG_A],  # 2 long, 1 repeat
        [LONG_A, LONG_B, LONG_C, "short", "short"],  # LONG_A again, but another problem
        ["short"] * 4,  # no long response: adds nothing
    ]
    assert pooled_duplicate_fraction(problems) == 1 / 5
    # Pooled, not the mean of per-problem fractions (which would be (1/2 + 0) / 2).
    assert pooled_duplicate_fraction(problems) != pytest.approx(0.25)
    assert pooled_duplicate_fraction([]) == 0.0
    assert pooled_duplicate_fraction([["short"] * 3]) == 0.0


def test_pooling_counts_equals_pooling_responses() -> None:
    """What a merge does with the passk block's per-problem counts: the same number."""
    problems = [[LONG_A] * 3 + [LONG_B], [LONG_C, LONG_B], ["x" * 250] * 2 + ["short"]]
    counts = [count_duplicates(responses) for responses in problems]
    assert repeated_fraction(counts) == pooled_duplicate_fraction(problems) == 3 / 8


def test_more_than_five_percent_is_suspect() -> None:
    assert DUPLICATE_WARNING_FRACTION == 0.05
    assert not sampling_is_duplicated(0.0)
    assert not sampling_is_duplicated(0.05)  # exactly the threshold is not above it
    assert sampling_is_duplicated(8 / 136)  # one shard of 8 merged twice into 128 samples
    assert sampling_is_duplicated(0.5)  # two same-seed jobs merged


# --- the filter: counted per problem after trimming to n, warned about loudly -----------


def test_filter_warns_loudly_and_carries_each_problems_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from lm_eval_passk.tasks._common.filter import GradeAllResponses

    monkeypatch.setenv("LM_EVAL_PASSK_RAW_DIR", str(tmp_path))
    docs = [{"problem_id": f"p{i}", "answer": "2"} for i in range(3)]
    boxed = " So the answer is \\boxed{2}."
    resps = [
        [LONG_A + boxed, LONG_B + boxed, LONG_A + boxed, "\\boxed{2}"],  # 1 repeat of 3 long
        [LONG_C + boxed, LONG_B + boxed, "\\boxed{2}", "\\boxed{2}"],  # short repeats only
        # lm-eval's data-parallel padding: 2n responses; only the first n = 4 count.
        [LONG_A, LONG_B, LONG_C, "x" * 250, LONG_A, LONG_A, LONG_A, LONG_A],
    ]
    with caplog.at_level(logging.WARNING, logger="lm_eval.passk"):
        graded = GradeAllResponses(benchmark="math500", n=4).apply(resps, docs)
    assert [g.duplicates for g in graded] == [
        DuplicateCount(3, 1), DuplicateCount(2, 0), DuplicateCount(4, 0),
    ]
    # Pooled: 1 repeat among 9 long responses, 11.1% > 5%.
    assert "!" * 80 in caplog.text
    assert "11.1% of long responses (1 of 9 over 200 characters) exactly repeat" in caplog.text
    for cause in ("same seed", "data_parallel_size > 1", "--use_cache"):
        assert cause in caplog.text
    assert [g.n_correct for g in graded] == [4, 4, 0]


def test_filter_is_silent_when_only_short_answers_repeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from lm_eval_passk.tasks._common.filter import GradeAllResponses

    monkeypatch.setenv("LM_EVAL_PASSK_RAW_DIR", str(tmp_path))
    docs = [{"problem_id": f"p{i}", "answer": "2"} for i in range(2)]
    resps = [["\\boxed{2}", "\\boxed{2}", LONG_A, LONG_B], ["\\boxed{3}", "\\boxed{2}", LONG_C, "y" * 201]]
    with caplog.at_level(logging.WARNING, logger="lm_eval.passk"):
        graded = GradeAllResponses(benchmark="math500").apply(resps, docs)
    assert [g.duplicates for g in graded] == [DuplicateCount(2, 0), DuplicateCount(2, 0)]
    assert "repeat" not in caplog.text


# --- through the real `lm_eval`, on the stand-in vllm engine (tests/vllm_stub) ----------
# The tiny model's responses are a dozen words, too short to count; the stand-in engine
# answers every request with texts we script ($VLLM_STUB_RESPONSES, in turn), so the run
# sees long responses that repeat, or long responses that do not. Everything else (lm-eval's
# CLI and vLLM backend, our task, filter, metrics and results) is real.

STUB_DIR = Path(__file__).resolve().parent / "vllm_stub"
N = 8
PROBLEMS = 3  # lines in tests/fixtures/data/math500/test.jsonl


def long_reasoning(number: int) -> str:
    """A distinct chain of thought of about 270 characters ending in a boxed answer."""
    steps = " ".join(f"Step {step}: check draft {number} against the previous line." for step in range(5))
    return f"{steps} So the answer is \\boxed{{{2 if number % 3 else 3}}}."


def stub_run(tiny_model: Path, work: Path, texts: list[str], seed: int | None = None) -> dict:
    """One `lm_eval --model vllm` run of math500_passk (n = 8) whose engine answers `texts`
    in turn (with `seed`, the engine's seed, as a shard is given); its log, results and samples."""
    (work / "texts.json").write_text(json.dumps(texts))
    env = offline_env(work / "raw", extra_pythonpath=STUB_DIR)
    env.update(VLLM_STUB_RESPONSES=str(work / "texts.json"), VLLM_STUB_LOG=str(work / "stub.jsonl"))
    result = run_lm_eval(
        lm_eval_args(
            "vllm", f"pretrained={tiny_model},max_model_len=17000" + (f",seed={seed}" if seed is not None else ""),
            "math500_passk",
            {"n": N, "data_dir": str(FIXTURE_DATA)}, work / "out", "--batch_size", "auto",
        ),
        env=env,
        cwd=work,
    )  # fmt: skip
    (results_file,) = (work / "out").rglob("results_*.json")
    (samples_file,) = (work / "out").rglob("samples_math500_passk_*.jsonl")
    return {
        "log": result.stdout + result.stderr,
        "results": json.loads(results_file.read_text()),
        "rows": [json.loads(line) for line in samples_file.open()],
    }


def check_block_matches_responses(run: dict) -> dict:
    """The passk block's duplicate fields, recomputed from the logged responses."""
    block = run["results"]["configs"]["math500_passk"]["passk"]
    responses = {row["doc"]["problem_id"]: row["resps"][0] for row in run["rows"]}
    assert len(responses) == PROBLEMS and all(len(r) == N for r in responses.values())
    for problem_id, problem in block["problems"].items():
        counts = count_duplicates(responses[problem_id])
        assert (problem["long_responses"], problem["repeated_responses"]) == (
            counts.long_responses, counts.repeated_responses,
        )
    assert block["duplicate_fraction"] == pooled_duplicate_fraction(responses.values())
    assert block["sampling_duplicated"] is sampling_is_duplicated(block["duplicate_fraction"])
    # The per-problem metric: each problem's own fraction, averaged by lm-eval.
    for row in run["rows"]:
        assert row["duplicate_responses"] == duplicate_fraction(row["resps"][0])
    mean = sum(duplicate_fraction(r) for r in responses.values()) / PROBLEMS
    metric = run["results"]["results"]["math500_passk"]["duplicate_responses,passk"]
    assert metric == pytest.approx(mean, abs=1e-12)
    assert run["results"]["higher_is_better"]["math500_passk"]["duplicate_responses"] is False
    return block


@pytest.mark.slow
def test_repeated_long_samples_are_flagged_loudly(tiny_model: Path, tmp_path: Path) -> None:
    # Four long texts in turn for 24 requests: each problem's 8 responses hold at most 4
    # distinct texts, what merging two same-seed jobs of 4 samples each would give.
    run = stub_run(tiny_model, tmp_path, [long_reasoning(i) for i in range(4)])
    assert "!" * 80 in run["log"]
    assert "exactly repeat another response of the same problem" in run["log"]
    assert "same seed" in run["log"]
    block = check_block_matches_responses(run)
    assert block["sampling_duplicated"] is True
    assert block["duplicate_fraction"] >= 0.5
    assert all(problem["long_responses"] == N for problem in block["problems"].values())
    # Not degenerate: no problem's 8 responses are all the same.
    assert block["sampling_degenerate"] is False


@pytest.mark.slow
def test_distinct_long_samples_pass_silently(tiny_model: Path, tmp_path: Path) -> None:
    run = stub_run(tiny_model, tmp_path, [long_reasoning(i) for i in range(PROBLEMS * N)])
    assert "exactly repeat" not in run["log"]
    block = check_block_matches_responses(run)
    assert (block["duplicate_fraction"], block["sampling_duplicated"]) == (0.0, False)
    # Every response was long, so the guard looked at all 24 and found no repeat.
    assert all(problem["long_responses"] == N for problem in block["problems"].values())
