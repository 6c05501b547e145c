"""Customer lifetime value as plain computation over pandas / NumPy (no Django): the BG/NBD
model of repeat purchasing and dropout, the Gamma-Gamma model of spend per transaction, and
the discounted value of a customer's expected future purchases.

The steps, each a function below:

1. ``rfm_summary`` turns transactions (customer, date, amount) into one row per customer:
   ``frequency`` x (repeat transactions: transaction days after the first), ``recency`` t_x
   (first to last transaction day) and ``age`` T (first transaction day to the end of the
   calibration period), both in the chosen time unit, and ``monetary`` (mean value of the
   repeat transactions). Orders on the same day count as one transaction: the models
   describe shopping trips, and a basket split into several orders is one trip.
2. ``bgnbd_fit`` estimates the BG/NBD parameters (r, α, a, b) by maximum likelihood
   (Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing Science
   24(2)); ``bgnbd_probability_alive`` and ``bgnbd_expected_purchases`` give each
   customer's P(alive) and expected purchases in the next t units.
3. ``gamma_gamma_fit`` estimates (p, q, v) of the Gamma-Gamma spend model by maximum
   likelihood on customers with at least one repeat transaction (Fader & Hardie 2013,
   "The Gamma-Gamma Model of Monetary Value"); ``gamma_gamma_expected_value`` gives each
   customer's expected value per transaction.
4. ``clv_discounted`` adds up expected spend over a horizon, discounted (see its docstring).
5. ``holdout_compare`` sets predicted against actual repeat purchases in a later period.

Time is measured in days and divided by the unit's length: ``day`` 1, ``week`` 7,
``month`` 365.25 / 12 = 30.4375 days. The calibration end is the last day observed; a
customer's age T is the number of days from the first transaction day to it (so a
customer who first bought on 1997-01-01 is 38.86 weeks old at 1997-09-30, as in the
published CDNOW summaries).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

TimeUnit = Literal["day", "week", "month"]
TIME_UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
DAYS_PER_YEAR = 365.25

DEFAULT_HORIZON_DAYS = 364  # 52 weeks
DEFAULT_ANNUAL_DISCOUNT = 0.10
DEFAULT_MARGIN = 1.0  # share of spend that is profit; 1.0 = CLV in revenue
DISCOUNT_STEP_DAYS = 365.25 / 12  # spend is discounted month by month

# Calibration-frequency buckets of the holdout comparison (FHL 2005, figure 4: 0..6, 7+).
HOLDOUT_BUCKETS = 7

SUMMARY_COLUMNS = ["frequency", "recency", "age", "monetary"]


class ClvError(ValueError):
    """The data cannot be fitted (no customers, no repeat buyers) or the fit is unusable."""


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD: purchase rates λ ~ Gamma(r, α) (α in the fit's time unit), dropout
    probability after each purchase p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma: a transaction's value z ~ Gamma(p, ν), ν ~ Gamma(q, v) across
    customers; the population mean value per transaction is p·v / (q − 1)."""

    p: float
    q: float
    v: float
    log_likelihood: float
    customers: int

    @property
    def mean_value(self) -> float:
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("inf")


@dataclass(frozen=True)
class HoldoutBucket:
    frequency: str  # calibration repeat transactions: "0" .. "6", "7+"
    customers: int
    predicted_mean: float
    actual_mean: float


@dataclass(frozen=True)
class HoldoutComparison:
    """Predicted vs actual repeat purchases per customer in the holdout period."""

    length: float  # in the fit's time unit
    customers: int
    predicted_total: float
    actual_total: int
    mean_absolute_error: float
    by_frequency: list[HoldoutBucket]
    per_customer: pd.DataFrame  # index customer_id; columns frequency, predicted, actual

    @property
    def relative_error_total(self) -> float:
        return (self.predicted_total - self.actual_total) / self.actual_total if self.actual_total else float("nan")


# ── data ────────────────────────────────────────────────────────────────────────────────


