"""MathVision testmini: hub `MathLLMs/MathVision` (split testmini, image in `decoded_image`)
or `<data_dir>/mathvision/testmini.jsonl` (the hub's rows without `decoded_image`) with each
row's `image` path ("images/1.jpg") relative to `<data_dir>/mathvision/`.

Free-form problems only (an empty `options` list), as Yue et al. 2025 removed the
multiple-choice ones.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lm_eval_passk.tasks._common.dataset import (
    BenchmarkLoader,
    BenchmarkSource,
    DataError,
    Problem,
    fields_of,
    jsonl_rows,
)

RECORD_FIELDS = ("id", "question", "options", "answer", "level", "subject")
# What `lm-eval-passk report --by` can group by.
FIELDS = ("level", "subject")
# MathVision questions name their picture inline ("<image1>"); the task puts lm-eval's one
# "<image>" before the question, as mathvista_passk does, so the inline marker goes.
_IMAGE_MARK = re.compile(r"\s*<image\d*>\s*")


def problem_text(row: dict[str, Any]) -> str:
    """The question with its inline image marker removed."""
    return _IMAGE_MARK.sub(" ", row["question"]).strip()


def to_problem(row: dict[str, Any], index: int) -> Problem:
    image = row["decoded_image"] if "decoded_image" in row else row["image_path"]
    return Problem(
        problem_id=f"mathvision-{row['id']}",
        problem=problem_text(row),
        answer=str(row["answer"]),
        record={field: row[field] for field in RECORD_FIELDS},
        image=image,
        fields=fields_of(row, FIELDS),
    )


def read_testmini(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """testmini.jsonl rows, each with its image file (`image`, relative to the folder)."""
    for where, row in jsonl_rows(path):
        image = path.parent / str(row.get("image") or "")
        if not row.get("image") or not image.is_file():
            raise DataError(f"{where}: image {image} not found")
        yield where, {**row, "image_path": str(image)}


SOURCE = BenchmarkSource(
    name="mathvision",
    hub_path="MathLLMs/MathVision",
    hub_split="testmini",
    local_file="mathvision/testmini.jsonl",
    to_problem=to_problem,
    read_local=read_testmini,
    include=lambda row: not row.get("options"),
)

load = BenchmarkLoader(SOURCE)
