"""Hand-made runs in the format our tasks write, with each response's text, verdict and
extracted answer chosen by the test (for answer diversity, lengths and guessable problems)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

DATE = "2025-03-04T05-06-07.000008"
TASK = "hand_passk"


@dataclass
class Problem:
    """One problem: its statement, gold and responses as (text, correct, extracted answer)."""

    problem_id: str
    responses: list[tuple[str, bool, str | None]]
    statement: str = "A problem."
    gold: str = "2"
    max_gen_toks: int | None = None  # logged in the row's generation settings
    fields: dict[str, str] = field(default_factory=dict)


def write_run(directory: Path, model: str, problems: list[Problem], task: str = TASK) -> Path:
    """A run directory: samples file and results file (grading recorded as math500)."""
    folder = directory / model.replace("/", "__")
    folder.mkdir(parents=True)
    with (folder / f"samples_{task}_{DATE}.jsonl").open("w") as out:
        for index, problem in enumerate(problems):
            settings = {"do_sample": True, "until": ["</s>"]}
            if problem.max_gen_toks is not None:
                settings["max_gen_toks"] = problem.max_gen_toks
            row = {
                "doc_id": index,
                "doc": {"problem_id": problem.problem_id, "problem": problem.statement, "answer": problem.gold},
                "target": problem.gold,
                "arguments": {"gen_args_0": {"arg_0": problem.statement, "arg_1": settings}},
                "resps": [[text for text, _, _ in problem.responses]],
                "filtered_resps": [[json.dumps({"correct": ok, "answer": answer}) for _, ok, answer in problem.responses]],
            }
            out.write(json.dumps(row) + "\n")
    results = {
        "model_name": model,
        "configs": {task: {"task": task, "passk": {"benchmark": "math500", "grader": "default"}}},
    }
    (folder / f"results_{DATE}.json").write_text(json.dumps(results))
    return directory


def counted(problem_id: str, n: int, c: int, gold: str = "2", statement: str = "A problem.") -> Problem:
    """A problem with c correct responses (answer gold) and n - c wrong (answer 0)."""
    return Problem(problem_id, [(f"\\boxed{{{gold}}}", True, gold)] * c + [("\\boxed{0}", False, "0")] * (n - c),
                   statement, gold)
