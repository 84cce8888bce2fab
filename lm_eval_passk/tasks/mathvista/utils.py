"""MathVista testmini: hub `AI4Math/MathVista` (split testmini, image in `decoded_image`) or
`<data_dir>/mathvista/testmini.json` with `<data_dir>/mathvista/images/<pid>.jpg`.

By default only the 460 free-form problems, as in Yue et al. 2025; `--metadata
'{"question_types": ["free_form", "multi_choice"]}'` adds the multiple-choice ones.
"""

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from lm_eval_passk.tasks._common.dataset import (
    BenchmarkLoader,
    BenchmarkSource,
    DataError,
    Problem,
    fields_of,
)

QUESTION_TYPES = ("free_form", "multi_choice")
# The --metadata keys this loader reads besides the common ones (_common/options.py).
OPTION_KEYS = ("question_types",)
RECORD_FIELDS = ("pid", "question", "choices", "unit", "precision", "answer", "question_type", "answer_type")
# What `lm-eval-passk report --by` can group by: the question's form and its metadata.
FIELDS = ("question_type", "answer_type")
METADATA_FIELDS = ("category", "context", "grade", "source", "task")
_FORMAT_HINTS = {
    "integer": "The answer is an integer.",
    "list": "The answer is a Python list.",
}


def problem_text(row: dict[str, Any]) -> str:
    """The question, its unit, its choices, and the form the answer takes."""
    text = row["question"].strip()
    if row.get("unit"):
        text += f" (Unit: {row['unit']})"
    if row["question_type"] == "multi_choice":
        letters = "ABCDEFGH"
        text += "\nChoices:\n" + "\n".join(f"({letters[i]}) {c}" for i, c in enumerate(row["choices"]))
        return text + "\nAnswer with the letter of the correct choice."
    if row["answer_type"] == "float":
        places = int(row["precision"] or 0)
        return text + f"\nThe answer is a number with {places} decimal place{'s' if places != 1 else ''}."
    hint = _FORMAT_HINTS.get(row["answer_type"])
    return f"{text}\n{hint}" if hint else text


def to_problem(row: dict[str, Any], index: int) -> Problem:
    image = row["decoded_image"] if "decoded_image" in row else row["image_path"]
    return Problem(
        problem_id=f"mathvista-{row['pid']}",
        problem=problem_text(row),
        answer=str(row["answer"]),
        record={field: row[field] for field in RECORD_FIELDS},
        image=image,
        fields=fields_of(row, FIELDS) | fields_of(row.get("metadata") or {}, METADATA_FIELDS),
    )


def read_testmini(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """testmini.json is one object keyed by pid; images lie in images/ beside it."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: invalid JSON ({error.msg}, line {error.lineno})") from None
    for pid, record in records.items():
        image = path.parent / "images" / f"{pid}.jpg"
        if not image.is_file():
            raise DataError(f"{path}, record {pid}: image {image} not found")
        yield f"{path}, record {pid}", {**record, "image_path": str(image)}


SOURCE = BenchmarkSource(
    name="mathvista",
    hub_path="AI4Math/MathVista",
    hub_split="testmini",
    local_file="mathvista/testmini.json",
    to_problem=to_problem,
    read_local=read_testmini,
)


def for_question_types(source: BenchmarkSource, metadata: dict[str, Any]) -> BenchmarkSource:
    """The source narrowed to `question_types` (free-form only, by default)."""
    question_types = metadata.get("question_types", ["free_form"])
    if not question_types or not set(question_types) <= set(QUESTION_TYPES):
        raise ValueError(
            f"--metadata 'question_types' must be a non-empty list of {', '.join(QUESTION_TYPES)}, "
            f"got {question_types!r}"
        )
    return replace(source, include=lambda row: row["question_type"] in question_types)


load = BenchmarkLoader(SOURCE, for_question_types, OPTION_KEYS)
