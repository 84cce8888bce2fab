"""The leaderboard as a static web page: `leaderboard --format html --out DIR`.

DIR/index.html holds the table (sortable, best per column marked, CIs on hover or by a
toggle), a section per task with its figures, and a footer with the versions; the figures
are the report's own (plots.py and friends) as SVG files in DIR/figures, loaded lazily;
each task's per-problem counts and statements are a script in DIR/problems, loaded when its
section is opened. Styles and scripts are inline: nothing is fetched from the network, so
DIR can be opened from disk or served as it is (GitHub Pages, a Hugging Face Space).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any

from lm_eval_passk.analysis import perplexity, plots
from lm_eval_passk.analysis.figures_distribution import accuracy_figure
from lm_eval_passk.analysis.render import ABOVE_N

FIGURES = "figures"
PROBLEMS = "problems"


def _percent(value: float) -> str:
    return f"{100 * value:.1f}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no `</script>` can end it early)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _models(document: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(m for models in document["tasks"].values() for m in models))


def _runs_by_key(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(run["model"], run["task"]): run for run in document.get("runs", [])}


def _best(document: dict[str, Any], task: str, k: str) -> float | None:
    values = [s["pass_at_k"][k] for s in document["tasks"][task].values() if k in s["pass_at_k"]]
    return max(values) if values else None


def _cell(summary: dict[str, Any] | None, k: str, best: float | None, run: dict[str, Any]) -> str:
    """One table cell: the percentage shown, the fraction in data-value (what sorting and
    the tests read), the CI and the run's n and grader on hover and under the toggle."""
    if summary is None:
        return '<td class="empty" data-value="" title="no run of this model on this task"></td>'
    detail = f"n = {summary['n']}, grader {run.get('grader') or 'as logged'}"
    if k not in summary["pass_at_k"]:
        return (f'<td class="empty" data-value="" title="k is above this run\'s n ({escape(detail)})">'
                f'{ABOVE_N}</td>')
    value, (low, high) = summary["pass_at_k"][k], summary["ci95"][k]
    ci = f"[{_percent(low)}, {_percent(high)}]"
    marked = ' class="best"' if value == best else ""
    return (
        f'<td{marked} data-value="{value!r}" title="95% CI {ci}; {escape(detail)}">{_percent(value)}'
        f'<span class="ci">{ci}<br>n={summary["n"]}</span></td>'
    )


def board_table(document: dict[str, Any]) -> str:
    """The models x (task, k) table."""
    tasks, ks, models = list(document["tasks"]), [str(k) for k in document["ks"]], _models(document)
    runs = _runs_by_key(document)
    top = "".join(f'<th colspan="{len(ks)}" scope="colgroup"><a href="#task-{i}">{escape(t)}</a></th>'
                  for i, t in enumerate(tasks))
    column = 1
    second = []
    for task in tasks:
        for k in ks:
            second.append(f'<th scope="col" data-col="{column}" data-task="{escape(task)}" data-k="{k}">'
                          f'<button type="button">pass@{k}</button></th>')
            column += 1
    rows = []
    for model in models:
        cells = [
            _cell(document["tasks"][task].get(model), k, _best(document, task, k), runs.get((model, task), {}))
            for task in tasks for k in ks
        ]
        rows.append(f'<tr><th scope="row">{escape(model)}</th>{"".join(cells)}</tr>')
    return (
        '<div class="scroll"><table id="board">'
        f'<thead><tr><th rowspan="2" scope="col" data-col="0" data-text="1"><button type="button">model</button></th>{top}</tr>'
        f'<tr>{"".join(second)}</tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div>'
    )


def _svg_size(svg: Path) -> str:
    """The SVG's own width and height as img attributes: the browser then keeps the figure's
    space before it loads, so lazy figures do not move the page under a reader's click."""
    found = re.search(r'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"', svg.read_text(encoding="utf-8")[:2000])
    return f' width="{round(float(found[1]))}" height="{round(float(found[2]))}"' if found else ""


