"""The run format: what our tasks write into lm-eval's output and what everyone else reads.

A run is an lm-eval `--output_path` directory: `results_<date>.json` and
`samples_<task>_<date>.jsonl[.gz]` at any depth below it, plus our judges' journals
(`judgements_<task>_<date>.jsonl`) and perplexity files (`perplexity_<task>_<date>.jsonl`)
beside the samples they score. This module owns:

- the doc fields our tasks log with each problem (`problem_id`, `passk_prompt`,
  `passk_record`, ...) and the verdict JSON in `filtered_resps`;
- the `passk` block of a task's config in the results file, where the grading settings
  (benchmark, grader, response prefix, sandbox policy) are recorded once per run;
- finding a run's files, streaming its rows as graded rows (or with their prompts), the
  judge journal and the perplexity file.

Tasks write through it; analysis, judge, demo and the CLI read through it. Runs written
before the settings moved into the results (they copied them into every doc) still read.
No lm-eval import: it sits at the bottom, beside jsonl.py, above grading/ and metrics/.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from lm_eval_passk.grading import BENCHMARKS, Verdict, grade_many
from lm_eval_passk.grading.extract import last_boxed
from lm_eval_passk.jsonl import json_lines, open_text

# Doc fields our tasks log with every problem (the problem itself, never a setting).
PROBLEM_ID = "problem_id"
PROMPT = "passk_prompt"  # the rendered prompt lm-eval sends
RECORD = "passk_record"  # JSON of the benchmark record, where a text answer is not enough
FIELDS = "passk_fields"  # JSON of the benchmark's descriptive fields (level, subject, ...)
# Doc fields of runs from before settings were recorded in the results: read, never written.
LEGACY_BENCHMARK, LEGACY_GRADER, LEGACY_PREFIX = "passk_task", "passk_grader", "passk_response_prefix"
# The block our tasks add to their config in the results file: configs.<task>.passk
RESULTS_BLOCK = "passk"
# In that block: how an API model's repeats were seeded (tasks/_common/sample_seeds.py).
SAMPLE_SEEDS = "sample_seeds"

_DATE = r"\d{4}-\d{2}-\d{2}T[0-9.\-]+"
SAMPLES_NAME = re.compile(rf"^samples_(?P<task>.+)_(?P<date>{_DATE})\.jsonl(?:\.gz)?$")
RESULTS_NAME = re.compile(rf"^results_(?P<date>{_DATE})\.json(?:\.gz)?$")
# Rows graded together when regrading: bounds memory, keeps the grading pool busy.
REGRADE_CHUNK_ROWS = 64


class RunError(ValueError):
    """A run directory or file that cannot be read; the message names the file (and line)."""


@dataclass(frozen=True)
class GradingSettings:
    """How a task's responses were graded, recorded once in the results' `passk` block."""

    benchmark: str  # the grader's name for the benchmark, e.g. "math500"
    grader: str = "default"  # lm_eval_passk.grading.config
    response_prefix: str = ""  # what the task opened the model's turn with; graded with it
    require_sandbox: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, block: dict[str, Any], where: str) -> GradingSettings:
        try:
            return cls(
                benchmark=str(block["benchmark"]),
                grader=str(block.get("grader", "default")),
                response_prefix=str(block.get("response_prefix", "")),
                require_sandbox=bool(block.get("require_sandbox", False)),
            )
        except KeyError as error:
            raise RunError(f"{where}: the passk grading block lacks {error}") from None


def verdict_json(verdict: Verdict) -> str:
    """One response's verdict as our filter logs it in `filtered_resps`."""
    return json.dumps(verdict.to_dict(), ensure_ascii=False)


def grading_target(doc: dict[str, Any]) -> Any:
    """What the grader compares a response with, for a doc of ours: the benchmark record
    where the task kept one (MathVista, LiveCodeBench), else the gold answer text."""
    return json.loads(doc[RECORD]) if doc.get(RECORD) else doc["answer"]


