"""Merge runs that split one evaluation over jobs: by samples (each job its own seed) and by
problems (`--metadata '{"shard": "i/m"}'`). The result is an ordinary run directory that
report, compare, leaderboard and judge read like any other.

Per problem, n and c are the sums over the sample shards, so pass@k is exact for every k up
to the merged n; problem shards are put side by side. Runs are refused, naming the field
and the runs, when they differ in anything but the seed: task, prompt, grading, sampling
settings, model. Sample shards that drew identical responses for a problem (the same seed
twice) are refused unless allowed. Rows are streamed: a row of each input at a time.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lm_eval_passk.jsonl import open_text
from lm_eval_passk.metrics import pass_at_k, report_ks
from lm_eval_passk.metrics.sampling import (
    DuplicateCount,
    all_identical,
    count_duplicates,
    repeated_fraction,
    sampling_is_degenerate,
    sampling_is_duplicated,
)
from lm_eval_passk.progress import Progress
from lm_eval_passk.run_format import (
    RESULTS_BLOCK,
    SAMPLE_SEEDS,
    RunError,
    SamplesFile,
    problem_id,
    read_rows,
    samples_files,
    task_config,
)

# Inputs of a task at least this large report their progress (lm_eval_passk.progress).
MERGE_PROGRESS_BYTES = 256 * 1024**2
# What may differ between the shards of one evaluation: seeds and the bookkeeping of each
# job. Everything else of a task's config, the model and the sampling must be equal.
SEED_ARGUMENTS = ("seed",)
PER_JOB_BLOCK_FIELDS = (
    "n", "ks", "shard", "identical_fraction", "sampling_degenerate", "duplicate_fraction",
    "sampling_duplicated", "reasons", "problems", "merged_from", "duplicated",
    "problem_subset", "adaptive",
    SAMPLE_SEEDS,  # an API model's seeding: its seed is the job's own
)
PER_JOB_CONFIG_FIELDS = ("repeats", "metadata", RESULTS_BLOCK, "metric_list", "filter_list")
SEED_FIELDS = ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed")


class MergeError(RunError):
    """Runs that cannot be merged; the message names the field and the runs."""


@dataclass
class Shard:
    """One input run's samples of one task."""

    run: Path
    samples: SamplesFile
    results: dict[str, Any]

    @property
    def block(self) -> dict[str, Any]:
        return task_config(self.results, self.samples.task).get(RESULTS_BLOCK, {})

    @property
    def problem_shard(self) -> str | None:
        return self.block.get("shard")

    def seeds(self) -> dict[str, Any]:
        config = self.results.get("config", {})
        seeds = {name: config.get(name) for name in SEED_FIELDS}
        seeds["model_args.seed"] = _model_args(config).get("seed")
        return seeds


@dataclass
class TaskMerge:
    """What merging one task gave: per problem (n, c), and the counts for the results."""

    task: str
    shards: list[Shard]
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    identical: dict[str, bool] = field(default_factory=dict)
    # Counted again on the merged responses: a repeat across two shards is in neither's count.
    duplicates: dict[str, DuplicateCount] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    duplicated: list[str] = field(default_factory=list)  # "problem: run A = run B"


def _model_args(config: dict[str, Any]) -> dict[str, Any]:
    """lm-eval records model_args as a dict or as the command line's string."""
    args = config.get("model_args") or {}
    if isinstance(args, str):
        pairs = (item.split("=", 1) for item in args.split(",") if "=" in item)
        return {key.strip(): value.strip() for key, value in pairs}
    return dict(args)


def _read_results(samples: SamplesFile) -> dict[str, Any]:
    for path in sorted(samples.path.parent.glob(f"results_{samples.date}.json*")):
        with open_text(path) as file:
            try:
                return json.load(file)
            except json.JSONDecodeError as error:
                raise RunError(f"{path}: not valid JSON ({error.msg})") from None
    raise MergeError(f"{samples.path}: no results_{samples.date}.json beside it")