def _figure(paths: list[Path], out: Path, caption: str) -> str:
    svg = next(p for p in paths if p.suffix == ".svg")
    png = next(p for p in paths if p.suffix == ".png")
    return (
        f'<figure><img src="{escape(svg.relative_to(out).as_posix())}" alt="{escape(caption)}"{_svg_size(svg)} loading="lazy">'
        f'<figcaption>{escape(caption)} · <a href="{escape(png.relative_to(out).as_posix())}">PNG</a></figcaption></figure>'
    )


def task_figures(document: dict[str, Any], task: str, index: int, out: Path) -> list[str]:
    """The report's figures of one task, drawn by its own figure functions into DIR/figures."""
    directory = out / FIGURES / f"task-{index}"
    directory.mkdir(parents=True, exist_ok=True)
    series = list(document["tasks"][task].items())
    figures = [_figure(plots.curves_figure(task, series, directory), out, "pass@k with 95% bootstrap bands")]
    if paths := plots.majority_figure(task, series, directory):
        figures.append(_figure(paths, out, "pass@k and maj@k (majority vote over k samples)"))
    if paths := plots.cot_figure(task, series, directory):
        figures.append(_figure(paths, out, "pass@k and CoT-Pass@k (judged reasoning)"))
    if all("accuracy_histogram" in s for _, s in series):
        figures.append(_figure(accuracy_figure(task, series, directory), out, "per-problem accuracy c/n"))
    for number, pair in enumerate(document.get("pairs", [])):
        if task in pair["tasks"]:
            pair_dir = directory / f"pair-{number}"
            pair_dir.mkdir(exist_ok=True)
            runs = document["tasks"][task]
            n = plots.coverage_n(runs[pair["base"]]["n"], [runs[pair["rl"]]["n"]])
            paths = plots.coverage_figure(task, pair["tasks"][task]["coverage"], pair_dir, n)
            figures.append(_figure(paths, out, f"coverage at k = n: base {pair['base']}, rl {pair['rl']}"))
    if paths := perplexity.perplexity_figures({"tasks": {task: document["tasks"][task]}}, directory):
        figures.append(_figure(paths, out, "perplexity of each run's responses"))
    return figures


def _leaders(document: dict[str, Any], task: str) -> str:
    parts = []
    for k in (str(k) for k in document["ks"]):
        best = _best(document, task, k)
        if best is None:
            continue
        leaders = [m for m, s in document["tasks"][task].items() if s["pass_at_k"].get(k) == best]
        parts.append(f"pass@{k}: {escape(', '.join(leaders))} ({_percent(best)})")
    return "; ".join(parts)


def coverage_table(document: dict[str, Any], task: str, ids: list[str]) -> str:
    """Problems each model solves at k = n, those only it solves, and those nobody solves."""
    summaries = document["tasks"][task]
    solved = {model: set(s["solved_ids"]) for model, s in summaries.items()}
    rows = []
    for model, ids_solved in solved.items():
        others = set().union(*(s for m, s in solved.items() if m != model))
        rows.append(f"<tr><th scope=\"row\">{escape(model)}</th><td>{len(ids_solved)} / {summaries[model]['problems']}"
                    f"</td><td>{len(ids_solved - others)}</td></tr>")
    every = set.intersection(*solved.values()) if solved else set()
    anyone = set().union(*solved.values())
    return (
        '<div class="scroll"><table class="small"><thead><tr><th scope="col">model</th><th scope="col">solved at k = n</th>'
        f'<th scope="col">solved by it alone</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
        f"<p>Of {len(ids)} problems: solved by every model {len(every)}, by none {len(set(ids) - anyone)}.</p>"
    )


def pairs_table(document: dict[str, Any], task: str | None = None) -> str:
    """Crossover k, ΔSE and coverage of each declared base/RL pair (on one task, or all)."""
    rows = []
    for pair in document.get("pairs", []):
        for name, entry in pair["tasks"].items():
            if task is not None and name != task:
                continue
            coverage, gap = entry["coverage"], entry["delta_se"]
            crossover = entry["crossover_k"]
            rows.append(
                f"<tr><td>{escape(pair['base'])}</td><td>{escape(pair['rl'])}</td>"
                + ("" if task is not None else f"<td>{escape(name)}</td>")
                + f"<td>{'none' if crossover is None else crossover}</td>"
                f"<td>{_percent(gap['value'])} points (k = {gap['k']})</td>"
                + "".join(f"<td>{coverage[key]}</td>" for key in ("both", "base_only", "rl_only", "neither"))
                + "</tr>"
            )
    if not rows:
        return ""
    task_header = "" if task is not None else "<th scope=\"col\">task</th>"
    return (
        '<div class="scroll"><table class="small pairs"><thead><tr><th scope="col">base</th><th scope="col">rl</th>'
        f'{task_header}<th scope="col">crossover k</th><th scope="col">ΔSE</th><th scope="col">both</th>'
        '<th scope="col">base only</th><th scope="col">rl only</th><th scope="col">neither</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div>'
    )