# Finding a run's files


@dataclass(frozen=True)
class SamplesFile:
    """The latest samples file of one task in a run, with what its results file says."""

    task: str
    date: str
    path: Path
    model: str
    settings: GradingSettings | None  # None: not one of our tasks, or an older run of one
    temperature: float | None = None  # the sampling temperature logged; None: not logged


def _read_json(path: Path) -> dict[str, Any]:
    with open_text(path) as file:
        try:
            data = json.load(file)
        except json.JSONDecodeError as error:
            raise RunError(f"{path}: not valid JSON ({error.msg})") from None
    if not isinstance(data, dict):
        raise RunError(f"{path}: expected a JSON object")
    return data


def _results_beside(samples_path: Path, date: str) -> dict[str, Any] | None:
    for path in sorted(samples_path.parent.glob(f"results_{date}.json*")):
        return _read_json(path) | {"_path": str(path)}
    return None


def task_config(results: dict[str, Any], task: str) -> dict[str, Any]:
    config = results.get("configs", {}).get(task)
    return config if isinstance(config, dict) else {}


def recorded_settings(results: dict[str, Any] | None, task: str) -> GradingSettings | None:
    """The grading settings a results file recorded for `task`, if it is one of ours."""
    if results is None:
        return None
    block = task_config(results, task).get(RESULTS_BLOCK)
    if not isinstance(block, dict) or "benchmark" not in block:
        return None
    return GradingSettings.from_dict(block, f"{results.get('_path')}, configs.{task}.passk")


def _gen_kwargs(value: Any) -> dict[str, Any]:
    """Generation settings as logged: a dict, or lm-eval's "temperature=0.8,top_p=0.95"."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        pairs = (part.split("=", 1) for part in value.split(",") if "=" in part)
        return {key.strip(): text.strip() for key, text in pairs}
    return {}


def recorded_temperature(results: dict[str, Any] | None, task: str) -> float | None:
    """The temperature `task` was sampled at: the command line's `--gen_kwargs`
    (`config.gen_kwargs`) where it sets one, else the task's `generation_kwargs`. lm-eval
    0.4.13 updates each task's generation_kwargs with the command line's (evaluator.py,
    `set_config(..., update=True)`), so its keys win; both are read for results files that
    logged only one."""
    if results is None:
        return None
    config = results.get("config")
    for kwargs in (
        _gen_kwargs(config.get("gen_kwargs") if isinstance(config, dict) else None),
        _gen_kwargs(task_config(results, task).get("generation_kwargs")),
    ):
        if kwargs.get("temperature") is not None:
            try:
                return float(kwargs["temperature"])
            except (TypeError, ValueError):
                raise RunError(
                    f"{results.get('_path')}: temperature {kwargs['temperature']!r} is not a number"
                ) from None
    return None


def samples_files(run_dir: Path) -> dict[str, SamplesFile]:
    """The latest samples file of each task under a run directory."""
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: not a directory")
    latest: dict[str, tuple[str, Path]] = {}
    for path in sorted(run_dir.rglob("samples_*.jsonl*")):
        match = SAMPLES_NAME.match(path.name)
        if match and (match["task"] not in latest or match["date"] > latest[match["task"]][0]):
            latest[match["task"]] = (match["date"], path)
    found = {}
    for task, (date, path) in sorted(latest.items()):
        results = _results_beside(path, date)
        name = (results or {}).get("model_name") or (results or {}).get("config", {}).get("model_args")
        found[task] = SamplesFile(
            task, date, path, str(name or run_dir.resolve().name), recorded_settings(results, task),
            recorded_temperature(results, task),
        )
    return found


# Rows


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the JSON rows of a samples file; a bad line is an error naming file and line."""
    for _, row in json_lines(path):
        yield row


def _doc(row: dict[str, Any]) -> dict[str, Any]:
    doc = row.get("doc")
    return doc if isinstance(doc, dict) else {}


