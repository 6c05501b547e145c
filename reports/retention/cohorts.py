"""Acquisition cohorts and retention, pure computation (no Django models).

A customer's *cohort* is the period (calendar month, or ISO week starting on Monday) of
their first order. Cell (cohort c, offset k) of the retention matrix is the share of the
cohort's customers who ordered in period c + k, so offset 0 is always 100 %; cells after
the last period of the window are unknown (NaN), not 0. The *repurchase rate* is the share
of cohort customers with two or more orders (in the same period or not). *Active
customers* of a period are everyone who ordered in it, including customers acquired
before the window.

The report reads cohort cells pre-aggregated from the orders (``refresh.py``): per cohort
and period, the customers active and how many of them reached their second order then.

Periods travel as integers so that offsets are plain subtraction: months since year 0
(``year * 12 + month - 1``) and weeks since the Monday 1969-12-29.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Period = Literal["month", "week"]
PERIODS: tuple[Period, ...] = ("month", "week")
DEFAULT_COHORTS: dict[str, int] = {"month": 12, "week": 26}
_EPOCH = dt.date(1970, 1, 1)  # a Thursday: Monday-based week w starts 7w - 3 days after it


@dataclass(frozen=True)
class Retention:
    period: str
    periods: list[dt.date]  # first day of each period of the window, oldest first
    sizes: np.ndarray  # customers per cohort (cohort i starts periods[i])
    retained: np.ndarray  # cohorts × offsets: customers of the cohort who ordered k periods later
    matrix: np.ndarray  # retained / sizes; NaN past the window's end or for an empty cohort
    repeat_customers: np.ndarray  # per cohort: customers with ≥ 2 orders
    active: np.ndarray  # per period: customers with ≥ 1 order (any cohort)
    new: np.ndarray  # per period: customers whose first order it was (= sizes)

    @property
    def customers(self) -> int:
        return int(self.sizes.sum())

    @property
    def repurchase_rate(self) -> float | None:
        """Share of all cohort customers with two or more orders (None without customers)."""
        return float(self.repeat_customers.sum() / self.customers) if self.customers else None

    @property
    def cohort_repurchase_rates(self) -> list[float | None]:
        return [
            float(repeat / size) if size else None
            for repeat, size in zip(self.repeat_customers, self.sizes, strict=True)
        ]

    @property
    def returning(self) -> np.ndarray:
        """Active customers acquired in an earlier period."""
        return self.active - self.new


def period_index(moments: pd.Series, period: Period) -> np.ndarray:
    """The integer period of each (naive, local) timestamp or date."""
    moments = pd.to_datetime(moments)
    if period == "month":
        return (moments.dt.year * 12 + moments.dt.month - 1).to_numpy(dtype=np.int64)
    days = moments.to_numpy(dtype="datetime64[D]").astype(np.int64)
    return (days + 3) // 7


def period_start(index: int, period: Period) -> dt.date:
    """First day of period ``index`` (inverse of ``period_index``)."""
    if period == "month":
        return dt.date(index // 12, index % 12 + 1, 1)
    return _EPOCH + dt.timedelta(days=7 * index - 3)


def period_of(day: dt.date, period: Period) -> int:
    return int(period_index(pd.Series([pd.Timestamp(day)]), period)[0])


def retention_compute(cells: pd.DataFrame, *, period: Period, first: int, last: int) -> Retention:
    """The cohorts of periods ``first`` … ``last`` from cohort cells: columns cohort and
    period (integers, as ``period_index``), customers (of the cohort active in the period)
    and repeaters (of them, those whose second order fell in the period). Cells of cohorts
    before ``first`` only add to the active customers; cells outside the window are ignored."""
    count = last - first + 1
    cohort = cells["cohort"].to_numpy(dtype=np.int64)
    when = cells["period"].to_numpy(dtype=np.int64)
    customers = cells["customers"].to_numpy(dtype=np.int64)
    repeaters = cells["repeaters"].to_numpy(dtype=np.int64)

    inside = (when >= first) & (when <= last)
    active = np.bincount(when[inside] - first, weights=customers[inside], minlength=count).astype(np.int64)

    in_cohort = inside & (cohort >= first)
    row = cohort[in_cohort] - first
    offset = when[in_cohort] - cohort[in_cohort]
    retained = np.bincount(row * count + offset, weights=customers[in_cohort], minlength=count * count)
    retained = retained.astype(np.int64).reshape(count, count)
    sizes = retained[:, 0].copy()
    repeat_customers = np.bincount(row, weights=repeaters[in_cohort], minlength=count).astype(np.int64)

    observable = np.arange(count)[None, :] <= (count - 1 - np.arange(count))[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.where(observable & (sizes[:, None] > 0), retained / sizes[:, None], np.nan)
    return Retention(
        period=period,
        periods=[period_start(index, period) for index in range(first, last + 1)],
        sizes=sizes,
        retained=retained,
        matrix=matrix,
        repeat_customers=repeat_customers,
        active=active,
        new=sizes.copy(),
    )