def task_section(document: dict[str, Any], task: str, index: int, problems: dict[str, Any], out: Path) -> str:
    summaries = document["tasks"][task]
    sizes = ", ".join(f"{escape(m)} n = {s['n']}" for m, s in summaries.items())
    figures = "".join(task_figures(document, task, index, out))
    pairs = pairs_table(document, task)
    pairs_block = (f"<h3>Base/RL pairs</h3><p class=\"note\">crossover k: the smallest k where the base model "
                   f"catches up; ΔSE: base pass@k (k = 256 or its largest) minus rl pass@1, in points; coverage at k = n.</p>"
                   f"{pairs}") if pairs else ""
    count = len(problems["ids"])
    return (
        f'<section id="task-{index}"><h2>{escape(task)}</h2>'
        f'<p class="note">Samples per problem: {sizes}. Highest {_leaders(document, task)}.</p>'
        f'<div class="figures">{figures}</div>{pairs_block}'
        f"<h3>Coverage</h3>{coverage_table(document, task, problems['ids'])}"
        f'<details class="problems" data-src="{PROBLEMS}/task-{index}.js" data-index="{index}">'
        f"<summary>Problems ({count}): each model's c/n; click a problem for its statement</summary>"
        '<div class="problem-table">Loading…</div></details></section>'
    )


def problems_script(task: str, index: int, models: list[str], table: dict[str, Any]) -> str:
    """DIR/problems/task-<index>.js: the task's per-problem (n, c) of each model and statements."""
    data = {
        "task": task,
        "models": models,
        "ids": table["ids"],
        "texts": [table["texts"].get(p, "") for p in table["ids"]],
        "counts": [[table["counts"].get(m, {}).get(p) for m in models] for p in table["ids"]],
    }
    return f"passkProblems({index}, {_script_json(data)});\n"


def _versions(document: dict[str, Any]) -> str:
    from lm_eval_passk import __version__

    runs = document.get("runs", [])
    lm_eval = sorted({r["lm_eval_version"] for r in runs if r.get("lm_eval_version")})
    tasks: dict[str, set[str]] = {}
    for run in runs:
        tasks.setdefault(run["task"], set()).add(run.get("task_version") or "not recorded")
    task_versions = "; ".join(f"{escape(t)} {', '.join(sorted(v))}" for t, v in tasks.items())
    dates = sorted(r["date"] for r in runs if r.get("date"))
    run_dates = f"{dates[0]} to {dates[-1]}" if dates and dates[0] != dates[-1] else (dates[0] if dates else "not recorded")
    bootstrap = document.get("bootstrap", {})
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<p>lm-eval-passk {escape(__version__)} · lm-eval {escape(', '.join(lm_eval) or 'not recorded')} · "
        f"task versions: {task_versions or 'not recorded'} · runs dated {escape(run_dates)} · "
        f"page generated {generated} · 95% CIs: percentile bootstrap over problems, "
        f"{bootstrap.get('resamples', '?')} resamples, seed {bootstrap.get('seed', '?')}</p>"
    )


def runs_table(document: dict[str, Any]) -> str:
    columns = ("model", "task", "n", "problems", "grader", "temperature", "task_version", "lm_eval_version", "date")
    head = "".join(f'<th scope="col">{c.replace("_", " ")}</th>' for c in columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape('' if run.get(c) is None else str(run[c]))}</td>" for c in columns) + "</tr>"
        for run in document.get("runs", [])
    )
    return f'<div class="scroll"><table class="small"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'