def transactions_by_day(transactions: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and day (amounts added up), sorted by customer and day.
    ``transactions`` has columns customer_id, date (anything ``pd.to_datetime`` reads;
    times of day are dropped) and amount."""
    dates = transactions["date"]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, format="mixed")
    frame = pd.DataFrame(
        {
            "customer_id": transactions["customer_id"].to_numpy(),
            "date": dates.dt.normalize().to_numpy(),
            "amount": pd.to_numeric(transactions["amount"]).astype(np.float64).to_numpy(),
        }
    )
    daily = frame.groupby(["customer_id", "date"], sort=True, as_index=False)["amount"].sum()
    return daily


# Bruce Hardie's CDNOW 1/10 sample (see datasets/README.md): the published reproduction.
CDNOW_SAMPLE = Path(__file__).resolve().parent / "datasets" / "CDNOW_sample.txt"
CDNOW_COLUMNS = ["master_id", "customer_id", "date", "cds", "amount"]


def transactions_read(path: str | Path, *, file_format: Literal["csv", "cdnow"] = "csv") -> pd.DataFrame:
    """Transactions from a file, for fitting data that is not the shop's orders.

    ``csv``: a header row with (at least) customer_id, date (YYYY-MM-DD, or any date
    ``pd.to_datetime`` reads) and amount. ``cdnow``: the whitespace-separated layout of
    Hardie's CDNOW files (master id, sample id, YYYYMMDD, number of CDs, dollar amount),
    the sample id being the customer."""
    if file_format == "cdnow":
        raw = pd.read_csv(path, sep=r"\s+", header=None, names=CDNOW_COLUMNS, dtype={"date": str})
        dates = pd.to_datetime(raw["date"], format="%Y%m%d", errors="coerce")
    elif file_format == "csv":
        raw = pd.read_csv(path, dtype={"customer_id": str, "date": str})
        missing = [column for column in ("customer_id", "date", "amount") if column not in raw.columns]
        if missing:
            raise ClvError(f"{path}: the header lacks the column(s) {', '.join(missing)}")
        try:
            dates = pd.to_datetime(raw["date"], format="ISO8601")  # fast path for YYYY-MM-DD[ hh:mm…]
        except (ValueError, TypeError):
            dates = pd.to_datetime(raw["date"], errors="coerce", format="mixed")
        if getattr(dates.dtype, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)  # the day as written in the file
    else:
        raise ClvError(f"unknown transactions format {file_format!r}")
    amounts = pd.to_numeric(raw["amount"], errors="coerce")
    bad = dates.isna() | amounts.isna() | raw["customer_id"].isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ClvError(f"{path}: row {row + 1} of the data has no valid customer_id, date or amount")
    return pd.DataFrame({"customer_id": raw["customer_id"].to_numpy(), "date": dates, "amount": amounts})


def rfm_summary(transactions: pd.DataFrame, *, calibration_end: dt.date, time_unit: TimeUnit) -> pd.DataFrame:
    """Frequency, recency, age and mean repeat value per customer who bought on or before
    ``calibration_end`` (later transactions are ignored), indexed by customer_id. Monetary
    is NaN for customers without repeat transactions."""
    unit = TIME_UNIT_DAYS[time_unit]
    daily = transactions_by_day(transactions)
    end = pd.Timestamp(calibration_end)
    daily = daily[daily["date"] <= end]
    grouped = daily.groupby("customer_id", sort=True)
    first = grouped["date"].min()
    last = grouped["date"].max()
    days = grouped.size()
    total = grouped["amount"].sum()
    first_amount = grouped["amount"].first()  # rows are sorted by day: the first day's amount
    frequency = (days - 1).astype(np.int64)
    repeat_value = (total - first_amount) / frequency.where(frequency > 0)
    summary = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first).dt.days.astype(np.float64) / unit,
            "age": (end - first).dt.days.astype(np.float64) / unit,
            "monetary": repeat_value.astype(np.float64),
        }
    )
    summary.index.name = "customer_id"
    return summary


def repeat_purchases_between(transactions: pd.DataFrame, *, start_after: dt.date, end: dt.date) -> pd.Series:
    """Transaction days per customer in (start_after, end]: the actual purchases a holdout
    check compares with (the customer's first transaction is before ``start_after``, so
    every one of them is a repeat)."""
    daily = transactions_by_day(transactions)
    inside = daily[(daily["date"] > pd.Timestamp(start_after)) & (daily["date"] <= pd.Timestamp(end))]
    counts = inside.groupby("customer_id").size().astype(np.int64)
    counts.name = "actual"
    return counts


def unique_histories(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Distinct rows of the columns (in order of first appearance), the count of each and
    the inverse index: customers with the same history have the same likelihood and
    prediction, computed once (a hash group-by: a million rows in well under a second)."""
    frame = pd.DataFrame({position: np.asarray(column, dtype=np.float64) for position, column in enumerate(columns)})
    if frame.empty:
        return [frame[position].to_numpy() for position in frame.columns], np.zeros(0), np.zeros(0, dtype=np.int64)
    inverse = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
    counts = np.bincount(inverse).astype(np.float64)
    unique = frame.drop_duplicates()
    return [unique[position].to_numpy() for position in unique.columns], counts, inverse


# ── BG/NBD ──────────────────────────────────────────────────────────────────────────────


def bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Each customer's log-likelihood (FHL 2005, equation 6):

    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + [x > 0] · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))

    computed in logs, the sum of the two terms by log-sum-exp so that neither underflows."""
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    T = np.asarray(age, dtype=np.float64)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)  # the second term exists only for x > 0
    dropped = betaln(a + 1, b + x_safe - 1) - (r + x) * np.log(alpha + t_x)
    dropped = np.where(repeat, dropped, -np.inf)
    return common + np.logaddexp(alive, dropped)


def bgnbd_log_likelihood_gradient(
    r: float, alpha: float, a: float, b: float, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Derivatives of each customer's log-likelihood by (r, α, a, b), shape (4, n): with
    them the optimiser needs one evaluation per step instead of five (finite differences),
    which is what makes a million-customer fit take seconds."""
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    T = np.asarray(age, dtype=np.float64)
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)
    alive = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    dropped = np.where(repeat, betaln(a + 1, b + x_safe - 1) - (r + x) * np.log(alpha + t_x), -np.inf)
    total = np.logaddexp(alive, dropped)
    w_alive, w_dropped = np.exp(alive - total), np.exp(dropped - total)  # shares of the two terms
    psi_abx = digamma(a + b + x)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w_alive * np.log(alpha + T) - w_dropped * np.log(alpha + t_x)
    d_alpha = r / alpha - (r + x) * (w_alive / (alpha + T) + w_dropped / (alpha + t_x))
    d_a = (
        digamma(a + b)
        - digamma(a)
        + w_alive * (digamma(a) - psi_abx)
        + w_dropped * np.where(repeat, digamma(a + 1) - psi_abx, 0.0)
    )
    d_b = (
        digamma(a + b)
        - digamma(b)
        + w_alive * (digamma(b + x) - psi_abx)
        + w_dropped * np.where(repeat, digamma(b + x_safe - 1) - psi_abx, 0.0)
    )
    return np.vstack([d_r, d_alpha, d_a, d_b])


