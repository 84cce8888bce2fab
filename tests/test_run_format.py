"""The run format's owner: settings recorded once in the results and honoured when runs are
read back (regrading, judges), complete results under data parallelism, and the layering
that keeps analysis, judge and the pure packages apart."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from conftest import FIXTURE_DATA

from lm_eval_passk.cli import main
from lm_eval_passk.run_format import GradingSettings, Journal, VoteKey, journal_path

PACKAGE = Path(__file__).resolve().parent.parent / "lm_eval_passk"
DATE = "2025-02-03T04-05-06.000007"


def write_graded_run(directory: Path, grader: str) -> Path:
    """One problem whose gold is pi, two responses, recorded as graded by `grader`: the
    paper's grader accepts 3.14159 for pi (math-verify's float tolerance), ours does not
    (docs/GRADING.md); the logged verdicts say whatever the run's grader said."""
    folder = directory / "org__model"
    folder.mkdir(parents=True)
    responses = ["So it is \\boxed{3.14159}.", "So it is \\boxed{3}."]
    verdicts = [json.dumps({"correct": grader == "paper", "answer": "3.14159", "reason": "match"}),
                json.dumps({"correct": False, "answer": "3", "reason": "mismatch"})]  # fmt: skip
    row = {
        "doc_id": 0,
        "doc": {
            "problem_id": "p1", "problem": "Area of the unit disc?", "answer": "\\pi",
            "solution": "", "passk_prompt": "Area?",
        },
        "target": "\\pi",
        "resps": [responses],
        "filtered_resps": [verdicts],
    }
    (folder / f"samples_toy_passk_{DATE}.jsonl").write_text(json.dumps(row) + "\n")
    block = {"n": 2, "ks": [1, 2], **GradingSettings("math500", grader=grader).to_dict()}
    results = {"model_name": "org/model", "configs": {"toy_passk": {"passk": block}}}
    (folder / f"results_{DATE}.json").write_text(json.dumps(results))
    return directory


