"""The identical-responses guard: greedy decoding, a fixed seed or a cache hit."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from conftest import FIXTURE_DATA, lm_eval_args, offline_env, run_lm_eval

from lm_eval_passk.metrics.sampling import (
    all_identical,
    identical_fraction,
    pooled_duplicate_fraction,
    sampling_is_degenerate,
)


def test_identical_fraction() -> None:
    assert all_identical(["a", "a", "a"])
    assert not all_identical(["a", "b", "a"])
    assert not all_identical(["a"])  # one sample is not evidence of anything
    assert identical_fraction([["a", "a"], ["b", "c"], ["d", "d"], ["e", "f"]]) == 0.5
    assert identical_fraction([]) == 0.0


def test_most_problems_identical_is_degenerate() -> None:
    assert not sampling_is_degenerate(0.5)  # half is not "most"
    assert sampling_is_degenerate(0.51)
    assert sampling_is_degenerate(1.0)


def test_filter_warns_loudly(tmp_path: Path, monkeypatch, caplog) -> None:
    from lm_eval_passk.tasks._common.filter import GradeAllResponses

    monkeypatch.setenv("LM_EVAL_PASSK_RAW_DIR", str(tmp_path))
    docs = [{"problem_id": f"p{i}", "answer": "2"} for i in range(3)]
    resps = [["\\boxed{2}"] * 4, ["\\boxed{1}"] * 4, ["\\boxed{1}", "\\boxed{2}", "x", "y"]]
    with caplog.at_level(logging.WARNING, logger="lm_eval.passk"):
        graded = GradeAllResponses(benchmark="math500").apply(resps, docs)
    assert "67% of problems got n identical responses" in caplog.text
    assert [g.identical for g in graded] == [True, True, False]
    assert [g.n_correct for g in graded] == [4, 0, 1]


def test_greedy_run_is_marked_in_results(tiny_model: Path, tmp_path: Path) -> None:
    # This run also selects the paper's grader through --metadata, as users would.
    result = run_lm_eval(
        lm_eval_args(
            "hf", f"pretrained={tiny_model},dtype=float32", "math500_passk",
            {"n": 4, "data_dir": str(FIXTURE_DATA), "grader": "paper"}, tmp_path / "out",
            # What the stock aime24_pass_avg_32 task does: repeat greedy decoding.
            "--gen_kwargs", "do_sample=False,temperature=0", "--batch_size", "4", "--device", "cpu",
        ),
        env=offline_env(tmp_path / "raw"),
        cwd=tmp_path,
    )
    assert "100% of problems got n identical responses" in result.stdout + result.stderr
    (results_file,) = (tmp_path / "out").rglob("results_*.json")
    results = json.loads(results_file.read_text())
    passk = results["configs"]["math500_passk"]["passk"]
    assert passk["sampling_degenerate"] is True
    assert passk["identical_fraction"] == 1.0
    assert results["results"]["math500_passk"]["identical_responses,passk"] == 1.0
    assert passk["grader"] == "paper"
    assert sum(passk["reasons"].values()) == 3 * 4
    # The tiny model's greedy answer is short (19 characters), and short answers may
    # legitimately repeat: the duplicate guard ignores them, the identical guard fired.
    (samples_file,) = (tmp_path / "out").rglob("samples_math500_passk_*.jsonl")
    responses = [json.loads(line)["resps"][0] for line in samples_file.open()]
    assert all(len(r) <= 200 for problem in responses for r in problem)
    assert pooled_duplicate_fraction(responses) == passk["duplicate_fraction"] == 0.0
    assert passk["sampling_duplicated"] is False
    assert "exactly repeat" not in result.stdout + result.stderr
