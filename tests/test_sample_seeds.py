"""The per-repeat seeds of API requests (tasks/_common/sample_seeds.py): pure parts. The
behaviour against a real server is in tests/test_served_models.py."""

from __future__ import annotations

from lm_eval_passk.tasks._common.sample_seeds import (
    SEED_MODULUS,
    SampleDraws,
    sample_seed,
)


def test_the_first_repeat_keeps_the_model_seed_and_the_others_differ() -> None:
    assert sample_seed(7, 0) == 7
    seeds = [sample_seed(7, index) for index in range(1024)]
    assert len(set(seeds)) == 1024
    assert all(0 <= seed < SEED_MODULUS for seed in seeds)


def test_neighbouring_model_seeds_share_no_repeat_seed() -> None:
    """plan gives job j the seed base + j: the jobs' repeats must not meet."""
    jobs = [{sample_seed(10_000 + job, index) for index in range(1024)} for job in range(16)]
    assert sum(len(seeds) for seeds in jobs) == len(set().union(*jobs)) == 16 * 1024


def test_a_failed_attempt_hands_its_index_back_to_its_retry() -> None:
    draws = SampleDraws(model_seed=7)
    assert [draws.take("p"), draws.take("p"), draws.take("q"), draws.take("p")] == [0, 1, 0, 2]
    draws.give_back("p", 1)  # the attempt with index 1 failed
    assert draws.take("p") == 1  # its retry
    assert draws.take("p") == 3
