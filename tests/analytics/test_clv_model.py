"""The lifetime-value models against published figures (CDNOW 1/10 sample) and against
independent computations (plain-Python summaries, numerical integration over the mixing
distributions, simulation).

Published figures used:

* Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
  Pareto/NBD model", Marketing Science 24(2): BG/NBD on the CDNOW 1/10 sample (2,357
  customers, first purchase in 1997 Q1), calibration 1997-01-01 .. 1997-09-30 (39 weeks,
  time unit week): r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4; and (with
  Hardie's companion spreadsheet note) the conditional expectation 1.226 for a customer
  with x = 2, t_x = 30.43, T = 38.86 over the next 39 weeks. Customer 1's summary
  (x = 2, t_x = 30.43, T = 38.86, mean repeat value 22.35) is the first row of the
  published CDNOW summary file.
* Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value": p = 6.25, q = 3.74,
  γ (our v) = 15.44, fitted on the mean repeat-transaction value of the 946 customers who
  made at least one repeat purchase in the same 39-week calibration period (not the full
  78 weeks: fitted on weeks 1–78, the same data gives p ≈ 4.68, q ≈ 4.19, v ≈ 24.39), and
  a correlation of 0.11 between repeat frequency and mean repeat value.
"""

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import gammaln

from analytics.clv import model
from analytics.clv.model import BgNbdParams, GammaGammaParams

CALIBRATION_END = dt.date(1997, 9, 30)
HOLDOUT_END = dt.date(1998, 6, 30)  # weeks 40–78
PUBLISHED_BGNBD = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=-9582.4, customers=2357)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return model.transactions_read(model.CDNOW_SAMPLE, file_format="cdnow")


@pytest.fixture(scope="module")
def calibration(cdnow) -> pd.DataFrame:
    return model.rfm_summary(cdnow, calibration_end=CALIBRATION_END, time_unit="week")


@pytest.fixture(scope="module")
def bgnbd(calibration) -> BgNbdParams:
    return model.bgnbd_fit(calibration["frequency"], calibration["recency"], calibration["age"])


# ── the data ──────────────────────────────────────────────────────────────────────────


def test_cdnow_sample_is_the_published_one(cdnow):
    assert len(cdnow) == 6919
    assert cdnow["customer_id"].nunique() == 2357
    assert cdnow["date"].min() == pd.Timestamp("1997-01-01")
    assert cdnow["date"].max() == pd.Timestamp("1998-06-30")
    first = cdnow.groupby("customer_id")["date"].min()
    assert first.max() < pd.Timestamp("1997-04-01")  # a cohort of first-quarter buyers


