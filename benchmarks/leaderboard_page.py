"""How fast a large study's leaderboard page opens: 10 models x 13 tasks x 500 problems.

Builds a synthetic study in memory (each model's per-problem (n, c) drawn at n = 256, a
400-character statement per problem, five declared base/RL pairs), renders the page with
`analysis.page.write_page` (as `leaderboard --format html --out DIR` does), and opens it in
headless Chromium. Baseline, measured in the same run on the same figures: a naive page
that shows everything at once, every figure as an eagerly loaded PNG and every task's
per-problem table as static HTML in index.html itself.

Printed: the render time, the size of index.html and of DIR, the bytes the browser reads
before the load event, and the median (of 5) time to the load event and to the first
contentful paint of each page, with the naive/ours ratios; then the time to open one task's
problems table on our page.

    PYTHONPATH=$PWD python benchmarks/leaderboard_page.py [--out DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from chromium import Browser, missing_reason

from lm_eval_passk.analysis.leaderboard import leaderboard_document, problem_tables
from lm_eval_passk.analysis.page import _HEAD, board_table, write_page
from lm_eval_passk.analysis.runs import TaskRun
from lm_eval_passk.analysis.summary import BootstrapSettings
from lm_eval_passk.run_format import RunVersions

MODELS, TASKS, PROBLEMS, N = 10, 13, 500, 256


def synthetic_runs(directory: Path, seed: int = 0) -> list[TaskRun]:
    """Ten models (five base/RL pairs) on thirteen tasks; RL sharpens its base's easy problems."""
    rng = np.random.default_rng(seed)
    runs = []
    for task in range(TASKS):
        name = f"task{task:02d}_passk"
        difficulty = rng.beta(0.6, 1.2, PROBLEMS)
        texts = {f"p{i:03d}": f"Problem {i} of {name}: " + "find x such that " * 22 for i in range(PROBLEMS)}
        for pair in range(MODELS // 2):
            base_rate = difficulty * rng.uniform(0.6, 1.0)
            rl_rate = np.where(base_rate > 0.1, np.minimum(1, base_rate * 2.5), base_rate * 0.2)
            for model, rate in ((f"family{pair}/base", base_rate), (f"family{pair}/rl", rl_rate)):
                counts = rng.binomial(N, rate)
                runs.append(TaskRun(
                    model=model, task=name, source=directory / f"samples_{name}_{model.replace('/', '__')}.jsonl",
                    problems={pid: (N, int(c)) for pid, c in zip(texts, counts)}, grader="default",
                    texts=texts, versions=RunVersions("2025-01-01T00-00-00.000000", "1.0", "0.4.13"),
                ))
    return runs


def naive_page(document: dict, problems: dict, out: Path) -> Path:
    """The baseline: the same table, every figure the renderer drew as an eager PNG, and
    every per-problem table with its statements as static HTML, all in one file."""
    parts = [_HEAD.replace("{title}", "naive"), board_table(document)]
    for index, task in enumerate(document["tasks"]):
        parts.append(f"<h2>{escape(task)}</h2>")
        parts += [f'<img src="{p.relative_to(out).as_posix()}" width="600">'
                  for p in sorted((out / "figures" / f"task-{index}").rglob("*.png"))]
        table = problems[task]
        models = list(document["tasks"][task])
        rows = "".join(
            f"<tr><td><details><summary>{escape(pid)}</summary>{escape(table['texts'][pid])}</details></td>"
            + "".join(f"<td>{table['counts'][m][pid][1]}/{table['counts'][m][pid][0]}</td>" for m in models)
            + "</tr>"
            for pid in table["ids"]
        )
        parts.append(f"<table><tr><th>problem</th>{''.join(f'<th>{escape(m)}</th>' for m in models)}</tr>{rows}</table>")
    path = out / "naive.html"
    path.write_text("".join(parts) + "</body></html>")
    return path


def bytes_read(browser: Browser, since: int) -> int:
    """The size of every file the page requested since event `since`."""
    urls = [e["params"]["request"]["url"] for e in browser.events[since:] if e["method"] == "Network.requestWillBeSent"]
    return sum(Path(unquote(urlparse(u).path)).stat().st_size for u in urls if u.startswith("file://"))


def measure(browser: Browser, page: Path) -> tuple[float, float, int]:
    """(ms to the load event, ms to the first contentful paint, bytes read until load)."""
    browser.open("about:blank")
    since = len(browser.events)
    browser.open(page.as_uri())
    load = browser.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
    browser.wait_until("performance.getEntriesByName('first-contentful-paint').length > 0")
    paint = browser.evaluate("performance.getEntriesByName('first-contentful-paint')[0].startTime")
    return load, paint, bytes_read(browser, since)


def folder_size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where to write the pages (default: a temporary folder)")
    args = parser.parse_args()
    if missing_reason():
        sys.exit(missing_reason())
    out = args.out or Path(tempfile.mkdtemp(prefix="passk-page-"))
    runs = synthetic_runs(out)
    pairs = [(f"family{i}/base", f"family{i}/rl") for i in range(MODELS // 2)]
    started = time.perf_counter()
    document = leaderboard_document(runs, BootstrapSettings(), [1, 16, 256], pairs)
    problems = problem_tables(runs)
    index = write_page(document, problems, out)
    rendered = time.perf_counter() - started
    naive = naive_page(document, problems, out)
    figures = len(list((out / "figures").rglob("*.svg")))
    print(f"study: {MODELS} models x {TASKS} tasks x {PROBLEMS} problems, n = {N}, {len(pairs)} pairs, "
          f"{figures} figures; rendered in {rendered:.1f} s (document, figures, page)")
    print(f"index.html {index.stat().st_size / 1e6:.2f} MB; DIR {folder_size(out) / 1e6:.1f} MB "
          f"(naive.html {naive.stat().st_size / 1e6:.2f} MB, its PNGs included in DIR)")
    results: dict[str, list[tuple[float, float, int]]] = {"ours": [], "naive": []}
    with Browser(timeout=300) as browser:
        for _ in range(5):
            results["ours"].append(measure(browser, index))
            results["naive"].append(measure(browser, naive))
        browser.open(index.as_uri())
        started = time.perf_counter()
        browser.click("#task-0 details.problems summary")
        browser.wait_until("!!document.querySelector('#task-0 .problem-table table')")
        problems_ms = 1000 * (time.perf_counter() - started)
        assert not [u for u in browser.requests() if not u.startswith(("file://", "data:", "about:"))]
    medians = {name: [statistics.median(run[i] for run in values) for i in range(3)] for name, values in results.items()}
    for name, (load, paint, read) in medians.items():
        print(f"{name:5}: load event {load:7.0f} ms, first contentful paint {paint:6.0f} ms, "
              f"read before load {read / 1e6:6.2f} MB")
    ours, naive_m = medians["ours"], medians["naive"]
    print(f"naive/ours: load {naive_m[0] / ours[0]:.1f}x, first paint {naive_m[1] / ours[1]:.1f}x, "
          f"bytes before load {naive_m[2] / ours[2]:.1f}x")
    print(f"opening one task's problems table ({PROBLEMS} rows x {MODELS} models) on our page: {problems_ms:.0f} ms")


if __name__ == "__main__":
    main()