def _bgnbd_starts(frequency: np.ndarray, age: np.ndarray, weights: np.ndarray) -> list[np.ndarray]:
    """Starting points in log-parameters: the purchase rate of the data for r/α, with a
    few shapes of the dropout distribution."""
    rate = max(np.average(frequency, weights=weights), 1e-3) / max(np.average(age, weights=weights), 1e-3)
    starts = []
    for r, a, b in ((1.0, 1.0, 1.0), (0.5, 0.5, 2.0), (2.0, 2.0, 5.0)):
        starts.append(np.log([r, r / rate, a, b]))
    return starts


def bgnbd_fit(frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters: L-BFGS-B with the analytic gradient on the
    log-parameters (so they stay positive without constraints), from up to three starting
    points, keeping the best (stopping when two agree). Customers with the same
    (x, t_x, T) are evaluated once and weighted by their count."""
    frequency = np.asarray(frequency, dtype=np.float64)
    if len(frequency) == 0:
        raise ClvError("no customers to fit")
    if not (frequency > 0).any():
        raise ClvError("no customer has a repeat purchase: the BG/NBD model cannot be fitted")
    (x, t_x, T), weights, _ = unique_histories(frequency, recency, age)
    total = weights.sum()

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        value = -np.dot(weights, bgnbd_log_likelihood(*params, x, t_x, T)) / total
        if not np.isfinite(value):
            return 1e300, np.zeros(4)
        # d/d log θ = θ · d/dθ
        gradient = -(bgnbd_log_likelihood_gradient(*params, x, t_x, T) @ weights) / total * params
        return value, gradient

    best = None
    for start in _bgnbd_starts(x, T, weights):
        result = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-15.0, 15.0)] * 4,
            options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
        )
        if best is not None and abs(result.fun - best.fun) < 1e-9 * max(1.0, abs(best.fun)):
            break  # two starts found the same optimum: a third would too
        if best is None or result.fun < best.fun:
            best = result
    r, alpha, a, b = (float(value) for value in np.exp(best.x))
    log_likelihood = float(np.dot(weights, bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T)))
    return BgNbdParams(r=r, alpha=alpha, a=a, b=b, log_likelihood=log_likelihood, customers=int(total))


def bgnbd_probability_alive(
    params: BgNbdParams, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """P(still active at T | x, t_x, T) (FHL 2005, footnote/appendix; Fader, Hardie & Lee
    2008 note "Computing P(alive) using the BG/NBD model"): 1 for customers without repeat
    purchases (the model lets customers drop out only right after a purchase)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    T = np.asarray(age, dtype=np.float64)
    x_safe = np.where(x > 0, x, 1.0)
    log_odds_dead = np.log(a) - np.log(b + x_safe - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(x > 0, 1.0 / (1.0 + np.exp(log_odds_dead)), 1.0)


def bgnbd_expected_purchases(
    params: BgNbdParams, t: float, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Expected purchases in the next t units given the history (FHL 2005, equation 10):

    E[Y(t) | x, t_x, T] = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x)
                           · ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))] · P(alive)

    (the denominator of equation 10 is 1/P(alive))."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = np.asarray(frequency, dtype=np.float64)
    t_x = np.asarray(recency, dtype=np.float64)
    T = np.asarray(age, dtype=np.float64)
    if t <= 0:
        return np.zeros(len(x))
    z = t / (alpha + T + t)
    hyper = hyp2f1(r + x, b + x, a + b + x - 1, z)
    bracket = 1.0 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyper
    return (a + b + x - 1) / (a - 1) * bracket * bgnbd_probability_alive(params, x, t_x, T)


