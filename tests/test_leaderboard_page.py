"""`leaderboard --format html/json/model-index`: the published forms of a leaderboard.

The page is opened in a real headless Chromium (tests/chromium.py; skipped with the reason
where Chromium is missing): its table must show the numbers of `--format json`, sort by a
clicked column, render every figure, and fetch nothing beyond its own folder.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from chromium import Browser, missing_reason

from lm_eval_passk.cli import main
from lm_eval_passk.run_format import read_rows

needs_chromium = pytest.mark.skipif(missing_reason() is not None, reason=missing_reason() or "")

BASE, RL = "demo/base-model", "demo/rl-model"


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """`lm-eval-passk demo`'s two runs (written by the real command)."""
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out)]) == 0
    return out / "runs" / "base", out / "runs" / "rl"


def counts_from_samples(run: Path) -> dict[str, tuple[int, int]]:
    """Each problem's (n, c) as the samples file logs them (n_samples, n_correct)."""
    (samples,) = run.rglob("samples_*.jsonl")
    return {row["doc"]["problem_id"]: (row["n_samples"], row["n_correct"]) for row in read_rows(samples)}


def pixels(png: bytes) -> np.ndarray:
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(png), format="png")


def assert_not_blank(png: bytes) -> None:
    image = pixels(png)[..., :3]
    assert image.std() > 0.05, "a blank image"
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20


def table_cells(browser: Browser) -> list[dict[str, Any]]:
    """Every cell of the leaderboard table as the browser shows it."""
    return browser.evaluate("""
      Array.from(document.querySelectorAll('#board tbody tr')).flatMap(function (row) {
        var heads = document.querySelectorAll('#board thead th[data-k]');
        return Array.from(row.querySelectorAll('td')).map(function (td, i) {
          return {model: row.querySelector('th').textContent, task: heads[i].dataset.task, k: heads[i].dataset.k,
                  value: td.dataset.value, text: td.firstChild ? td.firstChild.textContent : '',
                  best: td.classList.contains('best'), title: td.title};
        });
      })""")


def row_order(browser: Browser) -> list[str]:
    return browser.evaluate("Array.from(document.querySelectorAll('#board tbody th')).map(t => t.textContent)")


def assert_same_numbers_as_json(browser: Browser, document: dict[str, Any]) -> None:
    """Every (model, task, k) cell holds the JSON's pass@k (the exact fraction, and its
    percentage with one decimal), the best of each column is marked, and empty cells are
    the (model, task) pairs without a run or a k above the run's n."""
    cells = table_cells(browser)
    models = {m for models in document["tasks"].values() for m in models}
    assert {cell["model"] for cell in cells} == models
    assert len(cells) == len(models) * len(document["tasks"]) * len(document["ks"])
    for cell in cells:
        summary = document["tasks"][cell["task"]].get(cell["model"])
        value = summary["pass_at_k"].get(cell["k"]) if summary else None
        if value is None:
            assert cell["value"] == "" and cell["text"] in ("", "-")
            continue
        assert float(cell["value"]) == value
        assert cell["text"] == f"{100 * value:.1f}"
        column = [s["pass_at_k"][cell["k"]] for s in document["tasks"][cell["task"]].values() if cell["k"] in s["pass_at_k"]]
        assert cell["best"] == (value == max(column))
        low, high = summary["ci95"][cell["k"]]
        assert f"[{100 * low:.1f}, {100 * high:.1f}]" in cell["title"] and f"n = {summary['n']}" in cell["title"]


def assert_every_figure_renders(browser: Browser) -> int:
    """Load every (lazy) figure, then check each decoded and drew something on screen."""
    browser.evaluate("document.querySelectorAll('img').forEach(function (i) { i.loading = 'eager'; })")
    browser.wait_until("Array.from(document.images).every(function (i) { return i.complete; })")
    images = browser.evaluate("Array.from(document.images).map(function (i) { return [i.src, i.naturalWidth]; })")
    assert images and all(width > 0 for _, width in images), f"broken images: {images}"
    for index in range(len(images)):
        box = browser.evaluate(
            f"(function () {{ var i = document.images[{index}]; i.scrollIntoView(); var r = i.getBoundingClientRect();"
            " return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height, scale: 1}; })()"
        )
        assert box["width"] > 50 and box["height"] > 50
        shot = browser.call("Page.captureScreenshot", format="png", clip=box, captureBeyondViewport=True)
        assert_not_blank(base64.b64decode(shot["data"]))
    return len(images)


def assert_no_request_leaves(browser: Browser, site: Path) -> None:
    own = site.resolve().as_uri() + "/"
    outside = [url for url in browser.requests() if not url.startswith((own, "data:"))]
    assert browser.requests() and not outside, outside


