"""Load a benchmark from the hub or from a local `data_dir`, as lm-eval's `custom_dataset`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lm_eval_passk.jsonl import json_lines
from lm_eval_passk.run_format import FIELDS, PROBLEM_ID, PROMPT, RECORD
from lm_eval_passk.tasks._common.options import PassKOptions, read_options
from lm_eval_passk.tasks._common.prompts import PROMPT_KINDS, render_prompt


@dataclass(frozen=True)
class Problem:
    """One benchmark problem in the shape every pass@k task uses."""

    problem_id: str
    problem: str
    answer: str  # the gold answer as text (shown in logs; the target of the math graders)
    solution: str = ""
    record: dict[str, Any] | None = None  # the grading target where a text answer is not enough
    image: Any = None  # a PIL image or an image file path, for vision tasks
    # Descriptive fields to break results down by (`report --by level`), as text.
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchmarkSource:
    """Where a benchmark lives and how one of its rows becomes a Problem."""

    name: str  # benchmark name as the graders know it, e.g. "math500"
    hub_path: str
    hub_split: str
    local_file: str  # relative to data_dir, e.g. "math500/test.jsonl"
    to_problem: Callable[[dict[str, Any], int], Problem]  # (row, row index) -> Problem
    hub_config: str | None = None
    # Rows of the local file (or folder) as (where, row); JSON lines unless the benchmark
    # says otherwise. And rows from the hub, where `datasets.load_dataset` cannot read it.
    read_local: Callable[[Path], Iterator[tuple[str, dict[str, Any]]]] | None = None
    read_hub: Callable[[], Iterator[tuple[str, dict[str, Any]]]] | None = None
    include: Callable[[dict[str, Any]], bool] = lambda row: True  # rows to keep


def fields_of(row: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    """The descriptive fields `names` a row has (a hub copy may lack some), as text."""
    return {name: str(row[name]) for name in names if row.get(name) not in (None, "")}


class DataError(ValueError):
    """A benchmark row that cannot become a problem; the message names file and line."""


def jsonl_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for line_number, record in json_lines(path):
        yield f"{path}, line {line_number}", record


def _rows(source: BenchmarkSource, data_dir: Path | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (where, row): `where` names the file and line, or the hub dataset and row."""
    if data_dir is not None:
        path = data_dir / source.local_file
        if not path.exists():
            raise FileNotFoundError(f"{source.name}: expected {path} under data_dir {data_dir}")
        yield from (source.read_local or jsonl_rows)(path)
        return
    if source.read_hub is not None:
        yield from source.read_hub()
        return
    import datasets

    rows = datasets.load_dataset(source.hub_path, source.hub_config, split=source.hub_split)
    for index, record in enumerate(rows):
        yield f"{source.hub_path} [{source.hub_split}] row {index}", record


def load_problems(source: BenchmarkSource, data_dir: Path | None) -> list[Problem]:
    """All problems of a benchmark, each with a non-empty statement and gold answer."""
    problems = []
    rows = ((where, row) for where, row in _rows(source, data_dir) if source.include(row))
    for index, (where, row) in enumerate(rows):
        try:
            problem = source.to_problem(row, index)
        except KeyError as error:
            raise DataError(f"{where}: missing field {error}") from None
        if not problem.problem.strip() or not (problem.answer.strip() or problem.record):
            raise DataError(f"{where}: empty problem statement or gold answer")
        problems.append(problem)
    ids = [problem.problem_id for problem in problems]
    if len(set(ids)) != len(ids):
        raise DataError(f"{source.name}: problem ids are not unique")
    return problems


def shard_of(problems: list[Problem], shard: tuple[int, int] | None) -> list[Problem]:
    """The i-th of m problem shards: every m-th problem from the i-th, in the benchmark's
    order (round robin, so each shard gets a like mix where files are sorted by difficulty
    or year). The m shards are disjoint and together are every problem."""
    if shard is None:
        return problems
    index, count = shard
    return problems[index - 1 :: count]