def bgnbd_expected_purchases_new(params: BgNbdParams, t: np.ndarray) -> np.ndarray:
    """Expected repeat purchases of a customer in the first t units after the first
    purchase (FHL 2005, equation 7); tracks cumulative repeat sales of a cohort."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=np.float64)
    hyper = hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyper)


# ── Gamma-Gamma ─────────────────────────────────────────────────────────────────────────


def gamma_gamma_log_likelihood(p: float, q: float, v: float, frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood of the mean value m_x of x repeat transactions
    (Fader & Hardie 2013, equation 3):

    f(m_x | p, q, v, x) = Γ(px+q) / (Γ(px) Γ(q)) · v^q · m_x^(px−1) · x^(px) / (v + m_x x)^(px+q)"""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x)
    )


def gamma_gamma_log_likelihood_gradient(
    p: float, q: float, v: float, frequency: np.ndarray, monetary: np.ndarray
) -> np.ndarray:
    """Derivatives of each customer's Gamma-Gamma log-likelihood by (p, q, v), shape (3, n)."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    px = p * x
    psi_pxq = digamma(px + q)
    log_total = np.log(v + m * x)
    d_p = x * (psi_pxq - digamma(px) + np.log(m) + np.log(x) - log_total)
    d_q = psi_pxq - digamma(q) + np.log(v) - log_total
    d_v = q / v - (px + q) / (v + m * x)
    return np.vstack([d_p, d_q, d_v])


def gamma_gamma_fit(frequency: np.ndarray, monetary: np.ndarray) -> GammaGammaParams:
    """Maximum-likelihood (p, q, v) on the customers with at least one repeat transaction
    and a positive mean repeat value (the others carry no information about spend per
    transaction); L-BFGS-B on the log-parameters from a few starts."""
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    usable = (x > 0) & np.isfinite(m) & (m > 0)
    x, m = x[usable], m[usable]
    if len(x) == 0:
        raise ClvError("no customer has a repeat purchase with a positive value: Gamma-Gamma cannot be fitted")

    (x, m), weights, _ = unique_histories(x, m)
    total = weights.sum()

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        value = -np.dot(weights, gamma_gamma_log_likelihood(*params, x, m)) / total
        if not np.isfinite(value):
            return 1e300, np.zeros(3)
        gradient = -(gamma_gamma_log_likelihood_gradient(*params, x, m) @ weights) / total * params
        return value, gradient

    scale = float(np.average(m, weights=weights))
    best = None
    for p, q in ((1.0, 2.0), (5.0, 3.0), (10.0, 10.0)):
        # v chosen so that the starting population mean p·v/(q−1) is the data's mean.
        start = np.log([p, q, scale * (q - 1) / p])
        result = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-15.0, 15.0)] * 3,
            options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
        )
        if best is None or result.fun < best.fun:
            best = result
    p, q, v = (float(value) for value in np.exp(best.x))
    log_likelihood = float(np.dot(weights, gamma_gamma_log_likelihood(p, q, v, x, m)))
    return GammaGammaParams(p=p, q=q, v=v, log_likelihood=log_likelihood, customers=int(total))


def gamma_gamma_expected_value(params: GammaGammaParams, frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Expected value of a customer's transactions given x repeat transactions of mean m_x
    (Fader & Hardie 2013, equation 5): (v + m_x x) p / (p x + q − 1), a weighted average of
    the population mean p v / (q − 1) and the customer's own mean. Customers without repeat
    transactions (or without a usable mean) get the population mean."""
    if params.q <= 1:
        raise ClvError(f"Gamma-Gamma q = {params.q:.3f} ≤ 1: the mean value per transaction is not finite")
    p, q, v = params.p, params.q, params.v
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary, dtype=np.float64)
    known = (x > 0) & np.isfinite(m) & (m > 0)
    x = np.where(known, x, 0.0)
    m = np.where(known, m, 0.0)
    return (v + m * x) * p / (p * x + q - 1)