def open_problems(browser: Browser, index: int) -> None:
    browser.click(f"#task-{index} details.problems summary")
    browser.wait_until(f"!!document.querySelector('#task-{index} .problem-table table')")


@needs_chromium
def test_demo_leaderboard_page_in_chromium(demo_runs, tmp_path: Path, capsys) -> None:
    base, rl = map(str, demo_runs)
    code, out, _ = run_cli(capsys, "leaderboard", base, rl, "--format", "json", "--base", f"{BASE}={RL}")
    assert code == 0
    document = json.loads(out)
    site = tmp_path / "site"
    code, out, _ = run_cli(capsys, "leaderboard", base, rl, "--format", "html", "--out", str(site), "--base", f"{BASE}={RL}")
    assert code == 0 and out.strip() == str(site / "index.html")
    # The JSON written beside the page is the one printed, with maj@k added (the page draws it).
    beside = json.loads((site / "leaderboard.json").read_text())
    for task, models in document["tasks"].items():
        for model, summary in models.items():
            page_summary = beside["tasks"][task][model]
            assert "maj_at_k" in page_summary and "maj_at_k" not in summary
            assert {key: page_summary[key] for key in summary} == summary

    base_counts, rl_counts = counts_from_samples(demo_runs[0]), counts_from_samples(demo_runs[1])
    with Browser() as browser:
        browser.open((site / "index.html").as_uri())
        assert_same_numbers_as_json(browser, document)

        # Sorting: the RL-like model leads at pass@1, the base model at pass@256.
        task = "demo_math_passk"
        by = {k: sorted(document["tasks"][task], key=lambda m: -document["tasks"][task][m]["pass_at_k"][k]) for k in ("1", "256")}
        assert by["1"] != by["256"]
        for k in ("1", "256", "1"):
            browser.click(f"#board th[data-k='{k}'] button")
            assert row_order(browser) == by[k]
        browser.click("#board th[data-k='1'] button")  # again: ascending
        assert row_order(browser) == by["1"][::-1]
        browser.click("#board th[data-col='0'] button")  # by name
        assert row_order(browser) == sorted(by["1"])
        assert_same_numbers_as_json(browser, document)  # sorting moved rows, not cells

        # The CI toggle shows each cell's interval and n.
        assert browser.evaluate("getComputedStyle(document.querySelector('#board .ci')).display") == "none"
        browser.click("#show-ci")
        assert browser.evaluate("getComputedStyle(document.querySelector('#board .ci')).display") == "block"

        # The pair's crossover k and ΔSE, as compare reports them.
        (pair,) = document["pairs"]
        crossover = pair["tasks"][task]["crossover_k"]
        pair_row = browser.evaluate("Array.from(document.querySelector('#task-0 table.pairs tbody tr').cells).map(c => c.textContent)")
        assert pair_row[:3] == [BASE, RL, str(crossover)]
        compare = json.loads(run_cli(capsys, "compare", base, rl, "--format", "json")[1])["tasks"][task]
        assert crossover == compare["crossover_k"] and pair["tasks"][task]["delta_se"] == compare["delta_se"]

        figures = assert_every_figure_renders(browser)
        assert figures == 4  # pass@k, maj@k, accuracy histogram, the pair's coverage

        # Per problem: each model's c/n as the samples log it; the "exactly one model" filter
        # leaves the problems only one of them solves; a click shows the statement.
        open_problems(browser, 0)
        rows = browser.evaluate(
            "Array.from(document.querySelectorAll('#task-0 .problem-table tbody tr'))"
            ".map(r => [r.querySelector('summary').textContent, r.cells[1].textContent, r.cells[2].textContent])"
        )
        assert {pid: (b, r) for pid, b, r in rows} == {
            pid: (f"{base_counts[pid][1]}/{base_counts[pid][0]}", f"{rl_counts[pid][1]}/{rl_counts[pid][0]}")
            for pid in base_counts
        }
        browser.evaluate("var s = document.querySelector('#task-0 .problem-table select'); s.value = 'one';"
                         "s.dispatchEvent(new Event('change'))")
        shown = browser.evaluate("Array.from(document.querySelectorAll('#task-0 .problem-table tbody tr:not([hidden]) summary')).map(s => s.textContent)")
        only_one = sorted(p for p in base_counts if (base_counts[p][1] > 0) != (rl_counts[p][1] > 0))
        assert sorted(shown) == only_one
        assert len(only_one) == pair["tasks"][task]["coverage"]["base_only"] + pair["tasks"][task]["coverage"]["rl_only"]
        statement = "document.querySelector('#task-0 .problem-table tbody tr:not([hidden]) .statement')"
        assert browser.evaluate(f"{statement}.checkVisibility()") is False  # hidden until clicked
        browser.click("#task-0 .problem-table tbody tr:not([hidden]) summary")
        number = int(shown[0].split("-")[1])
        assert browser.evaluate(f"{statement}.checkVisibility()") is True
        assert browser.evaluate(f"{statement}.textContent") == f"Synthetic problem {number}."

        footer = browser.evaluate("document.querySelector('footer').textContent")
        assert "lm-eval-passk 0.1.0" in footer and "task versions" in footer and "2025-01-01" in footer

        assert_no_request_leaves(browser, site)
        assert browser.errors() == []
        browser.evaluate("window.scrollTo(0, 0)")
        desktop = browser.screenshot(tmp_path / "leaderboard.png")
        # Printable: the print stylesheet hides the controls; Chromium's PDF has the table.
        browser.call("Emulation.setEmulatedMedia", media="print")
        assert browser.evaluate("getComputedStyle(document.querySelector('.controls')).display") == "none"
        assert browser.evaluate("document.querySelector('#board').getBoundingClientRect().height") > 0
        browser.call("Emulation.setEmulatedMedia", media="")
        pdf = base64.b64decode(browser.call("Page.printToPDF")["data"])
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
        (tmp_path / "leaderboard.pdf").write_bytes(pdf)
        # At phone width the page does not scroll sideways: wide tables scroll inside their box.
        browser.viewport(390, 844, mobile=True)
        assert browser.evaluate("document.documentElement.scrollWidth") <= 390
        phone = browser.screenshot(tmp_path / "leaderboard_phone.png", full_page=False)
    for shot in (desktop, phone):
        assert_not_blank(shot.read_bytes())