def only_problems(problems: list[Problem], ids: tuple[str, ...] | None) -> list[Problem]:
    """The problems named by an adaptive round's `problems` key, in the benchmark's order;
    an id the benchmark does not have is an error naming it."""
    if ids is None:
        return problems
    known = {problem.problem_id for problem in problems}
    missing = [i for i in ids if i not in known]
    if missing:
        raise DataError(
            f"--metadata 'problems': {len(missing)} id(s) not in this benchmark (or problem shard), "
            f"e.g. {missing[0]!r}"
        )
    wanted = set(ids)
    return [problem for problem in problems if problem.problem_id in wanted]


def problems_dataset(source: BenchmarkSource, options: PassKOptions) -> Any:
    """A DatasetDict with one `test` split of prompted problems. Only the problems go into
    the docs; settings (grader, sandbox policy, response prefix) are the task's options,
    recorded once in the results (lm_eval_passk.run_format)."""
    import datasets

    every = load_problems(source, options.data_dir)
    problems = shard_of(every, options.shard)
    if not problems and options.shard:
        # lm-eval fails on an empty task with an IndexError deep in its request building.
        index, count = options.shard
        raise ValueError(
            f"--metadata 'shard' {index}/{count}: {source.name} has {len(every)} problem(s), so problem "
            f"shard {index} of {count} is empty; use at most {len(every)} problem shards"
        )
    problems = only_problems(problems, options.problems)
    columns: dict[str, list[Any]] = {
        PROBLEM_ID: [p.problem_id for p in problems],
        "problem": [p.problem for p in problems],
        "answer": [p.answer for p in problems],
        "solution": [p.solution for p in problems],
        # "<image>" marks where lm-eval's multimodal backends put the image.
        PROMPT: [
            ("<image>" if p.image is not None else "") + render_prompt(options.prompt, p.problem)
            for p in problems
        ],
        # Records vary in shape from row to row: JSON text keeps Arrow's schema simple.
        RECORD: [json.dumps(p.record) if p.record is not None else "" for p in problems],
        FIELDS: [json.dumps(p.fields, ensure_ascii=False) for p in problems],
    }
    features = None
    if any(p.image is not None for p in problems):
        columns["image"] = [p.image for p in problems]
        features = datasets.Features(
            {name: datasets.Value("string") for name in columns if name != "image"}
            | {"image": datasets.Image()}
        )
    test = datasets.Dataset.from_dict(columns, features=features)
    return datasets.DatasetDict({"test": test})


Configure = Callable[[BenchmarkSource, dict[str, Any]], BenchmarkSource]


class BenchmarkLoader:
    """A task's `custom_dataset`: its benchmark, and how `--metadata` keys of its own
    (a LiveCodeBench release, MathVista question types) narrow the source. PassKTask
    calls `dataset` with the options it has read once; lm-eval's own call (another task
    class using this loader) reads them here."""

    def __init__(
        self, source: BenchmarkSource, configure: Configure | None = None,
        option_keys: tuple[str, ...] = (), prompt_kind: str = "math",
    ) -> None:
        self.source = source
        self.configure = configure
        self.option_keys = option_keys  # --metadata keys `configure` reads
        self.prompt_kind = prompt_kind  # "math", "code" or "function": which prompts fit (prompts.py)

    @property
    def benchmark(self) -> str:
        return self.source.name

    def dataset(self, options: PassKOptions, metadata: dict[str, Any]) -> Any:
        source = self.configure(self.source, metadata) if self.configure else self.source
        return problems_dataset(source, options)

    def problem_count(self, options: PassKOptions, metadata: dict[str, Any]) -> int:
        """How many problems the benchmark has under these options, before problem shards."""
        source = self.configure(self.source, metadata) if self.configure else self.source
        return len(load_problems(source, options.data_dir))

    def __call__(self, **metadata: Any) -> Any:
        # Called without the YAML's metadata, default to the first prompt of the task's kind
        # (a code task asked for no prompt should not get the math prompt).
        metadata = {"prompt": PROMPT_KINDS[self.prompt_kind][0], **metadata}
        return self.dataset(read_options(metadata), metadata)

    def __repr__(self) -> str:  # what lm-eval records as the task's custom_dataset
        return f"BenchmarkLoader({self.source.name!r})"
