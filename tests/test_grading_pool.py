"""The grading engine: deduplication, hard timeouts, dead workers, memory limits."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lm_eval_passk.grading.pool import Engine, Job

TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch):
    # Workers inherit the environment: let them import tests/pool_checks.py.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]))
    pool = Engine(workers=2, preload=())
    yield pool
    pool.close()


def test_identical_jobs_run_once(engine: Engine, tmp_path: Path) -> None:
    log = tmp_path / "calls.txt"
    jobs = [Job("pool_checks:append_line", (str(log), value)) for value in "abacabab"]
    outcomes = engine.run(jobs, timeout=10)
    assert [o.value for o in outcomes] == list("abacabab")
    assert sorted(log.read_text().split()) == ["a", "b", "c"]


def test_a_stuck_job_times_out_and_the_rest_finish(engine: Engine) -> None:
    jobs = [Job("pool_checks:echo_after", (0.0, str(i))) for i in range(20)]
    jobs.insert(5, Job("pool_checks:echo_after", (120.0, "stuck")))
    start = time.monotonic()
    outcomes = engine.run(jobs, timeout=1.0)
    assert time.monotonic() - start < 15  # bounded: not the 120 s the job asked for
    assert outcomes[5].status == "timeout"
    assert [o.value for i, o in enumerate(outcomes) if i != 5] == [str(i) for i in range(20)]


def test_a_dying_worker_is_an_error_and_is_replaced(engine: Engine) -> None:
    jobs = [Job("pool_checks:die", ()), *[Job("pool_checks:echo_after", (0.0, str(i))) for i in range(5)]]
    outcomes = engine.run(jobs, timeout=10)
    assert outcomes[0].status == "error" and outcomes[0].error == "worker died"
    assert [o.value for o in outcomes[1:]] == [str(i) for i in range(5)]
    assert engine.run([Job("pool_checks:echo_after", (0.0, "again"))], timeout=10)[0].value == "again"


def test_a_memory_bomb_fails_inside_its_worker(engine: Engine) -> None:
    # Workers are capped at 4 GiB of address space: 8 GiB cannot be had.
    (outcome,) = engine.run([Job("pool_checks:allocate_gigabytes", (8,))], timeout=20)
    assert outcome.status == "error" and "MemoryError" in outcome.error


def test_exceptions_are_reported_not_raised(engine: Engine) -> None:
    (outcome,) = engine.run([Job("pool_checks:no_such_function", ())], timeout=10)
    assert outcome.status == "error" and "AttributeError" in outcome.error


def test_timed_out_worker_leaves_no_process_behind(engine: Engine, tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    (outcome,) = engine.run([Job("pool_checks:spawn_orphan_then_hang", (str(marker),))], timeout=2)
    assert outcome.status == "timeout"
    worker, child = map(int, marker.read_text().split())
    time.sleep(0.5)
    for pid in (worker, child):
        assert not running(pid)


def running(pid: int) -> bool:
    """Alive and not a zombie (an ended process whose exit nobody has collected yet)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