def is_ours(row: dict[str, Any], settings: GradingSettings | None) -> bool:
    """Whether a row was written by one of our tasks (its filter logged verdicts)."""
    return settings is not None or LEGACY_BENCHMARK in _doc(row)


def settings_of(samples: SamplesFile, row: dict[str, Any]) -> GradingSettings | None:
    """The settings a row was graded with: the results' block, or (older runs) its doc's."""
    if samples.settings is not None:
        return samples.settings
    doc = _doc(row)
    if LEGACY_BENCHMARK in doc:
        return GradingSettings(
            str(doc[LEGACY_BENCHMARK]),
            str(doc.get(LEGACY_GRADER, "default")),
            str(doc.get(LEGACY_PREFIX, "")),
            doc.get("passk_require_sandbox") == "true",
        )
    return None


def benchmark_of(task: str, settings: GradingSettings | None) -> str:
    """Which grader applies: ours record it; otherwise read it off the task name."""
    if settings is not None:
        return settings.benchmark
    for benchmark in sorted(BENCHMARKS, key=len, reverse=True):
        if task.startswith(benchmark) or task.replace("_", "").startswith(benchmark.replace("_", "")):
            return benchmark
    raise RunError(
        f"task {task!r}: cannot tell which grader applies (known: {', '.join(BENCHMARKS)})"
    )


def gold_answer(row: dict[str, Any], settings: GradingSettings | None) -> Any:
    """The grading target: our tasks log it in the doc; lm-eval's own tasks log a target
    that may be a whole solution (GSM8K's ends in `#### n`, MATH's boxes its answer)."""
    doc = _doc(row)
    if settings is not None and "answer" in doc:
        return grading_target(doc)
    if {"prompt", "test", "entry_point"} <= doc.keys():
        return doc  # a HumanEval-style problem: its record is what programs are checked by
    target = str(row.get("target", ""))
    if "####" in target:
        return target.rsplit("####", 1)[1].strip().replace(",", "")
    return last_boxed(target) or target.strip()


def responses_of(row: dict[str, Any], prefix: str = "") -> list[str]:
    """All responses of a row: [[r1, ..., rn]] for a repeated request, [[r]] per request;
    each after the text our task opened the model's turn with, if any."""
    return [
        prefix + r
        for request in row["resps"]
        for r in (request if isinstance(request, list) else [request])
    ]


def problem_fields(doc: dict[str, Any]) -> dict[str, str]:
    """A problem's descriptive fields (MATH500 `level`, `subject`; LiveCodeBench
    `difficulty`; ...) as text: what our tasks log in `passk_fields`; for older runs of
    ours and docs of other tools, the scalar values of the record and of the doc itself."""
    if doc.get(FIELDS):
        return {str(k): str(v) for k, v in json.loads(doc[FIELDS]).items()}
    record = json.loads(doc[RECORD]) if doc.get(RECORD) else {}
    own = {PROBLEM_ID, PROMPT, RECORD, LEGACY_BENCHMARK, LEGACY_GRADER, LEGACY_PREFIX,
           "passk_require_sandbox", "problem", "answer", "solution"}
    merged = (record if isinstance(record, dict) else {}) | {k: v for k, v in doc.items() if k not in own}
    return {k: str(v) for k, v in merged.items() if isinstance(v, str | int | float | bool)}


def problem_statement(row: dict[str, Any]) -> str | None:
    """The problem's text as the doc logs it: our tasks' `problem`, lm-eval's GSM8K
    `question`; None when the doc has neither."""
    doc = _doc(row)
    for name in ("problem", "question"):
        if isinstance(doc.get(name), str):
            return doc[name]
    return None


# lm-eval normalises these aliases to max_gen_toks, in this order (models/utils.py,
# normalize_gen_kwargs); a row logs the generation settings its request was sent with.
_MAX_TOKEN_KEYS = ("max_gen_toks", "max_new_tokens", "max_tokens", "max_completion_tokens")


