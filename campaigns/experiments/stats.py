"""The statistics of campaign experiments, as plain functions over counts (NumPy / SciPy,
no Django), so the same code serves the winner decision, the campaign page and the report.

* ``proportion_test``: two-proportion z-test of a rate (open, click, conversion). The
  z statistic and p-value use the pooled standard error (the null hypothesis says the
  rates are equal); the confidence interval of the difference uses the unpooled one.
* ``chance_to_beat``: Bayesian probability that the variant's true rate is above the
  control's, with uniform Beta(1, 1) priors, Beta-Binomial posteriors and the exact
  closed form (Evan Miller, "Formulas for Bayesian A/B testing", 2015).
* ``chance_to_be_best_beta`` / ``chance_to_be_best_normal``: probability that each of
  several arms is the best, by numerical integration of f_k(x) · Π_{j≠k} F_j(x).
* ``sample_ratio_check``: chi-square goodness of fit of the group sizes against the
  planned shares (sample-ratio mismatch), flagged below p = 0.001.
* ``mean_test``: Welch's t-test of revenue per recipient from count, sum and sum of
  squares (``Moments``), so SQL aggregates feed it directly.
* ``sample_size_check``: has every variant reached the minimum sample?

Undefined values (a rate of nobody, a test with an empty group) are ``None`` rather than
NaN, so results serialise to JSON as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps
from scipy.special import betaln

CONFIDENCE = 0.95
SRM_THRESHOLD = 0.001
GRID_POINTS = 2001  # per arm, for the chance-to-be-best integrals
TAIL = 1e-10  # posterior mass left outside each arm's integration range


@dataclass(frozen=True)
class ProportionTest:
    """Variant against control on one rate. ``difference`` and the interval are in rate
    units (0.021 = 2.1 points); ``relative_lift`` is difference / control rate."""

    control_successes: int
    control_trials: int
    variant_successes: int
    variant_trials: int
    control_rate: float | None
    variant_rate: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    relative_lift: float | None
    z: float | None
    p_value: float | None
    confidence: float = CONFIDENCE

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 1 - self.confidence


@dataclass(frozen=True)
class Moments:
    """A per-recipient value (revenue) summarised as SQL can: count, sum, sum of squares.
    Recipients without a value count with 0."""

    count: int
    total: float
    total_squares: float

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    @property
    def variance(self) -> float | None:
        """Sample variance (n − 1 denominator); None below two values."""
        if self.count < 2:
            return None
        centred = self.total_squares - self.total * self.total / self.count
        return max(centred, 0.0) / (self.count - 1)


@dataclass(frozen=True)
class MeanTest:
    """Welch's t-test of variant against control on a mean (revenue per recipient)."""

    control_count: int
    variant_count: int
    control_mean: float | None
    variant_mean: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    relative_lift: float | None
    standard_error: float | None
    t: float | None
    degrees_of_freedom: float | None
    p_value: float | None
    confidence: float = CONFIDENCE

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 1 - self.confidence

    @property
    def chance_to_beat(self) -> float | None:
        """Approximate probability that the variant's true mean is higher: the
        t distribution of the difference read as a posterior (flat prior)."""
        if self.difference is None or self.standard_error is None:
            return None
        if self.standard_error == 0:
            return 0.5 if self.difference == 0 else float(self.difference > 0)
        return float(sps.t.cdf(self.difference / self.standard_error, self.degrees_of_freedom))


@dataclass(frozen=True)
class SampleRatioCheck:
    """Observed group sizes against the plan. ``mismatch`` is True when the split is
    unlikely to come from the planned shares (p below ``threshold``)."""

    observed: tuple[int, ...]
    expected: tuple[float, ...]
    chi_square: float | None
    degrees_of_freedom: int
    p_value: float | None
    threshold: float = SRM_THRESHOLD

    @property
    def mismatch(self) -> bool:
        return self.p_value is not None and self.p_value < self.threshold


@dataclass(frozen=True)
class SampleSizeCheck:
    """Whether every variant has at least ``minimum`` recipients."""

    minimum: int
    counts: tuple[int, ...]

    @property
    def smallest(self) -> int:
        return min(self.counts) if self.counts else 0

    @property
    def ready(self) -> bool:
        return bool(self.counts) and self.smallest >= self.minimum


def _z_critical(confidence: float) -> float:
    return float(sps.norm.ppf(0.5 + confidence / 2))


