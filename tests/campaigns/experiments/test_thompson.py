"""Thompson-sampling allocation against the integrated chance of being best."""

import numpy as np
import pytest

from campaigns.experiments.stats import chance_to_be_best_beta
from campaigns.experiments.thompson import WEIGHT_SCALE, thompson_weights, weights_from_shares


def test_thompson_shares_are_the_chance_of_being_best():
    successes, trials = [20, 26, 31], [400, 400, 410]
    shares = thompson_weights(successes, trials, draws=200_000, rng=1)
    assert shares.sum() == pytest.approx(1.0)
    # Monte Carlo error of a share is at most sqrt(0.25 / draws) ≈ 0.0011.
    assert shares == pytest.approx(chance_to_be_best_beta(successes, trials), abs=0.006)


def test_thompson_is_reproducible_with_a_seed_and_uniform_without_data():
    assert (thompson_weights([1, 2], [10, 10], rng=7) == thompson_weights([1, 2], [10, 10], rng=7)).all()
    shares = thompson_weights([0, 0, 0, 0], [0, 0, 0, 0], draws=100_000, rng=3)
    assert shares == pytest.approx([0.25] * 4, abs=0.01)


def test_thompson_refuses_bad_counts():
    with pytest.raises(ValueError):
        thompson_weights([5], [4])
    with pytest.raises(ValueError):
        thompson_weights([1, 2], [3])


def test_weights_keep_a_floor_for_every_arm():
    weights = weights_from_shares(np.array([1.0, 0.0, 0.0]), floor=0.05)
    assert weights == [round((0.05 + 0.85) * WEIGHT_SCALE), 50, 50]
    assert weights_from_shares([0.5, 0.5], floor=0.0) == [500, 500]
    assert weights_from_shares([0.0, 0.0]) == [500, 500]
    assert all(w >= 1 for w in weights_from_shares([1.0, 0.0], floor=0.0))
    assert weights_from_shares([]) == []
