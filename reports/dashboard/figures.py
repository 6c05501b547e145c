"""Dashboard figures from already-counted numbers: pure computation, no Django models.

Everything here takes plain rows (dates, integers, ``Decimal``) that the selectors read
from the pre-aggregated tables or from one grouped query, so the definitions can be tested
against a hand computation without a database:

- a *day series* has one row per day of a window, zeros on days without orders;
- the *revenue comparison* sets the last 30 days (today included) against the 30 before;
- the *repurchase rate* is repeat buyers (two or more placed orders) over buyers;
- a *churn-risk histogram* has ``bins`` equal-width bins over [0, 1], the last one closed;
- a campaign's *cost* is its fixed cost plus cost per message × messages sent, its *ROI*
  (revenue − cost) / cost (none when nothing was spent);
- *NPS* per month is % promoters (9–10) − % detractors (0–6) of that month's answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from surveys.scoring import nps_summary

COMPARISON_DAYS = 30
CHART_DAYS = 90
TREND_MONTHS = 12
CHURN_BINS = 10

ZERO = Decimal("0")


@dataclass(frozen=True)
class SalesDay:
    day: dt.date
    orders: int
    revenue: Decimal
    buyers: int
    new_buyers: int


@dataclass(frozen=True)
class RevenueComparison:
    """The last ``days`` days (today included) against the ``days`` before them."""

    days: int
    current_start: dt.date
    current_revenue: Decimal
    current_orders: int
    previous_start: dt.date
    previous_revenue: Decimal
    previous_orders: int

    @property
    def change(self) -> float | None:
        """Relative change of revenue (0.1 = +10 %), None when the previous window earned nothing."""
        if not self.previous_revenue:
            return None
        return float((self.current_revenue - self.previous_revenue) / self.previous_revenue)


def day_series(rows: Iterable[SalesDay], *, first: dt.date, last: dt.date) -> list[SalesDay]:
    """One row per day from ``first`` to ``last`` (both included); missing days are zeros."""
    by_day = {row.day: row for row in rows}
    days = (last - first).days + 1
    series = []
    for offset in range(max(days, 0)):
        day = first + dt.timedelta(days=offset)
        series.append(by_day.get(day) or SalesDay(day=day, orders=0, revenue=ZERO, buyers=0, new_buyers=0))
    return series


def revenue_comparison(rows: Iterable[SalesDay], *, today: dt.date, days: int = COMPARISON_DAYS) -> RevenueComparison:
    current_start = today - dt.timedelta(days=days - 1)
    previous_start = current_start - dt.timedelta(days=days)
    current_revenue = previous_revenue = ZERO
    current_orders = previous_orders = 0
    for row in rows:
        if current_start <= row.day <= today:
            current_revenue += row.revenue
            current_orders += row.orders
        elif previous_start <= row.day < current_start:
            previous_revenue += row.revenue
            previous_orders += row.orders
    return RevenueComparison(days, current_start, current_revenue, current_orders,
                             previous_start, previous_revenue, previous_orders)  # fmt: skip


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def churn_histogram(counts: Mapping[int, int], *, bins: int = CHURN_BINS) -> list[dict]:
    """Rows lower, upper, customers, share from customer counts per bin index (0..bins-1)."""
    total = sum(counts.values())
    return [
        {
            "lower": index / bins,
            "upper": (index + 1) / bins,
            "customers": int(counts.get(index, 0)),
            "share": share(int(counts.get(index, 0)), total),
        }  # fmt: skip
        for index in range(bins)
    ]


def month_starts(*, today: dt.date, months: int = TREND_MONTHS) -> list[dt.date]:
    """First days of the last ``months`` calendar months, the current one last."""
    index = today.year * 12 + today.month - 1
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1)]


def nps_months(counts: Mapping[tuple[dt.date, int], int], *, months: list[dt.date]) -> list[dict]:
    """Per month: responses, promoters, passives, detractors and NPS (None without answers),
    from answer counts keyed by (month start, score 0..10)."""
    rows = []
    for month in months:
        summary = nps_summary({score: count for (when, score), count in counts.items() if when == month})
        rows.append({"month": month, "responses": summary.responses, "promoters": summary.promoters,
                     "passives": summary.passives, "detractors": summary.detractors, "nps": summary.nps})  # fmt: skip
    return rows


def sentiment_months(rows: Iterable[Mapping], *, months: list[dt.date]) -> list[dict]:
    """Per month: reviews scored, their mean score (−1..1, None without reviews) and the
    positive / neutral / negative counts, from grouped rows (month, reviews, score_sum,
    positive, neutral, negative)."""
    by_month = {row["month"]: row for row in rows}
    result = []
    for month in months:
        row = by_month.get(month)
        reviews = int(row["reviews"]) if row else 0
        result.append({
            "month": month, "reviews": reviews,
            "mean_score": float(row["score_sum"]) / reviews if reviews else None,
            "positive": int(row["positive"]) if row else 0, "neutral": int(row["neutral"]) if row else 0,
            "negative": int(row["negative"]) if row else 0,
        })  # fmt: skip
    return result