def proportion_test(
    control_successes: int,
    control_trials: int,
    variant_successes: int,
    variant_trials: int,
    *,
    confidence: float = CONFIDENCE,
) -> ProportionTest:
    """Two-proportion z-test, variant minus control (two-sided)."""
    x1, n1, x2, n2 = int(control_successes), int(control_trials), int(variant_successes), int(variant_trials)
    for x, n in ((x1, n1), (x2, n2)):
        if n < 0 or not 0 <= x <= max(n, 0):
            raise ValueError("need 0 <= successes <= trials")
    counts = {"control_successes": x1, "control_trials": n1, "variant_successes": x2, "variant_trials": n2}
    p1 = x1 / n1 if n1 else None
    p2 = x2 / n2 if n2 else None
    if p1 is None or p2 is None:
        return ProportionTest(
            **counts, control_rate=p1, variant_rate=p2, difference=None, ci_low=None, ci_high=None,
            relative_lift=None, z=None, p_value=None, confidence=confidence,
        )  # fmt: skip
    difference = p2 - p1
    pooled = (x1 + x2) / (n1 + n2)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if pooled_se > 0:
        z = difference / pooled_se
        p_value = float(2 * sps.norm.sf(abs(z)))
    else:  # both rates 0 or both 1: no evidence of a difference
        z, p_value = 0.0, 1.0
    margin = _z_critical(confidence) * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return ProportionTest(
        **counts, control_rate=p1, variant_rate=p2, difference=difference,
        ci_low=difference - margin, ci_high=difference + margin,
        relative_lift=difference / p1 if p1 > 0 else None, z=z, p_value=p_value, confidence=confidence,
    )  # fmt: skip


def chance_to_beat(control_successes: int, control_trials: int, variant_successes: int, variant_trials: int) -> float:
    """P(p_variant > p_control) under Beta(1 + s, 1 + n − s) posteriors, exactly:

    P(p_B > p_A) = Σ_{i=0}^{α_B−1} B(α_A + i, β_A + β_B) / ((β_B + i) · B(1 + i, β_B) · B(α_A, β_A))

    The sum runs over the arm with fewer successes (using P(B > A) = 1 − P(A > B))."""
    alpha_a, beta_a = 1 + control_successes, 1 + control_trials - control_successes
    alpha_b, beta_b = 1 + variant_successes, 1 + variant_trials - variant_successes
    if min(alpha_a, beta_a, alpha_b, beta_b) < 1:
        raise ValueError("need 0 <= successes <= trials")
    if alpha_b <= alpha_a:
        return _b_beats_a(alpha_a, beta_a, alpha_b, beta_b)
    return 1.0 - _b_beats_a(alpha_b, beta_b, alpha_a, beta_a)


def _b_beats_a(alpha_a: int, beta_a: int, alpha_b: int, beta_b: int) -> float:
    i = np.arange(alpha_b, dtype=np.float64)
    log_terms = (
        betaln(alpha_a + i, beta_a + beta_b) - np.log(beta_b + i) - betaln(1 + i, beta_b) - betaln(alpha_a, beta_a)
    )
    top = log_terms.max()
    return float(min(max(math.exp(top) * np.exp(log_terms - top).sum(), 0.0), 1.0))


def _chance_best(
    ranges: list[tuple[float, float]],
    pdf: Callable[[int, np.ndarray], np.ndarray],
    cdf: Callable[[int, np.ndarray], np.ndarray],
) -> list[float]:
    """P(arm k is best) = ∫ pdf_k(x) Π_{j≠k} cdf_j(x) dx, by the trapezoid rule on the
    union of per-arm grids (each arm's grid spans its own posterior, however narrow)."""
    grid = np.unique(np.concatenate([np.linspace(low, high, GRID_POINTS) for low, high in ranges]))
    densities = np.array([pdf(k, grid) for k in range(len(ranges))])
    cumulative = np.array([cdf(k, grid) for k in range(len(ranges))])
    chances = []
    for k in range(len(ranges)):
        others = np.prod(np.delete(cumulative, k, axis=0), axis=0)
        chances.append(float(np.trapezoid(densities[k] * others, grid)))
    total = sum(chances)
    return [chance / total for chance in chances] if total > 0 else [1.0 / len(ranges)] * len(ranges)


def chance_to_be_best_beta(successes: Sequence[int], trials: Sequence[int]) -> list[float]:
    """Probability that each arm has the highest true rate (Beta(1 + s, 1 + n − s)
    posteriors), by numerical integration; the chances add up to 1."""
    if len(successes) != len(trials) or not len(successes):
        raise ValueError("successes and trials must have the same, non-zero length")
    if len(successes) == 1:
        return [1.0]
    posteriors = [sps.beta(1 + s, 1 + n - s) for s, n in zip(successes, trials, strict=True)]
    ranges = [(float(p.ppf(TAIL)), float(p.ppf(1 - TAIL))) for p in posteriors]
    return _chance_best(ranges, lambda k, x: posteriors[k].pdf(x), lambda k, x: posteriors[k].cdf(x))


