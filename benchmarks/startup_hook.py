"""Start-up overhead of the task discovery hook (lm_eval_passk.pth -> _discovery).

Baseline: a bare interpreter start, `python -c pass` in an empty virtual environment (no
system site-packages, so no other project's .pth file), measured in the same run. The hook
case is the same environment with what an install puts there that runs at start-up:
lm_eval_passk.pth, lm_eval_passk/__init__.py and lm_eval_passk/_discovery.py. Starts
alternate between the two environments, so load on the machine hits both alike.

Two bytecode cases: cached (the .pyc written by a first start, as an installed package
runs) and PYTHONDONTWRITEBYTECODE=1 with no .pyc on disk, where every start compiles the
hook (an install made with that variable set, e.g. in some containers, stays that way).
Also compares indexing our task folder with lm-eval's own index build, which happens only
when lm-eval builds its task index.

    python benchmarks/startup_hook.py [--runs 40]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "lm_eval_passk"
START_UP_FILES = ("__init__.py", "_discovery.py")  # all the hook imports at start-up


def make_environment(root: Path, with_hook: bool) -> Path:
    """An empty virtual environment, with the hook's start-up files or without; its python."""
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    python = root / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    if with_hook:
        shutil.copy(PACKAGE.parent / "lm_eval_passk.pth", site_packages)
        (site_packages / "lm_eval_passk").mkdir()
        for name in START_UP_FILES:
            shutil.copy(PACKAGE / name, site_packages / "lm_eval_passk" / name)
    return python


def start_seconds(pythons: list[Path], runs: int, env: dict[str, str]) -> list[float]:
    """Median wall time of `python -c pass` for each interpreter, starts interleaved."""
    samples: list[list[float]] = [[] for _ in pythons]
    for _ in range(runs):
        for python, times in zip(pythons, samples):
            start = time.perf_counter()
            subprocess.run([python, "-c", "pass"], check=True, env=env)
            times.append(time.perf_counter() - start)
    return [statistics.median(times) for times in samples]


def hook_is_installed(python: Path, env: dict[str, str]) -> bool:
    probe = "import sys; print(any(type(f).__name__ == '_IndexFinder' for f in sys.meta_path))"
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True, env=env)
    return out.stdout.strip() == "True"


def index_seconds() -> tuple[float, float]:
    """(lm-eval's built-in index build, the same build of our folder alone), in seconds."""
    import lm_eval.tasks
    from lm_eval.tasks._index import TaskIndex

    builtin = Path(lm_eval.tasks.__file__).parent
    start = time.perf_counter()
    TaskIndex.build([builtin])
    builtin_seconds = time.perf_counter() - start
    start = time.perf_counter()
    TaskIndex.build([PACKAGE / "tasks"])
    return builtin_seconds, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    runs = parser.parse_args().runs
    base_env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONSTARTUP")
    }
    with tempfile.TemporaryDirectory() as tmp:
        bare = make_environment(Path(tmp) / "bare", with_hook=False)
        hooked = make_environment(Path(tmp) / "hook", with_hook=True)
        assert hook_is_installed(hooked, base_env) and not hook_is_installed(bare, base_env)
        print(f"python {sys.version.split()[0]}, {runs} starts each, medians")
        cases = {
            "bytecode cached": base_env,  # the probe above wrote the hook's .pyc
            "PYTHONDONTWRITEBYTECODE=1, no .pyc": base_env | {"PYTHONDONTWRITEBYTECODE": "1"},
        }
        for case, env in cases.items():
            if "PYTHONDONTWRITEBYTECODE" in env:
                for cache in (hooked.parent.parent).rglob("lm_eval_passk/__pycache__"):
                    shutil.rmtree(cache)
            bare_s, hooked_s = start_seconds([bare, hooked], runs, env)
            print(f"{case}:")
            print(f"  bare interpreter start (baseline):   {bare_s * 1e3:7.2f} ms")
            print(f"  interpreter start with the hook:     {hooked_s * 1e3:7.2f} ms")
            print(f"  hook cost:                           {(hooked_s - bare_s) * 1e3:7.2f} ms")
            print(f"  hook cost / bare start:              {(hooked_s - bare_s) / bare_s:7.1%}")
    builtin_s, ours_s = index_seconds()
    print(f"lm-eval built-in task index build:     {builtin_s * 1e3:7.1f} ms")
    print(f"our task folder index build:           {ours_s * 1e3:7.1f} ms")
    print(f"our folder / built-in index ratio:     {ours_s / builtin_s:7.4f}")


if __name__ == "__main__":
    main()
