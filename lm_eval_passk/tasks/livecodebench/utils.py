"""LiveCodeBench (`livecodebench/code_generation_lite`), release v5, contests 2024-08-01 to
2025-01-31: 279 problems.

From the hub, the release's JSONL files are read directly (`datasets` >= 4 no longer runs
the dataset's loading script); with `data_dir`, the same files from `<data_dir>/livecodebench/`.
Release k is the files test.jsonl, test2.jsonl, ..., testk.jsonl.
"""

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from lm_eval_passk.tasks._common.dataset import (
    BenchmarkLoader,
    BenchmarkSource,
    Problem,
    fields_of,
    jsonl_rows,
)

HUB_REPO = "livecodebench/code_generation_lite"
RELEASES = {f"release_v{k}": [f"test{'' if i == 1 else i}.jsonl" for i in range(1, k + 1)] for k in range(1, 7)}
DEFAULT_WINDOW = ("release_v5", "2024-08-01", "2025-01-31")
# The --metadata keys this loader reads besides the common ones (_common/options.py).
OPTION_KEYS = ("release", "start_date", "end_date")
# The record the grader needs; the tests stay as the dataset stores them (private ones
# compressed), so the record in each logged sample row stays small.
RECORD_FIELDS = (
    "question_id", "question_title", "question_content", "platform", "contest_id", "contest_date",
    "starter_code", "difficulty", "public_test_cases", "private_test_cases", "metadata",
)
FIELDS = ("difficulty", "platform")  # what `lm-eval-passk report --by` can group by
INSTRUCTION = (
    "You will be given a question (problem specification) and will generate a correct Python "
    "program that matches the specification and passes all tests."
)
STDIN_FORMAT = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not "
    "directly test on the sample inputs). Enclose your code within delimiters as follows. "
    "Ensure that when the python program runs, it reads the inputs, runs the algorithm and "
    "writes output to STDOUT.\n```python\n# YOUR CODE HERE\n```"
)
STARTER_FORMAT = (
    "You will use the following starter code to write the solution to the problem and enclose "
    "your code within delimiters.\n```python\n{starter_code}\n```"
)


def problem_text(row: dict[str, Any]) -> str:
    """LiveCodeBench's own prompt: the instruction, the question, and the format section."""
    starter = row.get("starter_code") or ""
    form = STARTER_FORMAT.replace("{starter_code}", starter) if starter.strip() else STDIN_FORMAT
    return f"{INSTRUCTION}\n\nQuestion: {row['question_content']}\n\n{form}\n\n"


def to_problem(row: dict[str, Any], index: int) -> Problem:
    return Problem(
        problem_id=f"lcb-{row['question_id']}",
        problem=problem_text(row),
        answer="",  # a code problem's gold is its tests, in the record
        record={field: row.get(field) for field in RECORD_FIELDS},
        fields=fields_of(row, FIELDS),
    )


def release_files(release: str) -> list[str]:
    if release not in RELEASES:
        raise ValueError(f"--metadata 'release' must be one of {', '.join(RELEASES)}, got {release!r}")
    return RELEASES[release]


def missing_release_message(folder: Path, release: str) -> str:
    """Which files `release` lacks in `folder`, and which release the files there make."""
    missing = [str(folder / name) for name in release_files(release) if not (folder / name).is_file()]
    present = [name for name, files in RELEASES.items() if all((folder / f).is_file() for f in files)]
    advice = (
        f"the files there make {present[-1]}: pass --metadata '{{\"release\": \"{present[-1]}\"}}'"
        if present
        else "no release is complete there"
    )
    default = " (the default)" if release == DEFAULT_WINDOW[0] else ""
    return (
        f"livecodebench {release}{default} needs {', '.join(release_files(release))} in {folder}; "
        f"missing: {', '.join(missing)}; {advice}, or add the missing files"
    )


def local_rows(release: str) -> Any:
    def read(folder: Path) -> Iterator[tuple[str, dict[str, Any]]]:
        if not all((folder / name).is_file() for name in release_files(release)):
            raise FileNotFoundError(missing_release_message(folder, release))
        for name in release_files(release):
            yield from jsonl_rows(folder / name)

    return read


def hub_rows(release: str) -> Any:
    def read() -> Iterator[tuple[str, dict[str, Any]]]:
        from huggingface_hub import hf_hub_download

        for name in release_files(release):
            yield from jsonl_rows(Path(hf_hub_download(HUB_REPO, name, repo_type="dataset")))

    return read


def in_window(row: dict[str, Any], start: str, end: str) -> bool:
    """Contest date within [start, end], dates compared as YYYY-MM-DD."""
    return start <= str(row["contest_date"])[:10] <= end


SOURCE = BenchmarkSource(
    name="livecodebench",
    hub_path=HUB_REPO,
    hub_split="test",
    local_file="livecodebench",
    to_problem=to_problem,
)


def for_window(source: BenchmarkSource, metadata: dict[str, Any]) -> BenchmarkSource:
    """The source narrowed to `release` and the `start_date`..`end_date` window."""
    release, start, end = (
        metadata.get(key, default) for key, default in zip(OPTION_KEYS, DEFAULT_WINDOW)
    )
    release_files(release)  # validate early, with a clear message
    for key, value in (("start_date", start), ("end_date", end)):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
            raise ValueError(f"--metadata '{key}' must be a date YYYY-MM-DD, got {value!r}")
    return replace(
        source,
        read_local=local_rows(release),
        read_hub=hub_rows(release),
        include=lambda row: in_window(row, start, end),
    )


load = BenchmarkLoader(SOURCE, for_window, OPTION_KEYS, prompt_kind="code")