def _same(shards: Sequence[Shard], what: str, value: Any) -> None:
    """Refuse when `value(shard)` differs between shards, naming `what` and two runs."""
    first = value(shards[0])
    for shard in shards[1:]:
        if value(shard) != first:
            raise MergeError(
                f"{shards[0].samples.task}: {what} differs between {shards[0].run} "
                f"({first!r}) and {shard.run} ({value(shard)!r}); only the seed may differ"
            )


def check_mergeable(shards: Sequence[Shard]) -> None:
    """The runs are shards of one evaluation: same task, prompt, grading, sampling, model."""
    task = shards[0].samples.task
    for shard in shards:
        if shard.samples.settings is None:
            raise MergeError(f"{shard.samples.path}: not written by one of our *_passk tasks (no passk block)")

    def config(shard: Shard) -> dict[str, Any]:
        return task_config(shard.results, task)

    for name in sorted(set(config(shards[0])) - set(PER_JOB_CONFIG_FIELDS)):
        _same(shards, f"configs.{task}.{name}", lambda s, name=name: config(s).get(name))
    for name in sorted(set(shards[0].block) - set(PER_JOB_BLOCK_FIELDS)):
        _same(shards, f"configs.{task}.passk.{name}", lambda s, name=name: s.block.get(name))
    def run_config(shard: Shard) -> dict[str, Any]:
        return shard.results.get("config", {})

    _same(shards, "model", lambda s: run_config(s).get("model"))
    _same(shards, "model_name", lambda s: s.results.get("model_name"))
    _same(shards, "model_args (besides the seed)",
          lambda s: {k: v for k, v in _model_args(run_config(s)).items() if k not in SEED_ARGUMENTS})  # fmt: skip
    _same(shards, "gen_kwargs (besides the seed)",
          lambda s: {k: v for k, v in (run_config(s).get("gen_kwargs") or {}).items() if k not in SEED_ARGUMENTS})  # fmt: skip
    _same(shards, "chat_template", lambda s: s.results.get("chat_template_sha"))
    _same(shards, "system_instruction", lambda s: s.results.get("system_instruction_sha"))
    problem_shards = {shard.problem_shard for shard in shards}
    if len(problem_shards) > 1 and None in problem_shards:
        raise MergeError(f"{task}: runs of all problems cannot be merged with problem shards ({sorted(map(str, problem_shards - {None}))})")
    named = sorted(s for s in problem_shards if s)
    if len({s.split("/")[1] for s in named}) > 1:
        raise MergeError(f"{task}: problem shards of different splits ({', '.join(named)})")


def _jobs(shard: Shard) -> list[dict[str, Any]]:
    """The lm_eval jobs an input run is made of: itself, or for a merged run the jobs its
    `merged_from` records, each with its problem shard and seeds."""
    merged = shard.block.get("merged_from")
    if merged:
        return list(merged)
    return [
        {
            "run": str(shard.run), "samples": str(shard.samples.path), "shard": shard.problem_shard,
            "n": shard.block.get("n"), "seeds": shard.seeds(),
        }
    ]  # fmt: skip


def check_distinct_jobs(shards: Sequence[Shard]) -> None:
    """No job is in two inputs: two runs with the same seeds on the same problems draw the
    same samples (a merged run and one of its own shards, a shard given twice)."""

    def where(shard: Shard, job: dict[str, Any]) -> str:
        return str(shard.run) if job["run"] == str(shard.run) else f"{shard.run} (merged from {job['run']})"

    seen: list[tuple[Shard, dict[str, Any]]] = []
    for shard in shards:
        for job in _jobs(shard):
            for other_shard, other in seen:
                same_problems = None in (job["shard"], other["shard"]) or job["shard"] == other["shard"]
                known = any(seed is not None for seed in (job["seeds"] or {}).values())  # else the responses tell
                if other_shard is not shard and same_problems and known and job["seeds"] == other["seeds"]:
                    raise MergeError(
                        f"{shard.samples.task}: {where(other_shard, other)} and {where(shard, job)} were run "
                        f"with the same seeds ({job['seeds']}) on the same problems: the same samples twice? Give each shard "
                        "its own seed (docs/SCALE.md), or pass --allow-duplicates to merge them anyway"
                    )
            seen.append((shard, job))