def chance_to_be_best_normal(means: Sequence[float], standard_errors: Sequence[float]) -> list[float]:
    """Probability that each arm has the highest true mean, reading each arm's mean as
    Normal(mean, standard error²) (large-sample posterior under a flat prior)."""
    if len(means) != len(standard_errors) or not len(means):
        raise ValueError("means and standard_errors must have the same, non-zero length")
    if len(means) == 1:
        return [1.0]
    if any(se <= 0 for se in standard_errors):
        # Degenerate (no spread): the highest observed mean is best, ties share.
        top = max(means)
        winners = [mean == top for mean in means]
        return [float(w) / sum(winners) for w in winners]
    posteriors = [sps.norm(mean, se) for mean, se in zip(means, standard_errors, strict=True)]
    ranges = [(float(p.ppf(TAIL)), float(p.ppf(1 - TAIL))) for p in posteriors]
    return _chance_best(ranges, lambda k, x: posteriors[k].pdf(x), lambda k, x: posteriors[k].cdf(x))


def sample_ratio_check(
    observed: Sequence[int], weights: Sequence[float], *, threshold: float = SRM_THRESHOLD
) -> SampleRatioCheck:
    """Chi-square goodness of fit of the observed group sizes to the planned weights.

    Groups with zero weight are expected to be empty: any member there is a mismatch."""
    observed_array = np.asarray(observed, dtype=np.float64)
    weight_array = np.asarray(weights, dtype=np.float64)
    if observed_array.shape != weight_array.shape or observed_array.ndim != 1:
        raise ValueError("observed and weights must be 1-d of the same length")
    total = observed_array.sum()
    weight_total = weight_array.sum()
    expected = weight_array / weight_total * total if weight_total > 0 else np.zeros_like(weight_array)
    planned = weight_array > 0
    degrees = max(int(planned.sum()) - 1, 0)
    base = {
        "observed": tuple(int(o) for o in observed_array),
        "expected": tuple(float(e) for e in expected),
        "degrees_of_freedom": degrees,
        "threshold": threshold,
    }
    if total == 0 or not planned.any():
        return SampleRatioCheck(**base, chi_square=None, p_value=None)
    if (observed_array[~planned] > 0).any():
        return SampleRatioCheck(**base, chi_square=math.inf, p_value=0.0)
    if degrees == 0:
        return SampleRatioCheck(**base, chi_square=0.0, p_value=1.0)
    chi_square = float((((observed_array - expected) ** 2)[planned] / expected[planned]).sum())
    return SampleRatioCheck(**base, chi_square=chi_square, p_value=float(sps.chi2.sf(chi_square, degrees)))


def mean_test(control: Moments, variant: Moments, *, confidence: float = CONFIDENCE) -> MeanTest:
    """Welch's unequal-variance t-test of variant minus control, with its confidence
    interval and the Welch–Satterthwaite degrees of freedom."""
    m1, m2 = control.mean, variant.mean
    v1, v2 = control.variance, variant.variance
    result = {
        "control_count": control.count,
        "variant_count": variant.count,
        "control_mean": m1,
        "variant_mean": m2,
        "difference": None,
        "ci_low": None,
        "ci_high": None,
        "relative_lift": None,
        "standard_error": None,
        "t": None,
        "degrees_of_freedom": None,
        "p_value": None,
        "confidence": confidence,
    }
    if m1 is None or m2 is None:
        return MeanTest(**result)
    difference = m2 - m1
    result.update(difference=difference, relative_lift=difference / m1 if m1 > 0 else None)
    if v1 is None or v2 is None:
        return MeanTest(**result)
    a, b = v1 / control.count, v2 / variant.count
    se = math.sqrt(a + b)
    if se == 0:  # no spread in either group: the means are what they are
        result.update(ci_low=difference, ci_high=difference, standard_error=0.0, p_value=float(difference == 0))
        return MeanTest(**result)
    df = (a + b) ** 2 / (a * a / (control.count - 1) + b * b / (variant.count - 1))
    t = difference / se
    margin = float(sps.t.ppf(0.5 + confidence / 2, df)) * se
    result.update(
        ci_low=difference - margin,
        ci_high=difference + margin,
        standard_error=se,
        t=t,
        degrees_of_freedom=df,
        p_value=float(2 * sps.t.sf(abs(t), df)),
    )
    return MeanTest(**result)


def sample_size_check(counts: Sequence[int] | Mapping[str, int], *, minimum: int) -> SampleSizeCheck:
    """Every variant's recipients against the minimum sample per variant."""
    values = counts.values() if isinstance(counts, Mapping) else counts
    return SampleSizeCheck(minimum=int(minimum), counts=tuple(int(c) for c in values))