def test_rfm_summary_matches_plain_python(cdnow, calibration):
    days: dict[int, dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
    for customer, when, amount in cdnow.itertuples(index=False):
        if when.date() <= CALIBRATION_END:
            days[customer][when.date()] += amount
    assert len(calibration) == len(days)
    for customer, spend in days.items():
        ordered = sorted(spend)
        row = calibration.loc[customer]
        assert row["frequency"] == len(ordered) - 1
        assert row["recency"] == pytest.approx((ordered[-1] - ordered[0]).days / 7)
        assert row["age"] == pytest.approx((CALIBRATION_END - ordered[0]).days / 7)
        if len(ordered) > 1:
            assert row["monetary"] == pytest.approx(sum(spend[day] for day in ordered[1:]) / (len(ordered) - 1))
        else:
            assert np.isnan(row["monetary"])


def test_customer_one_matches_the_published_summary(calibration):
    row = calibration.loc[1]
    assert row["frequency"] == 2
    assert row["recency"] == pytest.approx(30.43, abs=0.005)
    assert row["age"] == pytest.approx(38.86, abs=0.005)
    assert row["monetary"] == pytest.approx(22.345)  # (29.73 + 14.96) / 2, published rounded: 22.35


def test_orders_on_the_same_day_are_one_transaction():
    transactions = pd.DataFrame(
        {
            "customer_id": [7, 7, 7, 7, 8],
            "date": ["2024-01-01 09:00", "2024-01-01 18:30", "2024-01-08", "2024-01-15", "2024-01-10"],
            "amount": [10.0, 5.0, 20.0, 30.0, 99.0],
        }
    )
    summary = model.rfm_summary(transactions, calibration_end=dt.date(2024, 1, 15), time_unit="day")
    assert summary.loc[7].to_dict() == {"frequency": 2, "recency": 14.0, "age": 14.0, "monetary": 25.0}
    assert summary.loc[8, "frequency"] == 0 and summary.loc[8, "age"] == 5.0
    weeks = model.rfm_summary(transactions, calibration_end=dt.date(2024, 1, 15), time_unit="week")
    assert weeks.loc[7, "recency"] == 2.0
    months = model.rfm_summary(transactions, calibration_end=dt.date(2024, 1, 15), time_unit="month")
    assert months.loc[7, "recency"] == pytest.approx(14 / 30.4375)
    later = model.repeat_purchases_between(transactions, start_after=dt.date(2024, 1, 1), end=dt.date(2024, 1, 10))
    assert later.to_dict() == {7: 1, 8: 1}


# ── BG/NBD ────────────────────────────────────────────────────────────────────────────


def test_bgnbd_reproduces_fader_hardie_lee_2005(bgnbd):
    assert bgnbd.customers == 2357
    assert bgnbd.r == pytest.approx(PUBLISHED_BGNBD.r, abs=0.002)
    assert bgnbd.alpha == pytest.approx(PUBLISHED_BGNBD.alpha, abs=0.002)
    assert bgnbd.a == pytest.approx(PUBLISHED_BGNBD.a, abs=0.002)
    assert bgnbd.b == pytest.approx(PUBLISHED_BGNBD.b, abs=0.002)
    assert bgnbd.log_likelihood == pytest.approx(PUBLISHED_BGNBD.log_likelihood, abs=0.1)


def test_time_unit_only_rescales_alpha(cdnow, calibration, bgnbd):
    days = model.rfm_summary(cdnow, calibration_end=CALIBRATION_END, time_unit="day")
    in_days = model.bgnbd_fit(days["frequency"], days["recency"], days["age"])
    assert in_days.alpha == pytest.approx(7 * bgnbd.alpha, rel=1e-5)
    for name in ("r", "a", "b"):
        assert getattr(in_days, name) == pytest.approx(getattr(bgnbd, name), rel=1e-5)
    weekly = model.bgnbd_expected_purchases(
        bgnbd, 39, *(calibration[c].to_numpy() for c in ("frequency", "recency", "age"))
    )
    daily = model.bgnbd_expected_purchases(in_days, 273, *(days[c].to_numpy() for c in ("frequency", "recency", "age")))
    assert daily == pytest.approx(weekly, rel=1e-5)


def test_conditional_expectation_matches_the_published_example():
    expected = model.bgnbd_expected_purchases(PUBLISHED_BGNBD, 39, np.array([2]), np.array([30.43]), np.array([38.86]))
    assert expected[0] == pytest.approx(1.226, abs=0.001)


def _gamma_beta_integral(params: BgNbdParams, integrand) -> float:
    """∫∫ integrand(λ, p) g(λ | r, α) f(p | a, b) dλ dp, with λ = u^(1/r) and p = w^(1/a) so
    that the densities' poles at 0 (r < 1, a < 1) disappear."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_norm = r * np.log(alpha) - gammaln(r) - np.log(r) - (gammaln(a) + gammaln(b) - gammaln(a + b)) - np.log(a)

    def inner(u: float, w: float) -> float:
        lam, p = u ** (1 / r), w ** (1 / a)
        return np.exp(log_norm - alpha * lam + (b - 1) * np.log1p(-p)) * integrand(lam, p)

    u_max = (60.0 / alpha) ** r
    value, _ = integrate.dblquad(inner, 0, 1, 0, u_max, epsabs=1e-13, epsrel=1e-10)
    return value


def _alive_term(x, T):
    return lambda lam, p: (1 - p) ** x * lam**x * np.exp(-lam * T)


def _likelihood(x, t_x, T):
    def value(lam, p):
        dropped = p * (1 - p) ** (x - 1) * lam**x * np.exp(-lam * t_x) if x > 0 else 0.0
        return _alive_term(x, T)(lam, p) + dropped

    return value


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 38.86), (2, 30.43, 38.86), (5, 10.0, 35.0)])
def test_likelihood_alive_and_expectation_match_numerical_integration(x, t_x, T):
    params = PUBLISHED_BGNBD
    history = (np.array([x]), np.array([t_x]), np.array([T]))
    marginal = _gamma_beta_integral(params, _likelihood(x, t_x, T))
    alive = _gamma_beta_integral(params, _alive_term(x, T))
    t = 39.0
    future = _gamma_beta_integral(params, lambda lam, p: _alive_term(x, T)(lam, p) * -np.expm1(-lam * p * t) / p)
    ll = model.bgnbd_log_likelihood(params.r, params.alpha, params.a, params.b, *history)
    assert ll[0] == pytest.approx(np.log(marginal), abs=1e-6)
    assert model.bgnbd_probability_alive(params, *history)[0] == pytest.approx(alive / marginal, rel=1e-6)
    assert model.bgnbd_expected_purchases(params, t, *history)[0] == pytest.approx(future / marginal, rel=1e-6)


def test_gradients_match_finite_differences(calibration):
    from scipy.optimize import approx_fprime

    history = (calibration["frequency"].to_numpy(), calibration["recency"].to_numpy(), calibration["age"].to_numpy())
    point = np.array([0.3, 5.0, 0.9, 2.0])
    numeric = approx_fprime(point, lambda theta: model.bgnbd_log_likelihood(*theta, *history).sum(), 1e-7)
    analytic = model.bgnbd_log_likelihood_gradient(*point, *history).sum(axis=1)
    assert analytic == pytest.approx(numeric, rel=1e-4)

    repeat = calibration[calibration["frequency"] > 0]
    spend = (repeat["frequency"].to_numpy(), repeat["monetary"].to_numpy())
    point = np.array([5.0, 3.0, 20.0])
    numeric = approx_fprime(point, lambda theta: model.gamma_gamma_log_likelihood(*theta, *spend).sum(), 1e-7)
    analytic = model.gamma_gamma_log_likelihood_gradient(*point, *spend).sum(axis=1)
    assert analytic == pytest.approx(numeric, rel=1e-4)


def test_bgnbd_recovers_simulated_parameters():
    """Customers simulated from the model (exponential inter-purchase times, dropout with
    probability p after each repeat purchase) give back the parameters they came from."""
    rng = np.random.default_rng(11)
    n, truth = 20_000, {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
    lam = rng.gamma(truth["r"], 1 / truth["alpha"], n)
    p = rng.beta(truth["a"], truth["b"], n)
    T = rng.uniform(20, 60, n)
    now, x, t_x = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        now = now + rng.exponential(1 / lam)
        active &= now <= T
        x[active] += 1
        t_x[active] = now[active]
        active &= rng.random(n) >= p
    fitted = model.bgnbd_fit(x, t_x, T)
    # With 20,000 customers the estimates land within about 5 % of the truth (seed 11: r 0.501,
    # α 6.09, a 0.794, b 2.38); 10 % leaves room for other NumPy versions' random streams.
    for name, value in truth.items():
        assert getattr(fitted, name) == pytest.approx(value, rel=0.1), name


def test_fit_needs_repeat_purchases():
    with pytest.raises(model.ClvError):
        model.bgnbd_fit(np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(model.ClvError):
        model.gamma_gamma_fit(np.zeros(3), np.full(3, np.nan))


# ── Gamma-Gamma ───────────────────────────────────────────────────────────────────────


def test_gamma_gamma_reproduces_fader_hardie_2013(calibration):
    fitted = model.gamma_gamma_fit(calibration["frequency"], calibration["monetary"])
    assert fitted.customers == 946
    assert fitted.p == pytest.approx(6.25, abs=0.005)
    assert fitted.q == pytest.approx(3.74, abs=0.005)
    assert fitted.v == pytest.approx(15.44, abs=0.005)
    repeat = calibration[calibration["frequency"] > 0]
    assert np.corrcoef(repeat["frequency"], repeat["monetary"])[0, 1] == pytest.approx(0.11, abs=0.005)


@pytest.mark.parametrize(("x", "m"), [(1, 11.77), (2, 22.35), (6, 48.0)])
def test_gamma_gamma_matches_numerical_integration(x, m):
    params = GammaGammaParams(p=6.25, q=3.74, v=15.44, log_likelihood=0.0, customers=0)
    p, q, v = params.p, params.q, params.v

    def log_density(nu):  # the mean of x Gamma(p, ν) values is Gamma(px, xν), ν ~ Gamma(q, v)
        shape, rate = p * x, x * nu
        own = shape * np.log(rate) + (shape - 1) * np.log(m) - rate * m - gammaln(shape)
        prior = q * np.log(v) + (q - 1) * np.log(nu) - v * nu - gammaln(q)
        return own + prior

    marginal, _ = integrate.quad(lambda nu: np.exp(log_density(nu)), 0, np.inf, epsabs=0, epsrel=1e-11)
    mean, _ = integrate.quad(lambda nu: p / nu * np.exp(log_density(nu)), 0, np.inf, epsabs=0, epsrel=1e-11)
    ll = model.gamma_gamma_log_likelihood(p, q, v, np.array([x]), np.array([m]))
    assert ll[0] == pytest.approx(np.log(marginal), abs=1e-8)
    expected = model.gamma_gamma_expected_value(params, np.array([x, 0]), np.array([m, np.nan]))
    assert expected[0] == pytest.approx(mean / marginal, rel=1e-8)
    assert expected[1] == pytest.approx(p * v / (q - 1))  # no repeat purchase: the population mean


# ── holdout ───────────────────────────────────────────────────────────────────────────


def test_holdout_on_cdnow_weeks_40_to_78(cdnow, calibration, bgnbd):
    """Per customer, the expected repeat purchases in weeks 40–78 against the actual ones
    (counted here in plain Python). Our figures: 1,653 predicted vs 1,882 actual repeat
    transactions (−12 %), the model predicting less than happened for every calibration
    frequency, most for customers with 1–2 calibration repeat purchases. The cumulative
    repeat transactions of weeks 1–78 — the curve Fader, Hardie & Lee show the model
    tracking — come out at 4,161 expected vs 4,339 actual (−4 %)."""
    actual_by_customer: dict[int, set] = defaultdict(set)
    for customer, when, _amount in cdnow.itertuples(index=False):
        if CALIBRATION_END < when.date() <= HOLDOUT_END:
            actual_by_customer[customer].add(when.date())
    actual_total = sum(len(days) for days in actual_by_customer.values())
    assert actual_total == 1882

    actual = model.repeat_purchases_between(cdnow, start_after=CALIBRATION_END, end=HOLDOUT_END)
    holdout = model.holdout_compare(bgnbd, calibration, actual, 39.0)
    assert holdout.actual_total == actual_total
    assert holdout.customers == 2357
    # The conditional expectation under-forecasts CDNOW's second 39 weeks by about 12 %:
    # within 15 %, and on the low side.
    assert holdout.predicted_total == pytest.approx(actual_total, rel=0.15)
    assert holdout.predicted_total < actual_total
    assert holdout.mean_absolute_error == pytest.approx(
        np.mean([abs(row.predicted - row.actual) for row in holdout.per_customer.itertuples()])
    )
    assert [bucket.frequency for bucket in holdout.by_frequency] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    predicted_means = [bucket.predicted_mean for bucket in holdout.by_frequency]
    assert predicted_means == sorted(predicted_means)  # more past purchases, more future ones
    assert sum(bucket.customers for bucket in holdout.by_frequency) == 2357

    # Cumulative repeat transactions from each customer's first purchase to the end of
    # week 78 (FHL 2005, equation 7 per customer): within 5 % of the actual total.
    first = cdnow.groupby("customer_id")["date"].min()
    ages = (pd.Timestamp(HOLDOUT_END) - first).dt.days.to_numpy() / 7
    expected_cumulative = model.bgnbd_expected_purchases_new(bgnbd, ages).sum()
    actual_cumulative = int(calibration["frequency"].sum()) + actual_total
    assert actual_cumulative == 4339
    assert expected_cumulative == pytest.approx(actual_cumulative, rel=0.05)


# ── CLV ───────────────────────────────────────────────────────────────────────────────


def test_clv_without_discount_is_value_times_expected_purchases():
    history = (np.array([0, 2, 7]), np.array([0.0, 30.43, 36.0]), np.array([38.86, 38.86, 38.0]))
    value = np.array([35.0, 22.0, 50.0])
    clv = model.clv_discounted(
        PUBLISHED_BGNBD, value, *history, horizon_days=364, time_unit="week", annual_discount=0.0, margin=0.3
    )
    expected = model.bgnbd_expected_purchases(PUBLISHED_BGNBD, 52, *history)
    assert clv == pytest.approx(0.3 * value * expected, rel=1e-10)


def test_clv_discounting_matches_a_daily_sum():
    """Monthly discounting against a day-by-day sum of discounted expected purchases: the
    monthly steps discount each purchase at its month's end, so they give slightly less,
    within half a per cent at 10 % a year."""
    history = (np.array([0, 2, 7]), np.array([0.0, 30.43, 36.0]), np.array([38.86, 38.86, 38.0]))
    value = np.array([35.0, 22.0, 50.0])
    clv = model.clv_discounted(PUBLISHED_BGNBD, value, *history, horizon_days=364, annual_discount=0.10)
    daily = np.zeros(3)
    previous = np.zeros(3)
    for day in range(1, 365):
        cumulative = model.bgnbd_expected_purchases(PUBLISHED_BGNBD, day / 7, *history)
        daily += (cumulative - previous) / 1.10 ** ((day - 0.5) / 365.25)
        previous = cumulative
    daily *= value
    assert np.all(clv <= daily)
    assert clv == pytest.approx(daily, rel=0.005)