def _response_digest(responses: list[Any]) -> bytes:
    return hashlib.blake2b(json.dumps(responses).encode(), digest_size=16).digest()


def _merged_rows(merge: TaskMerge, group: list[Shard], allow_duplicates: bool) -> Iterator[dict[str, Any]]:
    """The rows of sample shards of one problem set, zipped line by line and merged."""
    streams = [read_rows(shard.samples.path) for shard in group]
    while True:
        rows = [next(stream, None) for stream in streams]
        if all(row is None for row in rows):
            return
        if any(row is None for row in rows):
            ended = [str(s.run) for s, row in zip(group, rows) if row is None]
            raise MergeError(f"{merge.task}: {', '.join(ended)} ended before the other shards (missing problems)")
        ids = [problem_id(row) for row in rows]  # type: ignore[arg-type]
        for shard, other in zip(group[1:], ids[1:]):
            if other != ids[0]:
                raise MergeError(
                    f"{merge.task}: {group[0].run} has problem {ids[0]} where {shard.run} has "
                    f"{other}; were the shards made from the same data?"
                )
        yield _merge_row(merge, group, rows, allow_duplicates)  # type: ignore[arg-type]


def _adaptive_rows(merge: TaskMerge, shards: list[Shard], allow_duplicates: bool) -> Iterator[dict[str, Any]]:
    """The rounds of an adaptive study (lm_eval_passk/adaptive.py) joined by problem id:
    the runs without a problem subset hold every problem, each later round some of them,
    all in the benchmark's order, so one pass over the streams joins them."""
    full_rounds = {index for index, shard in enumerate(shards) if not shard.block.get("problem_subset")}
    if not full_rounds:
        raise MergeError(f"{merge.task}: adaptive rounds need a first round of every problem; none among the runs")
    if any(shard.problem_shard for shard in shards):
        raise MergeError(f"{merge.task}: adaptive rounds cannot be merged with problem shards")
    first = shards[min(full_rounds)]
    streams = [read_rows(shard.samples.path) for shard in shards]
    heads = [next(stream, None) for stream in streams]
    for row in read_rows(first.samples.path):
        pid = problem_id(row)
        present = [index for index, head in enumerate(heads) if head is not None and problem_id(head) == pid]
        for index in full_rounds - set(present):
            raise MergeError(f"{merge.task}: {shards[index].run} lacks problem {pid} of {first.run}")
        yield _merge_row(merge, [shards[i] for i in present], [heads[i] for i in present], allow_duplicates)  # type: ignore[misc]
        for index in present:
            heads[index] = next(streams[index], None)
    for shard, head in zip(shards, heads):
        if head is not None:
            raise MergeError(
                f"{merge.task}: {shard.run} has problem {problem_id(head)} out of the first round's order "
                f"or not in {first.run}; were the rounds made from the same data?"
            )