def generation_limit(row: dict[str, Any]) -> int | None:
    """The most tokens a row's responses could have (`max_gen_toks` of the generation
    settings lm-eval logged in `arguments.gen_args_0.arg_1`); None when not logged (the
    model's own default applied)."""
    arguments = row.get("arguments")
    request = arguments.get("gen_args_0") if isinstance(arguments, dict) else None
    settings = request.get("arg_1") if isinstance(request, dict) else None
    if not isinstance(settings, dict):
        return None
    for key in _MAX_TOKEN_KEYS:
        if settings.get(key) is not None:
            try:
                return int(settings[key])
            except (TypeError, ValueError):
                return None
    return None


def problem_id(row: dict[str, Any]) -> str:
    doc = _doc(row)
    return str(doc[PROBLEM_ID]) if PROBLEM_ID in doc else str(row["doc_id"])


def logged_verdicts(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-response verdicts our filter logged (JSON strings in `filtered_resps`)."""
    (verdicts,) = row["filtered_resps"]
    return [json.loads(verdict) for verdict in verdicts]


@dataclass
class GradedRow:
    """One samples row with a correct/wrong flag per response."""

    problem_id: str
    doc: dict[str, Any]
    responses: list[str]
    correct: list[bool]
    # The answer the grader read from each response (None: none), for majority voting.
    answers: list[str | None] = field(default_factory=list)


def graded_rows(
    samples: SamplesFile, regrade: bool = False, grader: str | None = None
) -> Iterator[GradedRow]:
    """Stream a samples file as graded rows: the verdicts our tasks logged, or, with
    `regrade` or when there are none (a run written by another tool), a fresh grading of
    the logged responses, a chunk of rows at a time, with `grader` (None: the grader the
    run recorded, else "default")."""
    pending: list[tuple[dict[str, Any], list[str], GradingSettings | None]] = []

    def graded_pending() -> Iterator[GradedRow]:
        settings = pending[0][2]
        benchmark = benchmark_of(samples.task, settings)
        chosen = grader or (settings.grader if settings else "default")
        targets = [gold_answer(row, s) for row, _, s in pending]
        flat = [(r, t) for (_, responses, _), t in zip(pending, targets) for r in responses]
        verdicts = iter(
            grade_many(benchmark, [r for r, _ in flat], [t for _, t in flat], grader=chosen)
        )
        for row, responses, _ in pending:
            graded = [next(verdicts) for _ in responses]
            yield GradedRow(
                problem_id(row), _doc(row), responses, [v.correct for v in graded], [v.answer for v in graded]
            )
        pending.clear()

    for line, row in enumerate(read_rows(samples.path), start=1):
        try:
            settings = settings_of(samples, row)
            responses = responses_of(row, settings.response_prefix if settings else "")
            logged = answers = None
            if not regrade and is_ours(row, settings):
                verdicts = logged_verdicts(row)
                logged = [bool(v["correct"]) for v in verdicts]
                answers = [v.get("answer") for v in verdicts]
            identity = problem_id(row)
        except (KeyError, ValueError, TypeError) as error:
            raise RunError(
                f"{samples.path}, line {line}: unexpected row ({type(error).__name__}: {error})"
            ) from None
        if logged is not None:
            yield GradedRow(identity, _doc(row), responses, logged, answers or [])
            continue
        pending.append((row, responses, settings))
        if len(pending) >= REGRADE_CHUNK_ROWS:
            yield from graded_pending()
    if pending:
        yield from graded_pending()


def write_rows(out: IO[str], rows: Sequence[dict[str, Any]]) -> None:
    """Samples rows as JSON lines, as lm-eval writes them."""
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


# The judge journal: one JSON line per vote, appended the moment it arrives, beside the
# samples file it judges, so a rerun resumes where the last one stopped.


@dataclass(frozen=True)
class VoteKey:
    judge: str
    problem_id: str
    response: int  # index of the response among the problem's n
    vote: int  # 0 .. votes-1


def journal_path(samples_path: Path) -> Path:
    name = samples_path.name.removesuffix(".gz").removesuffix(".jsonl")
    return samples_path.with_name(f"judgements_{name.removeprefix('samples_')}.jsonl")


def _journal_entries(path: Path) -> list[tuple[VoteKey, str]]:
    entries: list[tuple[VoteKey, str]] = []
    if not path.exists():
        return entries
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill: that vote was not recorded
            key = VoteKey(entry["judge"], entry["problem_id"], entry["response"], entry["vote"])
            entries.append((key, entry["verdict"]))
    return entries


class Journal:
    """Append-only record of votes; knows which votes are already done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done = {key for key, _ in _journal_entries(path)}
        self._file: IO[str] | None = None

    def __contains__(self, key: VoteKey) -> bool:
        return key in self.done

    def record(self, key: VoteKey, verdict: str, reply: str) -> None:
        if key in self.done:
            return
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        entry = {**asdict(key), "verdict": verdict, "reply": reply[-2000:]}
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._file.flush()  # in the kernel's hands now: survives a kill of this process
        self.done.add(key)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class Votes:
    """One judge's votes on one samples file, per (problem id, response index)."""

    judge: str
    by_response: dict[tuple[str, int], list[str]] = field(default_factory=dict)


def read_votes(samples_path: Path, judge: str | None = None) -> Votes | None:
    """The votes in the journal beside a samples file, for one judge (the only one there,
    or `judge`); None when there is no journal. An unknown judge is an error naming the
    judges present."""
    path = journal_path(samples_path)
    entries = _journal_entries(path)
    if not entries:
        return None
    judges = sorted({key.judge for key, _ in entries})
    if judge is None and len(judges) > 1:
        raise RunError(f"{path} holds several judges ({', '.join(judges)}): choose one with --judge")
    if judge is not None and judge not in judges:
        raise RunError(f"--judge {judge}: {path} holds votes of {', '.join(judges)} only")
    chosen = judge or judges[0]
    votes: dict[tuple[str, int], dict[int, str]] = defaultdict(dict)
    for key, verdict in entries:
        if key.judge == chosen:
            votes[(key.problem_id, key.response)][key.vote] = verdict
    return Votes(chosen, {response: [v[i] for i in sorted(v)] for response, v in votes.items()})


# Responses with the prompt they answered, for scorers that condition on it (perplexity).


@dataclass
class PromptedRow:
    """One problem's responses as the model produced them, after the context they followed:
    the prompt lm-eval sent plus the response prefix the task opened the model's turn with."""

    problem_id: str
    context: str
    responses: list[str]


def prompted_rows(samples: SamplesFile) -> Iterator[PromptedRow]:
    """Stream a samples file's rows with their contexts; a row without a logged prompt is
    an error naming the file and line (only our tasks log `passk_prompt`)."""
    for line, row in enumerate(read_rows(samples.path), start=1):
        try:
            settings = settings_of(samples, row)
            context = str(_doc(row)[PROMPT]) + (settings.response_prefix if settings else "")
            yield PromptedRow(problem_id(row), context, responses_of(row))
        except (KeyError, ValueError, TypeError) as error:
            raise RunError(
                f"{samples.path}, line {line}: no prompt or responses to score "
                f"({type(error).__name__}: {error}); only runs of our tasks log {PROMPT}"
            ) from None


# Perplexity files: one JSON line per scored response, appended as each arrives, beside the
# samples file, so a killed run resumes without scoring anything twice. A line:
# {"scorer": str, "problem_id": str, "response": int, "tokens": int, "nll": float | null,
#  "perplexity": float | null, "truncated": null | "prompt" | "response"}
# tokens: the response's tokens as the scorer counts them; nll: their mean negative
# log-likelihood (nats); perplexity = exp(nll). truncated "prompt": the prompt was cut from
# the left to fit the scorer's context, the response scored whole; "response": the response
# alone does not fit, it is not scored (nll and perplexity null). An empty response has 0
# tokens and null nll.

TRUNCATED_PROMPT, TRUNCATED_RESPONSE = "prompt", "response"


@dataclass(frozen=True)
class ScoreKey:
    scorer: str
    problem_id: str
    response: int  # index of the response among the problem's n


@dataclass(frozen=True)
class Perplexity:
    """One response's perplexity under one scoring model (the line format above)."""

    key: ScoreKey
    tokens: int
    nll: float | None
    truncated: str | None = None

    @property
    def perplexity(self) -> float | None:
        return None if self.nll is None else math.exp(self.nll)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self.key), "tokens": self.tokens, "nll": self.nll,
                "perplexity": self.perplexity, "truncated": self.truncated}