@needs_chromium
def test_real_lm_eval_run_beside_the_demo(math_run: dict, demo_runs, tmp_path: Path, capsys) -> None:
    """A real lm_eval run of four tasks and the demo's runs of another: cells without a run
    stay empty and sort last, every task gets its figures, statements come from the docs."""
    runs = [str(math_run["out"]), *map(str, demo_runs)]
    document = json.loads(run_cli(capsys, "leaderboard", *runs, "--k", "1,8", "--format", "json")[1])
    assert len(document["tasks"]) == 5
    site = tmp_path / "site"
    assert run_cli(capsys, "leaderboard", *runs, "--k", "1,8", "--format", "html", "--out", str(site))[0] == 0
    real_task = next(t for t in document["tasks"] if t != "demo_math_passk")
    real_model = next(iter(document["tasks"][real_task]))
    with Browser() as browser:
        browser.open((site / "index.html").as_uri())
        assert_same_numbers_as_json(browser, document)
        browser.click(f"#board th[data-task='{real_task}'][data-k='8'] button")
        assert row_order(browser)[0] == real_model  # the demo models have no run: last
        assert assert_every_figure_renders(browser) >= 2 * len(document["tasks"])
        index = list(document["tasks"]).index(real_task)
        open_problems(browser, index)
        statements = browser.evaluate(f"Array.from(document.querySelectorAll('#task-{index} .statement')).map(s => s.textContent)")
        (samples,) = math_run["out"].rglob(f"samples_{real_task}_*.jsonl")
        assert sorted(statements) == sorted(row["doc"]["problem"] for row in read_rows(samples))
        runs_text = browser.evaluate("document.querySelector('footer').textContent")
        assert math_run["results"]["lm_eval_version"] in runs_text
        assert_no_request_leaves(browser, site)
        assert browser.errors() == []
        browser.screenshot(tmp_path / "leaderboard.png")


def test_model_index_is_yaml_with_the_json_numbers(demo_runs, math_run: dict, capsys) -> None:
    runs = [str(math_run["out"]), *map(str, demo_runs)]
    document = json.loads(run_cli(capsys, "leaderboard", *runs, "--k", "1,4,256", "--format", "json")[1])
    code, out, _ = run_cli(capsys, "leaderboard", *runs, "--k", "1,4,256", "--format", "model-index")
    assert code == 0
    blocks = [block for block in yaml.safe_load_all(out)]
    found: dict[tuple[str, str, str], float] = {}
    for block in blocks:
        (entry,) = block["model-index"]
        for result in entry["results"]:
            assert result["task"]["type"] == "text-generation"
            for metric in result["metrics"]:
                assert metric["type"].startswith("pass@") and metric["verified"] is False
                found[(entry["name"], result["dataset"]["name"], metric["type"][5:])] = metric["value"]
    expected = {
        (model, task, k): round(100 * summary["pass_at_k"][k], 2)
        for task, models in document["tasks"].items()
        for model, summary in models.items()
        for k in ("1", "4", "256") if k in summary["pass_at_k"]
    }
    assert found == expected
    assert len(blocks) == 3  # the real run's model and the demo's two
    assert ("demo/base-model", "demo_math_passk", "256") in found  # n = 256 reaches k = 256
    assert not any(k == "256" and task != "demo_math_passk" for _, task, k in found)  # n = 8 does not