def _merge_row(merge: TaskMerge, group: list[Shard], rows: list[dict[str, Any]], allow_duplicates: bool) -> dict[str, Any]:
    pid = problem_id(rows[0])
    if pid in merge.counts:
        raise MergeError(f"{merge.task}: problem {pid} is in more than one problem shard")
    responses: list[Any] = []
    verdicts: list[Any] = []
    seen: dict[bytes, Path] = {}
    for shard, row in zip(group, rows):
        (own_responses,) = row["resps"]
        (own_verdicts,) = row["filtered_resps"]
        own_responses = own_responses[: len(own_verdicts)]  # data-parallel padding, ungraded
        digest = _response_digest(own_responses)
        if digest in seen and len(own_responses) > 0:
            merge.duplicated.append(f"{pid}: {seen[digest]} = {shard.run}")
            if not allow_duplicates:
                raise MergeError(
                    f"{merge.task}: {seen[digest]} and {shard.run} drew identical responses for "
                    f"problem {pid}: the same seed twice? Give each shard its own seed "
                    "(docs/SCALE.md), or pass --allow-duplicates to merge them anyway"
                )
        seen[digest] = shard.run
        responses += own_responses
        verdicts += own_verdicts
    n = len(verdicts)
    graded = [json.loads(v) for v in verdicts]
    c = sum(bool(v["correct"]) for v in graded)
    for verdict in graded:
        merge.reasons[verdict["reason"]] = merge.reasons.get(verdict["reason"], 0) + 1
    merge.counts[pid] = (n, c)
    texts = [str(r) for r in responses]
    merge.identical[pid] = all_identical(texts)
    merge.duplicates[pid] = count_duplicates(texts)
    ks = report_ks(n)
    merged = dict(rows[0])
    merged.update(
        {
            "resps": [responses],
            "filtered_resps": [verdicts],
            "n_samples": n,
            "n_correct": c,
            "identical_responses": float(merge.identical[pid]),
            "duplicate_responses": repeated_fraction([merge.duplicates[pid]]),
            **{f"pass@{k}": float(v) for k, v in zip(ks, pass_at_k(n, c, ks))},
        }
    )
    for key in [k for k in merged if k.startswith("pass@") and int(k[5:]) not in ks]:
        del merged[key]
    return merged


