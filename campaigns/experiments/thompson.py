"""Thompson-sampling allocation for recurring campaigns (pure NumPy).

Each occurrence of a recurring campaign with ``thompson_sampling`` on goes out with
variant weights equal to each variant's posterior probability of being the best, so the
better variant gets more of the audience as evidence builds up while the others keep
being tried (probability matching; Thompson 1933, Chapelle & Li 2011).
"""

from collections.abc import Sequence

import numpy as np

# Weights are stored as integers; shares become parts per WEIGHT_SCALE.
WEIGHT_SCALE = 1000


def thompson_weights(
    successes: Sequence[int] | np.ndarray,
    trials: Sequence[int] | np.ndarray,
    *,
    draws: int = 20000,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Share of ``draws`` joint posterior draws in which each arm has the highest rate.

    Posteriors are Beta(1 + s, 1 + n − s) (uniform prior). The shares add up to 1."""
    successes = np.asarray(successes, dtype=np.float64)
    trials = np.asarray(trials, dtype=np.float64)
    if successes.shape != trials.shape or successes.ndim != 1 or successes.size == 0:
        raise ValueError("successes and trials must be 1-d arrays of the same, non-zero length")
    if (successes < 0).any() or (successes > trials).any():
        raise ValueError("need 0 <= successes <= trials")
    generator = np.random.default_rng(rng)
    samples = generator.beta(1.0 + successes, 1.0 + trials - successes, size=(draws, successes.size))
    best = np.argmax(samples, axis=1)
    return np.bincount(best, minlength=successes.size) / draws


def weights_from_shares(shares: Sequence[float] | np.ndarray, *, floor: float = 0.05) -> list[int]:
    """Integer variant weights (parts per ``WEIGHT_SCALE``) from allocation shares.

    Every arm keeps at least ``floor`` of the audience, so a variant that looks bad early
    can still recover; the rest is shared in proportion to ``shares``."""
    shares = np.asarray(shares, dtype=np.float64)
    arms = shares.size
    if arms == 0:
        return []
    floor = min(max(floor, 0.0), 1.0 / arms)
    total = shares.sum()
    normalised = shares / total if total > 0 else np.full(arms, 1.0 / arms)
    mixed = floor + (1.0 - floor * arms) * normalised
    weights = np.maximum(np.rint(mixed * WEIGHT_SCALE).astype(int), 1)
    return [int(weight) for weight in weights]
