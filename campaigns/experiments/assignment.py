"""Who gets which variant: random but stable per (campaign seed, customer), pure NumPy.

Each customer id is hashed with the campaign's seed (splitmix64, vectorised over uint64
arrays, wrapping arithmetic) into two independent uniform numbers in [0, 1):

* ``u_group`` places the customer: below ``holdout_percent / 100`` is the holdout; the rest
  of the interval is cut in proportion to the variant weights.
* ``u_test`` decides test-group membership of a non-holdout customer: below
  ``test_percent / 100`` is in the test (everyone when ``test_percent >= 100``).

Nothing depends on the other ids in the call, so the same customer gets the same group
whatever the order of the ids or the batches they are frozen in, and a customer who
enters a triggered campaign later lands where the plan says.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

HOLDOUT = -1

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-53  # the top 53 bits of a hash as a double in [0, 1)


@dataclass(frozen=True)
class AudienceGroups:
    """Per customer, in the order of the ids given: the variant index into ``weights``
    (``HOLDOUT`` = -1 for the holdout) and whether the customer is in the test group."""

    variant_index: np.ndarray
    in_test: np.ndarray

    @property
    def holdout(self) -> np.ndarray:
        return self.variant_index == HOLDOUT


def splitmix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser (Steele, Lea & Flood 2014) over a uint64 array."""
    z = values.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z += _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX_1
        z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


def unit_streams(customer_ids: np.ndarray, *, seed: int, streams: int = 2) -> list[np.ndarray]:
    """``streams`` independent uniform [0, 1) arrays per customer, fixed by (seed, id).

    The seed is hashed before it meets the id, so two campaigns' seeds do not just relabel
    the same ids; the streams are consecutive outputs of a splitmix64 generator started at
    the hash of (seed, id)."""
    ids = np.asarray(customer_ids, dtype=np.int64).astype(np.uint64)
    seed_hash = splitmix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    state = splitmix64(ids ^ seed_hash)
    out = []
    with np.errstate(over="ignore"):
        for stream in range(1, streams + 1):
            hashed = splitmix64(state + _GOLDEN * np.uint64(stream))
            out.append((hashed >> np.uint64(11)).astype(np.float64) * _TO_UNIT)
    return out


def audience_groups(
    customer_ids: np.ndarray,
    *,
    seed: int,
    holdout_percent: float,
    test_percent: float,
    weights: Sequence[int | float],
) -> AudienceGroups:
    """Place every customer in the holdout or a variant, and in or out of the test group.

    ``weights`` are the variants' relative weights in variant order (zero turns a variant
    off). The holdout is never in the test group."""
    weight_array = np.asarray(list(weights), dtype=np.float64)
    if weight_array.size == 0 or (weight_array < 0).any() or weight_array.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive total")
    if not 0 <= holdout_percent < 100:
        raise ValueError("holdout_percent must be in [0, 100)")
    if test_percent < 0:
        raise ValueError("test_percent must not be negative")

    u_group, u_test = unit_streams(customer_ids, seed=seed, streams=2)
    holdout_share = holdout_percent / 100.0
    in_holdout = u_group < holdout_share

    # Rescale the rest of [holdout_share, 1) to [0, 1) and cut it by the weights.
    rest = (u_group - holdout_share) / (1.0 - holdout_share)
    bounds = np.cumsum(weight_array) / weight_array.sum()
    bounds[-1] = np.inf  # rounding must not leave anyone past the last variant
    variant_index = np.searchsorted(bounds, rest, side="right").astype(np.int64)
    # A zero weight gives an empty interval; side="right" already skips it.
    variant_index[in_holdout] = HOLDOUT

    in_test = np.ones(u_test.shape, dtype=bool) if test_percent >= 100 else u_test < test_percent / 100.0
    in_test &= ~in_holdout
    return AudienceGroups(variant_index=variant_index, in_test=in_test)