def _mean_and_stderr(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    variance = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(variance / len(values))


def _task_results(merge: TaskMerge) -> tuple[dict[str, Any], dict[str, Any]]:
    """The merged task's `results` entry and `passk` block."""
    counts = merge.counts
    n = min(n for n, _ in counts.values())
    ks = report_ks(n)
    entry: dict[str, Any] = {"name": merge.task, "alias": merge.task, "sample_len": len(counts)}
    columns = {
        **{f"pass@{k}": [float(pass_at_k(pn, pc, [k])[0]) for pn, pc in counts.values()] for k in ks},
        "n_samples": [float(pn) for pn, _ in counts.values()],
        "n_correct": [float(pc) for _, pc in counts.values()],
        "identical_responses": [float(merge.identical[pid]) for pid in counts],
        "duplicate_responses": [repeated_fraction([merge.duplicates[pid]]) for pid in counts],
    }
    for name, values in columns.items():
        entry[f"{name},passk"], entry[f"{name}_stderr,passk"] = _mean_and_stderr(values)
    entry["problems,passk"], entry["problems_stderr,passk"] = len(counts), "N/A"
    fraction = sum(merge.identical.values()) / len(counts)
    duplicated = repeated_fraction(merge.duplicates.values())
    block = {
        **{k: v for k, v in merge.shards[0].block.items() if k not in PER_JOB_BLOCK_FIELDS},
        "n": n,
        "ks": ks,
        "shard": None,
        "identical_fraction": fraction,
        "sampling_degenerate": sampling_is_degenerate(fraction),
        "duplicate_fraction": duplicated,
        "sampling_duplicated": sampling_is_duplicated(duplicated),
        "reasons": merge.reasons,
        "problems": {
            pid: {
                "n_samples": pn, "n_correct": pc, "identical": merge.identical[pid],
                **asdict(merge.duplicates[pid]),
            }
            for pid, (pn, pc) in counts.items()
        },
        "merged_from": [job for s in merge.shards for job in _jobs(s)],
        "duplicated": merge.duplicated,
    }
    if len({pn for pn, _ in counts.values()}) > 1:
        # Unequal n per problem: an adaptive study. `n`/`ks` above stay what every problem
        # reaches; report reads the whole curve from the counts (analysis/adaptive.py).
        block["adaptive"] = {
            "n_max": max(pn for pn, _ in counts.values()),
            "samples": sum(pn for pn, _ in counts.values()),
        }
    return entry, block


@dataclass
class MergeSummary:
    out: Path
    tasks: dict[str, TaskMerge]


def merge_runs(runs: Sequence[Path], out: Path, allow_duplicates: bool = False) -> MergeSummary:
    """Merge the latest samples of each task of `runs` into a new run directory under `out`;
    a refused or failed merge leaves `out` as it found it (absent or empty)."""
    if out.exists() and not out.is_dir():
        raise MergeError(f"{out}: exists and is not a directory")
    was_there = out.exists()
    was_empty = was_there and not any(out.iterdir())
    try:
        return _merge_into(runs, out, allow_duplicates)
    except BaseException:
        if not was_there:
            shutil.rmtree(out, ignore_errors=True)
        elif was_empty:  # what this merge made in it
            for entry in out.iterdir():
                shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
        raise


def _merge_into(runs: Sequence[Path], out: Path, allow_duplicates: bool) -> MergeSummary:
    if len(runs) < 2:
        raise MergeError("merge needs at least two runs")
    found = [(run, samples_files(run)) for run in runs]
    for run, files in found:
        if not files:
            raise MergeError(f"{run}: no samples_*.jsonl files (was lm_eval run with --log_samples?)")
    task_sets = {run: sorted(files) for run, files in found}
    first_run, first_tasks = found[0][0], task_sets[found[0][0]]
    for run, tasks in task_sets.items():
        if tasks != first_tasks:
            raise MergeError(f"task differs between {first_run} ({', '.join(first_tasks)}) and {run} ({', '.join(tasks)})")
    if out.exists() and any(out.iterdir()):
        raise MergeError(f"{out}: exists and is not empty")
    for task in first_tasks:  # every refusal that the inputs' files allow, before writing
        shards = [Shard(run, files[task], _read_results(files[task])) for run, files in found]
        check_mergeable(shards)
        if not allow_duplicates:
            check_distinct_jobs(shards)
    date = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime()) + ".000000"
    summary = MergeSummary(out, {})
    results: dict[str, Any] | None = None
    folder: Path | None = None
    for task in first_tasks:
        shards = [Shard(run, files[task], _read_results(files[task])) for run, files in found]
        check_mergeable(shards)
        merge = TaskMerge(task, shards)
        if results is None:
            results = json.loads(json.dumps(shards[0].results))
            folder = out / shards[0].samples.path.parent.name
            folder.mkdir(parents=True, exist_ok=True)
        assert folder is not None
        groups: dict[str | None, list[Shard]] = {}
        for shard in shards:
            groups.setdefault(shard.problem_shard, []).append(shard)
        path = folder / f"samples_{task}_{date}.jsonl"
        partial = path.with_suffix(".jsonl.partial")
        # Progress only where the inputs take a while to stream (16 shards of 1.1 GB: minutes).
        size = sum(shard.samples.path.stat().st_size for shard in shards)
        try:
            with partial.open("w", encoding="utf-8") as writer, Progress(
                f"merging {task}", unit="problems", disable=size < MERGE_PROGRESS_BYTES
            ) as progress:
                if any(shard.block.get("problem_subset") for shard in shards):
                    rows: Iterator[dict[str, Any]] = _adaptive_rows(merge, shards, allow_duplicates)
                else:
                    rows = (
                        row
                        for key in sorted(groups, key=lambda s: int(s.split("/")[0]) if s else 0)
                        for row in _merged_rows(merge, groups[key], allow_duplicates)
                    )
                for row in rows:
                    writer.write(json.dumps(row, ensure_ascii=False) + "\n")
                    progress.update()
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.rename(path)
        entry, block = _task_results(merge)
        results["results"][task] = entry
        config = results["configs"][task]
        config["repeats"] = block["n"]
        config[RESULTS_BLOCK] = block
        results.setdefault("n-samples", {})[task] = {"original": len(merge.counts), "effective": len(merge.counts)}
        summary.tasks[task] = merge
    assert results is not None and folder is not None
    results["date"] = date
    results["merged_from"] = [str(run) for run in runs]
    (folder / f"results_{date}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return summary