def test_leaderboard_page_errors(demo_runs, capsys) -> None:
    base, rl = map(str, demo_runs)
    code, _, err = run_cli(capsys, "leaderboard", base, rl, "--format", "html")
    assert code == 2 and "--format html writes a folder" in err and "--out DIR" in err
    code, _, err = run_cli(capsys, "leaderboard", base, rl, "--base", "demo/base-model=demo/nobody")
    assert code == 2 and "--base demo/base-model=demo/nobody" in err and "demo/rl-model" in err
    code, _, err = run_cli(capsys, "leaderboard", base, rl, "--base", "demo/base-model")
    assert code == 2 and "expected BASE=RL" in err


def test_page_from_a_copy_of_the_folder(demo_runs, tmp_path: Path, capsys) -> None:
    """The folder is all there is: index.html names only files inside it (figures and
    problem scripts) that exist, so copying the folder elsewhere publishes the page."""
    site = tmp_path / "site"
    assert run_cli(capsys, "leaderboard", *map(str, demo_runs), "--format", "html", "--out", str(site))[0] == 0
    moved = shutil.copytree(site, tmp_path / "elsewhere")
    shutil.rmtree(site)
    page = (moved / "index.html").read_text()
    links = re.findall(r'(?:src|href|data-src)="([^"#]+)"', page)
    assert links and all((moved / link).is_file() for link in links), links
    assert "http://" not in page and "https://" not in page


def write_hostile_run(directory: Path, model: str, statement: str) -> Path:
    """A run of one problem whose model name and statement are HTML that would fetch a URL
    and run a script if the page inserted them as markup."""
    folder = directory / "run"
    folder.mkdir(parents=True)
    row = {
        "doc_id": 0,
        "doc": {"problem_id": "p<1>", "problem": statement, "answer": "1", "passk_task": "math500"},
        "target": "1",
        "resps": [["\\boxed{1}", "\\boxed{2}"]],
        "filtered_resps": [[json.dumps({"correct": True}), json.dumps({"correct": False})]],
        "n_samples": 2,
        "n_correct": 1,
    }
    (folder / "samples_toy_passk_2025-02-03T04-05-06.000007.jsonl").write_text(json.dumps(row) + "\n")
    (folder / "results_2025-02-03T04-05-06.000007.json").write_text(json.dumps({"model_name": model}))
    return directory


@needs_chromium
def test_statements_and_names_are_shown_as_text(tmp_path: Path, capsys) -> None:
    statement = '<img src="https://example.com/x.png" onerror="window.hacked = 1"></script><b>bold?</b>'
    model = '<img src="https://example.com/m.png">'
    run = write_hostile_run(tmp_path / "hostile", model, statement)
    site = tmp_path / "site"
    assert run_cli(capsys, "leaderboard", str(run), "--k", "1", "--format", "html", "--out", str(site))[0] == 0
    with Browser() as browser:
        browser.open((site / "index.html").as_uri())
        assert browser.evaluate("document.querySelector('#board tbody th').textContent") == model
        open_problems(browser, 0)
        assert browser.evaluate("document.querySelector('#task-0 .statement').textContent") == statement
        assert browser.evaluate("document.querySelector('#task-0 .problem-table summary').textContent") == "p<1>"
        assert browser.evaluate("document.querySelector('#task-0 .problem-table thead th:nth-child(2)').textContent") == model
        assert browser.evaluate("window.hacked === undefined")
        assert_no_request_leaves(browser, site)


def test_base_pair_names_may_hold_an_equals_sign(tmp_path: Path, capsys) -> None:
    """lm-eval names a model without model_name by its model_args (`pretrained=...`)."""
    base = write_hostile_run(tmp_path / "base", "pretrained=org/base,dtype=float32", "1 + 1?")
    rl = write_hostile_run(tmp_path / "rl", "org/rl", "1 + 1?")
    code, out, _ = run_cli(capsys, "leaderboard", str(base), str(rl), "--k", "1", "--format", "json",
                           "--base", "pretrained=org/base,dtype=float32=org/rl")
    assert code == 0
    (pair,) = json.loads(out)["pairs"]
    assert (pair["base"], pair["rl"]) == ("pretrained=org/base,dtype=float32", "org/rl")
    coverage = pair["tasks"]["toy_passk"]["coverage"]
    assert coverage == {"both": 1, "base_only": 0, "rl_only": 0, "neither": 0}
