"""Stable variant assignment: the hash against a reference, shares within binomial
tolerance on 200,000 ids, independence of order, batches and streams."""

import numpy as np
import pytest

from campaigns.experiments.assignment import HOLDOUT, audience_groups, splitmix64, unit_streams

N = 200_000
IDS = np.arange(1, N + 1, dtype=np.int64)
MASK = (1 << 64) - 1


def splitmix64_reference(state: int) -> int:
    """Vigna's splitmix64.c ``next()`` in plain Python integers."""
    z = (state + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def within_binomial(count: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(count - n * p) <= sigmas * np.sqrt(n * p * (1 - p))


def test_splitmix64_matches_the_reference_generator():
    # The first two outputs of splitmix64 seeded with 1234567 (the reference values of
    # Vigna's splitmix64.c): 6457827717110365317, 3203168211198807973.
    first = splitmix64(np.array([1234567], dtype=np.uint64))[0]
    second = splitmix64(np.array([(1234567 + 0x9E3779B97F4A7C15) & MASK], dtype=np.uint64))[0]
    assert int(first) == 6457827717110365317
    assert int(second) == 3203168211198807973
    values = np.array([0, 1, 2**63, MASK, 987654321987], dtype=np.uint64)
    assert [int(v) for v in splitmix64(values)] == [splitmix64_reference(int(v)) for v in values]


def test_shares_follow_the_plan_within_binomial_tolerance():
    groups = audience_groups(IDS, seed=424242, holdout_percent=10, test_percent=30, weights=[1, 2, 1])
    holdout = groups.variant_index == HOLDOUT
    assert within_binomial(int(holdout.sum()), N, 0.10)
    kept = N - int(holdout.sum())
    for index, share in enumerate([0.25, 0.5, 0.25]):
        assert within_binomial(int((groups.variant_index == index).sum()), kept, share)
    assert not groups.in_test[holdout].any()
    assert within_binomial(int(groups.in_test.sum()), kept, 0.30)
    # Test membership is independent of the variant: each variant has ~30 % in the test.
    for index in range(3):
        members = groups.variant_index == index
        assert within_binomial(int(groups.in_test[members].sum()), int(members.sum()), 0.30)


def test_uniforms_are_uniform_and_the_two_streams_independent():
    u_group, u_test = unit_streams(IDS, seed=7)
    assert u_group.min() >= 0 and u_group.max() < 1
    counts = np.histogram(u_group, bins=50, range=(0, 1))[0]
    expected = N / 50
    chi_square = ((counts - expected) ** 2 / expected).sum()
    assert chi_square < 100  # 49 degrees of freedom: p ≈ 3e-5 at 100
    assert abs(np.corrcoef(u_group, u_test)[0, 1]) < 5 / np.sqrt(N)
    both = ((u_group < 0.5) & (u_test < 0.5)).sum()
    assert within_binomial(int(both), N, 0.25)


def test_same_customer_same_group_whatever_the_order_or_the_batches():
    plan = {"seed": 99, "holdout_percent": 5, "test_percent": 20, "weights": [3, 1]}
    whole = audience_groups(IDS, **plan)
    order = np.random.default_rng(1).permutation(N)
    shuffled = audience_groups(IDS[order], **plan)
    assert (shuffled.variant_index == whole.variant_index[order]).all()
    assert (shuffled.in_test == whole.in_test[order]).all()
    batches = [audience_groups(batch, **plan) for batch in np.array_split(IDS, 7)]
    assert (np.concatenate([b.variant_index for b in batches]) == whole.variant_index).all()
    assert (np.concatenate([b.in_test for b in batches]) == whole.in_test).all()
    again = audience_groups(IDS.copy(), **plan)
    assert (again.variant_index == whole.variant_index).all()


def test_another_seed_gives_an_unrelated_split():
    plan = {"holdout_percent": 0, "test_percent": 100, "weights": [1, 1]}
    first = audience_groups(IDS, seed=1, **plan).variant_index
    second = audience_groups(IDS, seed=2, **plan).variant_index
    # Unrelated 50/50 splits agree on about half of the customers.
    assert within_binomial(int((first == second).sum()), N, 0.5)


def test_whole_audience_is_in_the_test_at_100_percent_and_zero_weight_gets_nobody():
    groups = audience_groups(IDS[:20_000], seed=5, holdout_percent=20, test_percent=100, weights=[1, 0, 1])
    assert (groups.in_test == (groups.variant_index != HOLDOUT)).all()
    assert not (groups.variant_index == 1).any()
    assert set(np.unique(groups.variant_index)) == {HOLDOUT, 0, 2}


def test_large_and_negative_looking_ids_and_seeds_work():
    ids = np.array([0, 2**62, 2**63 - 1], dtype=np.int64)
    groups = audience_groups(ids, seed=2**31 - 1, holdout_percent=0, test_percent=50, weights=[1])
    assert (groups.variant_index == 0).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weights": []},
        {"weights": [0, 0]},
        {"weights": [1, -1]},
        {"weights": [1], "holdout_percent": 100},
        {"weights": [1], "test_percent": -1},
    ],
)
def test_bad_plans_are_refused(kwargs):
    plan = {"seed": 1, "holdout_percent": 0, "test_percent": 100} | kwargs
    with pytest.raises(ValueError):
        audience_groups(IDS[:10], **plan)