def pass_at_1(capsys, *args: str) -> float:
    assert main(["report", *args, "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["tasks"]["toy_passk"]["org/model"]
    return summary["pass_at_k"]["1"]


def test_a_regrade_uses_the_grader_the_run_recorded(tmp_path: Path, capsys) -> None:
    paper = write_graded_run(tmp_path / "paper", "paper")
    assert pass_at_1(capsys, str(paper)) == 0.5  # the logged verdicts
    assert pass_at_1(capsys, str(paper), "--regrade") == 0.5  # regraded with "paper"
    assert pass_at_1(capsys, str(paper), "--regrade", "--grader", "default") == 0.0
    ours = write_graded_run(tmp_path / "default", "default")
    assert pass_at_1(capsys, str(ours), "--regrade") == 0.0
    assert pass_at_1(capsys, str(ours), "--regrade", "--grader", "paper") == 0.5


def test_an_unknown_judge_is_an_error_naming_the_judges_present(tmp_path: Path, capsys) -> None:
    run = write_graded_run(tmp_path / "run", "paper")
    assert main(["report", str(run), "--judge", "nobody"]) == 2
    assert "no judge journal" in capsys.readouterr().err
    (samples,) = run.rglob("samples_*.jsonl")
    journal = Journal(journal_path(samples))
    journal.record(VoteKey("alice", "p1", 0, 0), "yes", "Sound reasoning.")
    journal.close()
    assert main(["report", str(run), "--judge", "nobody"]) == 2
    err = capsys.readouterr().err
    assert "--judge nobody" in err and "alice" in err
    assert main(["report", str(run), "--judge", "alice", "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["tasks"]["toy_passk"]["org/model"]
    assert summary["judge"] == {"judged": 1, "unjudged": 0, "abstentions": 0}


def test_the_passk_block_comes_from_what_lm_eval_gathers_from_every_rank() -> None:
    """Under data parallelism each rank runs process_results on its own share of problems
    and lm-eval gathers the per-problem metric values to rank 0, which aggregates them and
    then dumps the config. The block must hold every rank's problems, not rank 0's."""
    from lm_eval.tasks import TaskManager

    metadata = {"n": 2, "data_dir": str(FIXTURE_DATA)}
    task = TaskManager(metadata=metadata).load_task_or_group(["gsm8k_passk"])["gsm8k_passk"]
    rank0 = [
        {"id": "gsm8k-test-0", "n": 2, "c": 1, "identical": False, "long_responses": 2,
         "repeated_responses": 0, "reasons": {"match": 1, "mismatch": 1}},
    ]  # fmt: skip
    rank1 = [
        {"id": "gsm8k-test-1", "n": 2, "c": 2, "identical": True, "long_responses": 2,
         "repeated_responses": 1, "reasons": {"match": 2}},
        {"id": "gsm8k-test-2", "n": 2, "c": 0, "identical": False, "long_responses": 0,
         "repeated_responses": 0, "reasons": {"no_answer": 2}},
    ]  # fmt: skip
    assert task.aggregation()["problems"](rank0 + rank1) == 3
    block = task.dump_config()["passk"]
    assert block["problems"] == {
        "gsm8k-test-0": {"n_samples": 2, "n_correct": 1, "identical": False, "long_responses": 2, "repeated_responses": 0},
        "gsm8k-test-1": {"n_samples": 2, "n_correct": 2, "identical": True, "long_responses": 2, "repeated_responses": 1},
        "gsm8k-test-2": {"n_samples": 2, "n_correct": 0, "identical": False, "long_responses": 0, "repeated_responses": 0},
    }  # fmt: skip
    assert block["reasons"] == {"match": 3, "mismatch": 1, "no_answer": 2}
    assert block["identical_fraction"] == pytest.approx(1 / 3)
    # Pooled over both ranks' problems: 1 repeat among 4 long responses.
    assert block["duplicate_fraction"] == 0.25
    assert block["sampling_duplicated"] is True
    assert (block["benchmark"], block["grader"], block["n"]) == ("gsm8k", "default", 2)
    # The docs hold the problem, never the settings.
    doc = next(iter(task.test_docs()))
    assert set(doc) == {
        "problem_id", "problem", "answer", "solution", "passk_prompt", "passk_record", "passk_fields",
    }


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of its code (function-level too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def imports_of(folder: str) -> dict[str, set[str]]:
    return {
        str(path.relative_to(PACKAGE)): imported_modules(path)
        for path in (PACKAGE / folder).rglob("*.py")
    }


def test_the_layers_import_only_downwards() -> None:
    def offending(folder: str, forbidden: str) -> list[str]:
        return [
            f"{file} imports {module}"
            for file, modules in imports_of(folder).items()
            for module in sorted(modules)
            if module == forbidden or module.startswith(forbidden + ".")
        ]

    assert offending("metrics", "lm_eval") == []
    assert offending("grading", "lm_eval") == []
    assert offending("analysis", "lm_eval_passk.judge") == []
    assert offending("judge", "lm_eval_passk.analysis") == []
    assert [m for m in imported_modules(PACKAGE / "run_format.py") if m.startswith("lm_eval") and not m.startswith("lm_eval_passk")] == []
    assert offending("grading", "lm_eval_passk.run_format") == []  # the format sits above grading


def test_a_task_built_from_python_refuses_a_prompt_of_the_wrong_kind() -> None:
    """Runs started from Python skip the CLI's early check; the task itself still refuses
    a code prompt on a math task, naming the prompts that fit."""
    from lm_eval.tasks import TaskManager

    metadata = {"n": 2, "data_dir": str(FIXTURE_DATA), "prompt": "code"}
    with pytest.raises(ValueError, match="does not fit gsm8k_passk, a math task; valid prompts: boxed"):
        TaskManager(metadata=metadata).load_task_or_group(["gsm8k_passk"])
