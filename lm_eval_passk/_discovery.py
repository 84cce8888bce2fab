"""Make plain `lm_eval` see our tasks without `--include_path`.

lm-eval 0.4.13 indexes task YAMLs only from its own folder and `--include_path`; nothing
reads installed packages. `lm_eval_passk.pth` imports this module at interpreter start-up.
It only registers an import hook (no lm-eval, numpy or torch import); when lm-eval itself
imports `lm_eval.tasks._index`, the hook wraps `TaskIndex.build` so that our task folder
is indexed right after lm-eval's built-in tasks. A user's `--include_path` still comes
later and so still wins on name clashes. When lm-eval reads the `lm_eval.tasks` entry
point group (declared in pyproject.toml) this module can retire: the wrapper never adds
the folder twice.

The same hook wraps the CLI's `EvaluatorConfig.process_tasks` (lm_eval.config.evaluate_config),
which resolves the task names before the model loads, to check our tasks' --metadata and
flags there (tasks/_common/preflight.py): a bad option ends the command in one line, before
the weights load and the data download.

And it wraps lm-eval's API models (lm_eval.models.api_models.TemplateAPI) so that the n
repeats of a request carry n different seeds (tasks/_common/sample_seeds.py): without it a
server that honours lm-eval's fixed seed returns one sample n times.
"""

import os
import sys

TYPE_CHECKING = False  # typing itself is not imported at start-up, see below
if TYPE_CHECKING:
    from typing import Any

# Only os and sys at import time: both are loaded before site-packages' .pth files run, so the
# start-up cost stays at one small module (pathlib alone would add milliseconds).
_INDEX_MODULE = "lm_eval.tasks._index"
_CLI_CONFIG_MODULE = "lm_eval.config.evaluate_config"
_API_MODELS_MODULE = "lm_eval.models.api_models"
TASKS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tasks")


def with_passk_tasks(paths: "list[Any]") -> "list[Any]":
    """Insert our task folder after lm-eval's built-in folder, if that one is indexed."""
    from pathlib import Path

    resolved = [Path(p).resolve() for p in paths]
    if Path(TASKS_DIR) in resolved:
        return list(paths)
    for position, path in enumerate(resolved):
        if path.name == "tasks" and path.parent.name == "lm_eval":
            return [*paths[: position + 1], Path(TASKS_DIR), *paths[position + 1 :]]
    # lm-eval's defaults are off (include_defaults=False): the caller wants only its paths.
    return list(paths)


def _patch_task_index(module: "Any") -> None:
    task_index = module.TaskIndex
    original_build = task_index.build

    def build(paths: "Any", **kwargs: "Any") -> "Any":
        return original_build(with_passk_tasks(list(paths)), **kwargs)

    task_index.build = staticmethod(build)


def _patch_cli_config(module: "Any") -> None:
    evaluator_config = getattr(module, "EvaluatorConfig", None)
    original_process_tasks = getattr(evaluator_config, "process_tasks", None)
    if original_process_tasks is None:  # another lm-eval layout: the tasks still check later
        return

    def process_tasks(self: "Any", *args: "Any", **kwargs: "Any") -> "Any":
        task_manager = original_process_tasks(self, *args, **kwargs)
        from lm_eval_passk.tasks._common.preflight import check_cli_run

        try:
            check_cli_run(self, task_manager)
        except (ValueError, FileNotFoundError) as error:
            # One line on stderr and exit status 1, as argparse's errors: a traceback
            # through lm-eval's CLI would only hide the message.
            raise SystemExit(f"lm-eval-passk: {error}") from None
        return task_manager

    setattr(evaluator_config, "process_tasks", process_tasks)  # noqa: B010 (found by getattr above)


def _patch_api_models(module: "Any") -> None:
    from lm_eval_passk.tasks._common.sample_seeds import patch_api_models

    patch_api_models(module)


_PATCHES = {
    _INDEX_MODULE: _patch_task_index,
    _CLI_CONFIG_MODULE: _patch_cli_config,
    _API_MODELS_MODULE: _patch_api_models,
}


class _PatchingLoader:
    """Runs the real loader, then patches the freshly executed module."""

    def __init__(self, loader: "Any", patch: "Any") -> None:
        self._loader = loader
        self._patch = patch

    def create_module(self, spec: "Any") -> "Any":
        return self._loader.create_module(spec)

    def exec_module(self, module: "Any") -> None:
        self._loader.exec_module(module)
        self._patch(module)


class _IndexFinder:
    """A meta-path finder that only reacts to the lm-eval modules in _PATCHES."""

    def find_spec(self, name: str, path: "Any" = None, target: "Any" = None) -> "Any":
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, patch)
                return spec
        return None


def install() -> None:
    """Register the hook once per interpreter; patch at once if lm-eval is already loaded."""
    if any(isinstance(finder, _IndexFinder) for finder in sys.meta_path):
        return
    for name, patch in _PATCHES.items():
        if name in sys.modules:  # loaded before us: patch it now
            patch(sys.modules[name])
    sys.meta_path.insert(0, _IndexFinder())


install()
