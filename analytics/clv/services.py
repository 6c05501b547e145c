"""Fitting the lifetime-value models and scoring customers with them.

Callable with plain arguments (dates, a time unit, optionally a DataFrame of transactions),
so the management command, a Celery task and a page can share them. Writing the scores
into the feature table belongs to segments (``segments.clv_scores.features_clv_update``):
analytics may not import segments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analytics.clv.model import (
    DEFAULT_ANNUAL_DISCOUNT,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_MARGIN,
    TIME_UNIT_DAYS,
    BgNbdParams,
    ClvError,
    GammaGammaParams,
    HoldoutComparison,
    TimeUnit,
    bgnbd_expected_purchases,
    bgnbd_fit,
    bgnbd_probability_alive,
    clv_discounted,
    gamma_gamma_expected_value,
    gamma_gamma_fit,
    holdout_compare,
    repeat_purchases_between,
    rfm_summary,
    unique_histories,
)
from analytics.clv.selectors import clv_transactions

SCORE_COLUMNS = ["customer_id", "probability_alive", "expected_purchases", "clv"]


@dataclass(frozen=True)
class ClvFit:
    """Both models fitted on one calibration period, with the holdout check when asked."""

    calibration_end: dt.date
    time_unit: TimeUnit
    customers: int  # customers with a purchase on or before the calibration end
    repeat_customers: int  # of them, those with at least one repeat purchase
    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams | None  # None when no repeat purchase has a positive value
    # Pearson correlation of repeat frequency and mean repeat value (repeat buyers): the
    # Gamma-Gamma model assumes the two are independent, so a value far from 0 is a warning.
    frequency_value_correlation: float | None
    holdout_end: dt.date | None = None
    holdout: HoldoutComparison | None = None

    def parameters(self) -> dict[str, Any]:
        """The fitted figures in the order ``fit_clv --json`` prints them."""
        gamma_gamma = self.gamma_gamma
        return {
            "customers": self.customers,
            "r": self.bgnbd.r,
            "alpha": self.bgnbd.alpha,
            "a": self.bgnbd.a,
            "b": self.bgnbd.b,
            "log_likelihood": self.bgnbd.log_likelihood,
            "p": gamma_gamma.p if gamma_gamma else None,
            "q": gamma_gamma.q if gamma_gamma else None,
            "v": gamma_gamma.v if gamma_gamma else None,
        }


def clv_fit(
    *,
    calibration_end: dt.date,
    time_unit: TimeUnit = "week",
    holdout_end: dt.date | None = None,
    transactions: pd.DataFrame | None = None,
) -> ClvFit:
    """Fit BG/NBD and Gamma-Gamma on the purchases up to ``calibration_end`` (the shop's
    placed orders, or ``transactions`` with columns customer_id, date, amount). With
    ``holdout_end``, also compare each calibration customer's expected repeat purchases in
    (calibration_end, holdout_end] with the actual ones. Raises ``ClvError`` when the data
    cannot be fitted."""
    if time_unit not in TIME_UNIT_DAYS:
        raise ClvError(f"unknown time unit {time_unit!r}: use one of {', '.join(TIME_UNIT_DAYS)}")
    if holdout_end is not None and holdout_end <= calibration_end:
        raise ClvError("the holdout period must end after the calibration period")
    if transactions is None:
        transactions = clv_transactions(until=holdout_end or calibration_end)
    summary = rfm_summary(transactions, calibration_end=calibration_end, time_unit=time_unit)
    frequency = summary["frequency"].to_numpy()
    bgnbd = bgnbd_fit(frequency, summary["recency"].to_numpy(), summary["age"].to_numpy())
    try:
        gamma_gamma = gamma_gamma_fit(frequency, summary["monetary"].to_numpy())
    except ClvError:
        gamma_gamma = None
    repeat = summary[summary["frequency"] > 0]
    correlation = None
    if len(repeat) > 2 and repeat["frequency"].nunique() > 1 and repeat["monetary"].nunique() > 1:
        correlation = float(np.corrcoef(repeat["frequency"], repeat["monetary"])[0, 1])
    holdout = None
    if holdout_end is not None:
        actual = repeat_purchases_between(transactions, start_after=calibration_end, end=holdout_end)
        length = (holdout_end - calibration_end).days / TIME_UNIT_DAYS[time_unit]
        holdout = holdout_compare(bgnbd, summary, actual, length)
    return ClvFit(
        calibration_end=calibration_end,
        time_unit=time_unit,
        customers=len(summary),
        repeat_customers=len(repeat),
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        frequency_value_correlation=correlation,
        holdout_end=holdout_end,
        holdout=holdout,
    )


def clv_scores(
    *,
    fit: ClvFit,
    as_of: dt.date,
    horizon: dt.timedelta = dt.timedelta(days=DEFAULT_HORIZON_DAYS),
    annual_discount: float = DEFAULT_ANNUAL_DISCOUNT,
    margin: float = DEFAULT_MARGIN,
    transactions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every customer with a purchase on or before ``as_of``, scored with the fitted
    models on the history up to ``as_of``: P(alive), expected purchases over the horizon
    and CLV (discounted expected spend over the horizon; NaN when Gamma-Gamma could not be
    fitted). Columns customer_id, probability_alive, expected_purchases, clv; vectorised."""
    if transactions is None:
        transactions = clv_transactions(until=as_of)
    summary = rfm_summary(transactions, calibration_end=as_of, time_unit=fit.time_unit)
    if summary.empty:
        return pd.DataFrame({column: pd.Series(dtype=np.float64) for column in SCORE_COLUMNS}).astype(
            {"customer_id": np.int64}
        )
    # Customers with the same history get the same scores: compute each history once.
    (x, t_x, T, m), _, inverse = unique_histories(
        summary["frequency"].to_numpy(),
        summary["recency"].to_numpy(),
        summary["age"].to_numpy(),
        summary["monetary"].fillna(0.0).to_numpy(),
    )
    horizon_days = horizon.total_seconds() / 86400
    expected = bgnbd_expected_purchases(fit.bgnbd, horizon_days / TIME_UNIT_DAYS[fit.time_unit], x, t_x, T)
    if fit.gamma_gamma is not None and fit.gamma_gamma.q > 1:
        value = gamma_gamma_expected_value(fit.gamma_gamma, x, m)
        clv = clv_discounted(
            fit.bgnbd,
            value,
            x,
            t_x,
            T,
            horizon_days=horizon_days,
            time_unit=fit.time_unit,
            annual_discount=annual_discount,
            margin=margin,
        )
    else:
        clv = np.full(len(x), np.nan)
    return pd.DataFrame(
        {
            "customer_id": summary.index.to_numpy(dtype=np.int64),
            "probability_alive": bgnbd_probability_alive(fit.bgnbd, x, t_x, T)[inverse],
            "expected_purchases": expected[inverse],
            "clv": clv[inverse],
        },
        columns=SCORE_COLUMNS,
    )