def write_page(document: dict[str, Any], problems: dict[str, dict[str, Any]], out: Path, title: str = "pass@k leaderboard") -> Path:
    """Write DIR/index.html, its figures and its per-problem scripts; return index.html's path."""
    (out / PROBLEMS).mkdir(parents=True, exist_ok=True)
    models = _models(document)
    sections = []
    for index, task in enumerate(document["tasks"]):
        sections.append(task_section(document, task, index, problems[task], out))
        (out / PROBLEMS / f"task-{index}.js").write_text(
            problems_script(task, index, list(document["tasks"][task]), problems[task])
        )
    ks = ", ".join(str(k) for k in document["ks"])
    pairs = pairs_table(document)
    page = (
        _HEAD.replace("{title}", escape(title))
        + f"<header><h1>{escape(title)}</h1><p>{_count(len(models), 'model')} × {_count(len(document['tasks']), 'task')} at k = {ks}. "
        "pass@k in %: the chance that at least one of k samples is correct (unbiased estimator from n samples). "
        "Click a column to sort; <strong>bold</strong>: highest in its column; "
        "hover a cell for its 95% CI, the run's n and grader.</p>"
        '<p class="controls"><label><input type="checkbox" id="show-ci"> show 95% CIs and n in the table</label></p></header>'
        f"<main>{board_table(document)}"
        + (f"<h2>Base/RL pairs</h2>{pairs}" if pairs else "")
        + '<nav><h2>Tasks</h2><ul>'
        + "".join(f'<li><a href="#task-{i}">{escape(t)}</a></li>' for i, t in enumerate(document["tasks"]))
        + "</ul></nav>"
        + "".join(sections)
        + f"<details><summary>Runs: n, grader, versions, dates</summary>{runs_table(document)}</details></main>"
        + f"<footer>{_versions(document)}</footer>"
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )
    path = out / "index.html"
    path.write_text(page)
    return path


