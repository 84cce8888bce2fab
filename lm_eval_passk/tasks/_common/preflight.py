"""Check an `lm_eval` run's --metadata and flags against our tasks before the model loads.

lm-eval 0.4.13's `simple_evaluate` loads the model first and builds the tasks after it, and
a task reads its metadata and downloads its data as it is built: a misspelt option came up
after the weights had loaded, and LiveCodeBench's missing --confirm_run_unsafe_code only
after its data had been fetched. The CLI resolves task names (`EvaluatorConfig.process_tasks`)
before it calls `simple_evaluate`; the start-up hook (lm_eval_passk/_discovery.py) runs
`check_cli_run` right after that step, from the task index alone: no task is built here.
Runs started from Python skip this early check; the tasks still check their values.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any

from lm_eval_passk.tasks._common.options import (
    COMMON_KEYS,
    check_keys,
    check_prompt_fits,
    read_options,
    read_shard,
    unknown_keys,
)
from lm_eval_passk.tasks._common.prompts import DEFAULT_PROMPT, prompt_kind

logger = logging.getLogger(__name__)
TASKS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class PassKTaskFacts:
    """What the checks need to know of one of our tasks, read from its YAML."""

    name: str
    metadata: dict[str, Any]  # the YAML's own metadata (defaults such as LiveCodeBench's prompt)
    keys: tuple[str, ...]  # the --metadata keys it reads
    unsafe_code: bool  # runs model-written programs
    prompt_kind: str  # "math", "code" or "function": the kind of its default prompt


def check_run(
    tasks: list[PassKTaskFacts], user_metadata: dict[str, Any], confirm_run_unsafe_code: bool, only_ours: bool
) -> None:
    """Raise ValueError naming the first option or flag that the run's tasks cannot use.
    Unknown keys are only refused when every task of the run is ours: another
    harness task may read them, so they are only logged."""
    for task in tasks:
        if task.unsafe_code and not confirm_run_unsafe_code:
            raise ValueError(
                f"{task.name} runs model-written programs on this machine (in a sandbox, "
                "docs/CODE.md): add --confirm_run_unsafe_code to run it"
            )
        options = read_options(task.metadata | user_metadata)
        check_prompt_fits(task.name, options.prompt, task.prompt_kind)
    names = ", ".join(task.name for task in tasks)
    valid = [key for task in tasks for key in task.keys]
    if only_ours:
        check_keys(user_metadata, valid, names)
    elif unknown := unknown_keys(user_metadata, valid):
        logger.warning("--metadata %s not read by %s; left to the run's other tasks", unknown, names)


def task_facts(entry: Any) -> PassKTaskFacts:
    """Facts of one task entry of lm-eval's index (functions resolved, so utils.py is read)."""
    from lm_eval.tasks._yaml_loader import load_yaml

    config = load_yaml(entry.yaml_path, resolve_func=True)
    loader = config.get("custom_dataset")
    metadata = dict(config.get("metadata") or {})
    return PassKTaskFacts(
        name=entry.name,
        metadata=metadata,
        keys=(*COMMON_KEYS, *getattr(loader, "option_keys", ())),
        unsafe_code=bool(config.get("unsafe_code")),
        prompt_kind=prompt_kind(metadata.get("prompt", DEFAULT_PROMPT)),
    )


def selected_tasks(names: list[Any], index: dict[str, Any]) -> tuple[list[PassKTaskFacts], bool]:
    """Our tasks among the selected names (groups expanded), and whether all of them are ours."""
    from lm_eval.tasks._index import Kind

    ours: list[PassKTaskFacts] = []
    only_ours = True
    pending = list(names)
    while pending:
        name = pending.pop(0)
        entry = index.get(name) if isinstance(name, str) else None
        if entry is None or entry.yaml_path is None or not str(entry.yaml_path).startswith(TASKS_DIR + os.sep):
            only_ours = False  # another harness task, or a config given as a YAML file
        elif entry.kind == Kind.GROUP:
            for item in (entry.cfg or {}).get("task", []):
                pending.append(item["task"] if isinstance(item, dict) else item)
        elif entry.kind == Kind.TAG:
            pending.extend(sorted(entry.tags))
        elif entry.name not in [task.name for task in ours]:
            ours.append(task_facts(entry))
    return ours, only_ours


