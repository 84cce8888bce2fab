"""Start-up overhead of the task discovery hook (lm_eval_passk.pth -> _discovery).

Baseline: a bare interpreter start, `python -c pass`, measured in the same run (it
includes the hook, so the ratio is an upper bound of the hook's share). The hook's own
cost is read from `python -X importtime`. Also compares indexing our task folder with
lm-eval's own index build, which happens only when lm-eval builds its task index.

    python benchmarks/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path


# Installed packages run from cached bytecode; PYTHONDONTWRITEBYTECODE (set on some dev
# machines) would make every run recompile the hook and overstate its cost tenfold.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def interpreter_start_seconds(runs: int) -> float:
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=ENV)  # writes the .pyc
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=ENV)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def hook_import_seconds(runs: int) -> float:
    """Cumulative import time of lm_eval_passk._discovery (its package included) at start-up."""
    line = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|\s*lm_eval_passk\._discovery\s*$", re.M)
    samples = []
    for _ in range(runs):
        log = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "pass"],
            capture_output=True, text=True, check=True, env=ENV,
        ).stderr
        match = line.search(log)
        if match is None:
            raise SystemExit("the hook did not run: is lm-eval-passk installed (pip install .)?")
        samples.append(int(match.group(1)) / 1e6)
    return statistics.median(samples)


def index_seconds() -> tuple[float, float]:
    """(lm-eval's built-in index build, the same build of our folder alone), in seconds."""
    from lm_eval.tasks._index import TaskIndex

    from lm_eval_passk._discovery import TASKS_DIR
    import lm_eval.tasks

    builtin = Path(lm_eval.tasks.__file__).parent
    start = time.perf_counter()
    TaskIndex.build([builtin])
    builtin_seconds = time.perf_counter() - start
    start = time.perf_counter()
    TaskIndex.build([Path(TASKS_DIR)])
    return builtin_seconds, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs

    start_s = interpreter_start_seconds(runs)
    hook_s = hook_import_seconds(runs)
    builtin_s, ours_s = index_seconds()
    print(f"interpreter start (python -c pass), median of {runs}: {start_s * 1e3:8.2f} ms")
    print(f"discovery hook import at start-up, median of {runs}:  {hook_s * 1e3:8.3f} ms")
    print(f"hook / interpreter start ratio:                      {hook_s / start_s:8.4f}")
    print(f"lm-eval built-in task index build:                   {builtin_s * 1e3:8.1f} ms")
    print(f"our task folder index build:                         {ours_s * 1e3:8.1f} ms")
    print(f"our folder / built-in index ratio:                   {ours_s / builtin_s:8.4f}")


if __name__ == "__main__":
    main()