def perplexity_path(samples_path: Path) -> Path:
    name = samples_path.name.removesuffix(".gz").removesuffix(".jsonl")
    return samples_path.with_name(f"perplexity_{name.removeprefix('samples_')}.jsonl")


def read_perplexities(samples_path: Path) -> list[Perplexity]:
    """The entries of the perplexity file beside a samples file (none if there is none)."""
    return _perplexity_entries(perplexity_path(samples_path))


def _perplexity_entries(path: Path) -> list[Perplexity]:
    """A line cut short by a kill is skipped; a complete line of another shape is an error."""
    if not path.exists():
        return []
    entries = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill: that response was not recorded
            try:
                key = ScoreKey(str(entry["scorer"]), str(entry["problem_id"]), int(entry["response"]))
                nll = None if entry["nll"] is None else float(entry["nll"])
                entries.append(Perplexity(key, int(entry["tokens"]), nll, entry.get("truncated")))
            except (KeyError, TypeError, ValueError) as error:
                raise RunError(f"{path}, line {number}: not a perplexity entry ({error})") from None
    return entries


class PerplexityLog:
    """Append-only perplexity file; knows which (scorer, problem, response) are done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done = {entry.key for entry in _perplexity_entries(path)}
        self._file: IO[str] | None = None

    def __contains__(self, key: ScoreKey) -> bool:
        return key in self.done

    def record(self, entry: Perplexity) -> None:
        if entry.key in self.done:
            return
        if self._file is None:
            if _ends_mid_line(self.path):  # a kill cut the last line short: end it, so
                with self.path.open("a", encoding="utf-8") as file:  # it stays one bad line
                    file.write("\n")
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(json.dumps(entry.to_dict(), ensure_ascii=False) + "\n")
        self._file.flush()  # in the kernel's hands now: survives a kill of this process
        self.done.add(entry.key)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _ends_mid_line(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as file:
        file.seek(-1, 2)
        return file.read(1) != b"\n"


# What a run says about itself, for the footer of a published leaderboard.

# The doc fields that hold a problem's statement: ours ("problem"), then common names in
# other tasks' docs, then the rendered prompt as a last resort.
_STATEMENT_FIELDS = ("problem", "question", "prompt", "text", PROMPT)


def problem_text(doc: dict[str, Any]) -> str:
    """A problem's statement as logged in its doc ("" when the doc has none)."""
    for name in _STATEMENT_FIELDS:
        if isinstance(doc.get(name), str) and doc[name]:
            return doc[name]
    return ""


@dataclass(frozen=True)
class RunVersions:
    """The versions and date the results file beside a samples file recorded (None: not
    recorded, or no results file)."""

    date: str  # the samples file's timestamp, as in its name
    task_version: str | None
    lm_eval_version: str | None


def recorded_versions(samples: SamplesFile) -> RunVersions:
    """The task's version and lm-eval's version from the results file beside `samples`."""
    results = _results_beside(samples.path, samples.date) or {}
    versions = results.get("versions")
    version = versions.get(samples.task) if isinstance(versions, dict) else None
    lm_eval = results.get("lm_eval_version")
    return RunVersions(
        samples.date,
        None if version is None else str(version),
        None if lm_eval is None else str(lm_eval),
    )