# ── CLV ─────────────────────────────────────────────────────────────────────────────────


def clv_discounted(
    bgnbd: BgNbdParams,
    expected_value: np.ndarray,
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    *,
    horizon_days: float = DEFAULT_HORIZON_DAYS,
    time_unit: TimeUnit = "week",
    annual_discount: float = DEFAULT_ANNUAL_DISCOUNT,
    margin: float = DEFAULT_MARGIN,
) -> np.ndarray:
    """Discounted value of each customer's expected purchases over the horizon:

    CLV = margin · E[Z] · Σ_k (E[Y(t_k)] − E[Y(t_{k−1})]) / (1 + d)^(t_k in years)

    with E[Z] the Gamma-Gamma expected value per transaction, E[Y(t)] the BG/NBD expected
    purchases in the next t, t_k the ends of monthly steps (the last one clipped to the
    horizon) and d the annual discount rate: purchases expected in month k are discounted
    as if made at its end. Defaults: 52 weeks, 10 % a year, margin 1.0 (revenue)."""
    unit = TIME_UNIT_DAYS[time_unit]
    steps = max(1, int(np.ceil(horizon_days / DISCOUNT_STEP_DAYS - 1e-9)))
    ends_days = np.minimum(np.arange(1, steps + 1) * DISCOUNT_STEP_DAYS, horizon_days)
    value = np.zeros(len(np.asarray(frequency)))
    previous = np.zeros_like(value)
    for end_days in ends_days:
        cumulative = bgnbd_expected_purchases(bgnbd, end_days / unit, frequency, recency, age)
        value += (cumulative - previous) / (1.0 + annual_discount) ** (end_days / DAYS_PER_YEAR)
        previous = cumulative
    return margin * np.asarray(expected_value, dtype=np.float64) * value


# ── holdout ─────────────────────────────────────────────────────────────────────────────


def holdout_compare(params: BgNbdParams, summary: pd.DataFrame, actual: pd.Series, length: float) -> HoldoutComparison:
    """Predicted (``bgnbd_expected_purchases`` over ``length`` units) vs actual repeat
    purchases of the calibration customers; customers absent from ``actual`` bought
    nothing in the holdout."""
    predicted = bgnbd_expected_purchases(
        params, length, summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["age"].to_numpy()
    )
    per_customer = pd.DataFrame(
        {
            "frequency": summary["frequency"].to_numpy(),
            "predicted": predicted,
            "actual": actual.reindex(summary.index, fill_value=0).to_numpy(dtype=np.int64),
        },
        index=summary.index,
    )
    bucket = np.minimum(per_customer["frequency"].to_numpy(), HOLDOUT_BUCKETS)
    means = per_customer.groupby(bucket)[["predicted", "actual"]].agg(["mean", "size"])
    buckets = [
        HoldoutBucket(
            frequency=f"{HOLDOUT_BUCKETS}+" if key == HOLDOUT_BUCKETS else str(key),
            customers=int(means.loc[key, ("predicted", "size")]),
            predicted_mean=float(means.loc[key, ("predicted", "mean")]),
            actual_mean=float(means.loc[key, ("actual", "mean")]),
        )
        for key in means.index
    ]
    return HoldoutComparison(
        length=float(length),
        customers=len(per_customer),
        predicted_total=float(per_customer["predicted"].sum()),
        actual_total=int(per_customer["actual"].sum()),
        mean_absolute_error=float(np.mean(np.abs(per_customer["predicted"] - per_customer["actual"]))),
        by_frequency=buckets,
        per_customer=per_customer,
    )