_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
:root { --line: #d0d7de; --muted: #57606a; --best: #dafbe1; --head: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1rem; color: #1f2328; }
h1 { font-size: 1.6rem; margin: 0.2rem 0; } h2 { font-size: 1.25rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; } a { color: #0969da; }
.note, figcaption, footer { color: var(--muted); font-size: 0.85rem; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; max-width: 100%; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 0.3rem 0.5rem; text-align: right; white-space: nowrap; }
thead th { background: var(--head); text-align: center; }
tbody th { text-align: left; }
#board tbody th { position: sticky; left: 0; background: #fff; z-index: 1; }
#board thead th[data-col] button { all: unset; cursor: pointer; font-weight: 600; }
#board thead th[aria-sort="descending"] button::after { content: " ▼"; }
#board thead th[aria-sort="ascending"] button::after { content: " ▲"; }
td.best { font-weight: 700; background: var(--best); }
td.empty { color: var(--muted); text-align: center; }
.ci { display: none; font-size: 0.75rem; color: var(--muted); font-weight: 400; }
body.show-ci .ci { display: block; }
.figures { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 440px), 1fr)); }
figure { margin: 0; break-inside: avoid; } figure img { width: 100%; height: auto; min-height: 8rem; }
table.small th, table.small td { font-size: 0.85rem; }
details { margin: 1rem 0; } summary { cursor: pointer; font-weight: 600; }
.problem-table table td { text-align: center; } .problem-table td.id { text-align: left; white-space: normal; }
td.c0 { color: var(--muted); } td.cn { background: #dafbe1; } td.alone { background: #fff8c5; font-weight: 700; }
.statement { white-space: pre-wrap; font-weight: 400; max-width: 60ch; font-size: 0.85rem; }
nav ul { columns: 3 12rem; padding-left: 1.2rem; }
footer { border-top: 1px solid var(--line); margin-top: 2rem; padding-top: 0.5rem; }
@media (max-width: 640px) { body { font-size: 14px; padding: 0.5rem; } th, td { padding: 0.2rem 0.35rem; } }
@media print { .controls, nav, details:not([open]) { display: none; } body { max-width: none; }
  .scroll { overflow: visible; } #board tbody th { position: static; } a { color: inherit; } }
</style></head><body>
"""

# Sorting, the CI toggle, and each task's problems table (built from its script when the
# section is first opened, so a study of thousands of problems costs nothing until then).
_SCRIPT = """
(function () {
  var board = document.getElementById('board');
  function key(row, col, text) {
    var cell = row.cells[col];
    if (text) return cell.textContent;
    var v = cell.getAttribute('data-value');
    return v === '' || v === null ? null : parseFloat(v);
  }
  board.querySelectorAll('thead th[data-col]').forEach(function (th) {
    th.addEventListener('click', function () {
      var col = +th.getAttribute('data-col'), text = th.hasAttribute('data-text');
      var descending = text ? th.getAttribute('aria-sort') === 'ascending'
                            : th.getAttribute('aria-sort') !== 'descending';
      board.querySelectorAll('thead th[aria-sort]').forEach(function (o) { o.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      var body = board.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a, col, text), y = key(b, col, text);
        if (x === null || y === null) return (x === null) - (y === null);  // no value: last
        if (text) return descending ? y.localeCompare(x) : x.localeCompare(y);
        return descending ? y - x : x - y;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  document.getElementById('show-ci').addEventListener('change', function (e) {
    document.body.classList.toggle('show-ci', e.target.checked);
  });
  var sections = {};
  document.querySelectorAll('details.problems').forEach(function (d) {
    sections[d.getAttribute('data-index')] = d;
    d.addEventListener('toggle', function () {
      if (!d.open || d.hasAttribute('data-loaded')) return;
      d.setAttribute('data-loaded', '');
      var s = document.createElement('script');
      s.src = d.getAttribute('data-src');
      s.onerror = function () { d.querySelector('.problem-table').textContent = 'Could not load ' + s.src; };
      document.body.appendChild(s);
    });
  });
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  var entities = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'};
  function esc(text) { return String(text).replace(/[&<>"]/g, function (c) { return entities[c]; }); }
  window.passkProblems = function (index, data) {
    var holder = sections[index].querySelector('.problem-table');
    holder.textContent = '';
    var filter = el('select');
    [['all', 'all problems'], ['one', 'solved by exactly one model'], ['some', 'solved by some models, not all'],
     ['none', 'solved by no model']].forEach(function (o) {
      var option = el('option', o[1]); option.value = o[0]; filter.appendChild(option);
    });
    var label = el('label', 'Show: '); label.appendChild(filter);
    var table = el('table'), head = el('tr');
    ['problem'].concat(data.models).forEach(function (m) { head.appendChild(el('th', m)); });
    table.appendChild(el('thead')).appendChild(head);
    var body = table.appendChild(el('tbody'));
    // One string of rows, parsed once, rather than an element at a time.
    body.innerHTML = data.ids.map(function (id, i) {
      var counts = data.counts[i];
      var solvers = counts.filter(function (nc) { return nc && nc[1] > 0; }).length;
      var runs = counts.filter(function (nc) { return nc; }).length;
      var group = solvers === 0 ? 'none' : solvers === 1 ? 'one' : solvers < runs ? 'some' : 'all';
      var cells = counts.map(function (nc) {
        var cls = !nc ? '' : nc[1] === 0 ? 'c0' : solvers === 1 && runs > 1 ? 'alone' : nc[1] === nc[0] ? 'cn' : '';
        return '<td class="' + cls + '">' + (nc ? nc[1] + '/' + nc[0] : '') + '</td>';
      }).join('');
      return '<tr data-solvers="' + group + '"><td class="id"><details><summary>' + esc(id) + '</summary>'
        + '<div class="statement">' + esc(data.texts[i] || '(no statement logged)') + '</div></details></td>'
        + cells + '</tr>';
    }).join('');
    filter.addEventListener('change', function () {
      var want = filter.value;
      Array.prototype.forEach.call(body.rows, function (row) {
        var has = row.getAttribute('data-solvers');
        row.hidden = !(want === 'all' || want === has || (want === 'some' && has === 'one' && data.models.length > 1));
      });
    });
    holder.appendChild(el('p', 'c/n: correct samples of n. Yellow: the only model that solves it; green: solved by every sample.', 'note'));
    holder.appendChild(label);
    var scroll = el('div', undefined, 'scroll'); scroll.appendChild(table); holder.appendChild(scroll);
  };
})();
"""
