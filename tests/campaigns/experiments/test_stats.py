"""Every statistic against an independent computation: closed forms by hand (stdlib
``statistics.NormalDist`` and ``math``), SciPy's own tests on the raw data (a different
code path from the count-based formulas), numerical integration, and Monte Carlo."""

import math
from statistics import NormalDist

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

from campaigns.experiments import stats
from campaigns.experiments.stats import Moments

NORMAL = NormalDist()


# ── two-proportion z-test ───────────────────────────────────────────────────────────


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(100, 1000, 130, 1000), (48, 2400, 31, 2550), (5, 60, 9, 70)])
def test_proportion_test_matches_the_hand_formulas(x1, n1, x2, n2):
    result = stats.proportion_test(x1, n1, x2, n2)
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    margin = NORMAL.inv_cdf(0.975) * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    assert result.control_rate == pytest.approx(p1)
    assert result.variant_rate == pytest.approx(p2)
    assert result.difference == pytest.approx(p2 - p1)
    assert result.z == pytest.approx(z)
    assert result.p_value == pytest.approx(2 * (1 - NORMAL.cdf(abs(z))), rel=1e-9)
    assert result.ci_low == pytest.approx(p2 - p1 - margin)
    assert result.ci_high == pytest.approx(p2 - p1 + margin)
    assert result.relative_lift == pytest.approx((p2 - p1) / p1)


def test_z_squared_is_pearsons_chi_square_of_the_two_by_two_table():
    x1, n1, x2, n2 = 490, 5000, 560, 5000
    chi2, p, _, _ = sps.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    result = stats.proportion_test(x1, n1, x2, n2)
    assert result.z**2 == pytest.approx(chi2)
    assert result.p_value == pytest.approx(p)
    assert result.significant == bool(p < 0.05)


def test_proportion_test_edge_cases():
    empty = stats.proportion_test(0, 0, 5, 10)
    assert empty.difference is None and empty.p_value is None and not empty.significant
    nothing = stats.proportion_test(0, 100, 0, 100)
    assert nothing.z == 0 and nothing.p_value == 1 and nothing.relative_lift is None
    with pytest.raises(ValueError):
        stats.proportion_test(11, 10, 1, 10)


def test_the_interval_covers_the_true_difference_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    n, p1, p2, runs = 2000, 0.10, 0.12, 2000
    covered = 0
    for x1, x2 in zip(rng.binomial(n, p1, runs), rng.binomial(n, p2, runs), strict=True):
        result = stats.proportion_test(int(x1), n, int(x2), n)
        covered += result.ci_low <= p2 - p1 <= result.ci_high
    assert abs(covered / runs - 0.95) < 4 * math.sqrt(0.95 * 0.05 / runs)


# ── Bayesian chance to beat / be best ───────────────────────────────────────────────


def beat_by_integration(sa, na, sb, nb):
    """∫ f_B(x) F_A(x) dx with SciPy's adaptive quadrature."""
    a, b = sps.beta(1 + sa, 1 + na - sa), sps.beta(1 + sb, 1 + nb - sb)
    low, high = min(a.ppf(1e-12), b.ppf(1e-12)), max(a.ppf(1 - 1e-12), b.ppf(1 - 1e-12))
    value, _ = integrate.quad(lambda x: b.pdf(x) * a.cdf(x), low, high, points=[a.mean(), b.mean()], limit=200)
    return value


@pytest.mark.parametrize(
    ("sa", "na", "sb", "nb"),
    [(100, 1000, 130, 1000), (130, 1000, 100, 1000), (3, 20, 4, 25), (0, 50, 2, 50), (500, 10000, 540, 10000)],
)
def test_chance_to_beat_matches_numerical_integration(sa, na, sb, nb):
    assert stats.chance_to_beat(sa, na, sb, nb) == pytest.approx(beat_by_integration(sa, na, sb, nb), abs=1e-7)


def test_chance_to_beat_matches_monte_carlo_and_is_complementary():
    rng = np.random.default_rng(3)
    draws = 2_000_000
    a = rng.beta(1 + 40, 1 + 400 - 40, draws)
    b = rng.beta(1 + 52, 1 + 410 - 52, draws)
    simulated = (b > a).mean()
    exact = stats.chance_to_beat(40, 400, 52, 410)
    assert exact == pytest.approx(simulated, abs=4 * math.sqrt(simulated * (1 - simulated) / draws))
    assert exact + stats.chance_to_beat(52, 410, 40, 400) == pytest.approx(1.0)
    assert stats.chance_to_beat(10, 100, 10, 100) == pytest.approx(0.5)


def test_chance_to_beat_with_many_successes_stays_in_range():
    assert stats.chance_to_beat(200_000, 1_000_000, 201_500, 1_000_000) == pytest.approx(
        NORMAL.cdf(0.0015 / math.sqrt(2 * 0.2 * 0.8 / 1_000_000)), abs=2e-3
    )
    assert stats.chance_to_beat(10, 1000, 200_000, 1_000_000) == 1.0


def test_chance_to_be_best_beta_two_arms_is_the_exact_chance_to_beat():
    chances = stats.chance_to_be_best_beta([100, 130], [1000, 1000])
    exact = stats.chance_to_beat(100, 1000, 130, 1000)
    assert chances[1] == pytest.approx(exact, abs=1e-6)
    assert sum(chances) == pytest.approx(1.0)