def check_cli_run(config: Any, task_manager: Any) -> None:
    """Check the run an `lm_eval` command line asks for (an EvaluatorConfig after its task
    names are resolved); raise ValueError naming what to change."""
    tasks, only_ours = selected_tasks(list(config.tasks or []), task_manager.task_index)
    if not tasks:
        return
    # lm-eval merged --model_args into the metadata; only the user's --metadata is checked.
    model_args = config.model_args if isinstance(config.model_args, dict) else {}
    user_metadata = {key: value for key, value in (config.metadata or {}).items() if key not in model_args}
    check_run(tasks, user_metadata, bool(config.confirm_run_unsafe_code), only_ours)
    check_shard(tasks, task_manager.task_index, user_metadata)


def fewest_problems(tasks: list[PassKTaskFacts], task_index: dict[str, Any], user_metadata: dict[str, Any]) -> tuple[str, int]:
    """The task with the fewest problems under this metadata (its data_dir, a LiveCodeBench
    release), and that number: the most problem shards every task can fill."""
    from lm_eval.tasks._yaml_loader import load_yaml

    counts = []
    for task in tasks:
        loader = load_yaml(task_index[task.name].yaml_path, resolve_func=True)["custom_dataset"]
        metadata = task.metadata | user_metadata
        counts.append((loader.problem_count(read_options(metadata), metadata), task.name))
    count, name = min(counts)
    return name, count


def check_shard(tasks: list[PassKTaskFacts], task_index: dict[str, Any], user_metadata: dict[str, Any]) -> None:
    """Refuse a --metadata 'shard' i/m that leaves a task without problems (i above its count)."""
    shard = read_shard(user_metadata.get("shard"))
    if shard is None or not tasks:
        return
    name, count = fewest_problems(tasks, task_index, user_metadata)
    if shard[0] > count:
        raise ValueError(
            f"--metadata 'shard' {shard[0]}/{shard[1]}: {name} has {count} problem(s), so problem shard "
            f"{shard[0]} of {shard[1]} is empty; use at most {count} problem shards"
        )

@functools.lru_cache(maxsize=4)
def _task_manager(include_path: str | None) -> Any:
    # Indexing lm-eval's thousands of task files takes seconds: once per process.
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=include_path)


def check_plan(tasks: str, user_metadata: dict[str, Any], problem_shards: int, include_path: str | None) -> None:
    """Check what `lm-eval-passk plan` is asked to run before it writes a job: the task names
    (lm-eval's index), the --metadata keys and values (as `lm_eval` itself would, before the
    model loads) and the problem shards against the benchmark's size (issue 27)."""
    import difflib

    manager = _task_manager(include_path)
    names = [name.strip() for name in tasks.split(",") if name.strip()]
    for name in names:
        if name.endswith(".yaml") or os.path.isdir(name) or manager.match_tasks([name]):
            continue
        close = difflib.get_close_matches(name, manager.all_tasks, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `lm_eval ls tasks` lists them"
        raise ValueError(f"TASK: no task named {name!r} in lm-eval's index{hint}")
    ours, only_ours = selected_tasks(names, manager.task_index)
    try:
        check_run(ours, user_metadata, confirm_run_unsafe_code=True, only_ours=only_ours)
        if problem_shards == 1 or not ours:
            return
        if "data_dir" in user_metadata:
            name, count = fewest_problems(ours, manager.task_index, user_metadata)
        else:  # from the hub: where it cannot be reached here, the jobs may still reach it
            try:
                name, count = fewest_problems(ours, manager.task_index, user_metadata)
            except Exception as error:  # noqa: BLE001 (any failure to fetch only skips this check)
                print(f"lm-eval-passk plan: problem shards not checked: the benchmark could not be read ({error})",
                      file=sys.stderr)  # fmt: skip
                return
    except FileNotFoundError as error:  # a data_dir or its benchmark file: bad input like the rest
        raise ValueError(str(error)) from None
    if problem_shards > count:
        raise ValueError(
            f"--problem_shards {problem_shards}: {name} has {count} problem(s), so "
            f"{problem_shards - count} problem shard(s) would be empty; use at most {count}"
        )