def test_chance_to_be_best_beta_three_arms_matches_monte_carlo():
    successes, trials = [30, 36, 44], [300, 300, 310]
    rng = np.random.default_rng(5)
    draws = 1_000_000
    samples = np.column_stack([rng.beta(1 + s, 1 + n - s, draws) for s, n in zip(successes, trials, strict=True)])
    simulated = np.bincount(samples.argmax(axis=1), minlength=3) / draws
    assert stats.chance_to_be_best_beta(successes, trials) == pytest.approx(list(simulated), abs=0.003)


def test_chance_to_be_best_beta_handles_very_different_sample_sizes():
    chances = stats.chance_to_be_best_beta([10, 20_000], [100, 200_000])  # same rate, n 100 vs 200k
    assert chances[0] == pytest.approx(stats.chance_to_beat(20_000, 200_000, 10, 100), abs=1e-5)


def test_chance_to_be_best_normal_against_closed_form_and_simulation():
    two = stats.chance_to_be_best_normal([1.0, 1.3], [0.1, 0.2])
    assert two[1] == pytest.approx(NORMAL.cdf(0.3 / math.sqrt(0.1**2 + 0.2**2)), abs=1e-6)
    means, errors = [2.0, 2.1, 2.15], [0.05, 0.08, 0.2]
    rng = np.random.default_rng(9)
    samples = np.column_stack([rng.normal(m, s, 1_000_000) for m, s in zip(means, errors, strict=True)])
    simulated = np.bincount(samples.argmax(axis=1), minlength=3) / 1_000_000
    assert stats.chance_to_be_best_normal(means, errors) == pytest.approx(list(simulated), abs=0.003)
    assert stats.chance_to_be_best_normal([1.0, 2.0], [0.0, 0.0]) == [0.0, 1.0]


# ── sample-ratio mismatch ───────────────────────────────────────────────────────────


def test_sample_ratio_check_two_groups_by_hand():
    observed = [10_000, 10_600]
    chi_square = 2 * 300**2 / 10_300
    check = stats.sample_ratio_check(observed, [1, 1])
    assert check.chi_square == pytest.approx(chi_square)
    assert check.p_value == pytest.approx(math.erfc(math.sqrt(chi_square / 2)))  # χ² with 1 df
    assert check.mismatch
    good = stats.sample_ratio_check([10_050, 9_950], [1, 1])
    assert not good.mismatch and good.p_value > 0.4


def test_sample_ratio_check_three_groups_by_hand():
    observed, weights = [950, 4_050, 5_000], [1, 4.5, 4.5]  # holdout 10 %, two variants
    expected = [1000, 4500, 4500]
    chi_square = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
    check = stats.sample_ratio_check(observed, weights)
    assert check.expected == pytest.approx(expected)
    assert check.degrees_of_freedom == 2
    assert check.p_value == pytest.approx(math.exp(-chi_square / 2))  # χ² with 2 df
    assert check.mismatch


def test_sample_ratio_check_rarely_flags_a_good_split():
    rng = np.random.default_rng(17)
    shares = [0.1, 0.45, 0.45]
    flagged = sum(stats.sample_ratio_check(rng.multinomial(20_000, shares), shares).mismatch for _ in range(3000))
    assert flagged <= 12  # expected 3 at the 0.001 threshold


def test_sample_ratio_check_edge_cases():
    assert stats.sample_ratio_check([0, 0], [1, 1]).p_value is None
    zero_weight = stats.sample_ratio_check([100, 3], [1, 0])
    assert zero_weight.mismatch
    assert not stats.sample_ratio_check([100, 0], [1, 0]).mismatch


# ── Welch's t-test from SQL-style aggregates ────────────────────────────────────────


def moments(values: np.ndarray) -> Moments:
    return Moments(len(values), float(values.sum()), float((values**2).sum()))


def revenue_sample(rng, n, rate, mean):
    """Revenue per recipient: zero for most, a gamma-distributed order value for buyers."""
    return np.where(rng.random(n) < rate, rng.gamma(2.0, mean / 2.0, n), 0.0).round(2)


def test_mean_test_matches_scipy_welch_on_the_raw_values():
    rng = np.random.default_rng(21)
    control, variant = revenue_sample(rng, 3000, 0.05, 80), revenue_sample(rng, 2800, 0.06, 85)
    result = stats.mean_test(moments(control), moments(variant))
    reference = sps.ttest_ind(variant, control, equal_var=False)
    low, high = reference.confidence_interval(0.95)
    assert result.t == pytest.approx(reference.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.degrees_of_freedom == pytest.approx(reference.df, rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), rel=1e-9)
    v1, v2 = control.var(ddof=1) / len(control), variant.var(ddof=1) / len(variant)
    df = (v1 + v2) ** 2 / (v1**2 / (len(control) - 1) + v2**2 / (len(variant) - 1))
    assert result.degrees_of_freedom == pytest.approx(df)
    assert result.difference == pytest.approx(variant.mean() - control.mean())
    assert result.relative_lift == pytest.approx(variant.mean() / control.mean() - 1)
    assert result.chance_to_beat == pytest.approx(sps.t.cdf(result.t, df))


def test_mean_test_edge_cases():
    one = stats.mean_test(Moments(1, 5.0, 25.0), Moments(10, 10.0, 30.0))
    assert one.p_value is None and one.difference == pytest.approx(-4.0)
    flat = stats.mean_test(Moments(10, 0.0, 0.0), Moments(10, 0.0, 0.0))
    assert flat.p_value == 1.0 and flat.chance_to_beat == 0.5
    assert Moments(0, 0, 0).mean is None


def test_sample_size_check():
    check = stats.sample_size_check({"A": 120, "B": 80}, minimum=100)
    assert check.smallest == 80 and not check.ready
    assert stats.sample_size_check([100, 150], minimum=100).ready
    assert not stats.sample_size_check([], minimum=1).ready
