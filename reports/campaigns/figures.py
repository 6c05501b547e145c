"""The money side of the campaign report, as plain functions over numbers (no Django
models): what a send cost, its return on investment, what the lift against the holdout
is worth, and conversions accumulated over the days after the send.

The statistics themselves (z-test, Welch's t-test, their 95 % intervals) are not here:
they come from ``campaigns.experiments`` and are only scaled or combined with money.

Definitions (docs/reports.md):

* cost of a campaign = fixed cost + cost per message × messages sent;
* cost of a variant = cost per message × its messages sent + the fixed cost shared in
  proportion to messages sent (the variants' costs add up to the campaign's);
* ROI = (attributed revenue − cost) / cost, undefined (None) when nothing was spent;
* incremental ROI = (incremental revenue − cost) / cost, where incremental revenue is the
  revenue per recipient above the holdout's times the recipients; its interval is the
  same linear map of the revenue interval;
* payback = incremental revenue / cost ("the campaign paid for itself N times").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

Number = float | Decimal  # the same arithmetic for the report (floats) and the dashboard (exact)


def campaign_cost(*, fixed_cost: Number, cost_per_message: Number, sent: int) -> Number:
    """What the campaign cost: its fixed cost plus every message sent at the message price
    (exact for Decimal amounts, whose cost per message has four decimal places)."""
    return fixed_cost + cost_per_message * int(sent)


def variant_cost(*, fixed_cost: float, cost_per_message: float, sent: int, campaign_sent: int) -> float:
    """A variant's share of the cost: its own messages plus the fixed cost split by
    messages sent (nothing of the fixed cost while the campaign sent nothing)."""
    share = sent / campaign_sent if campaign_sent else 0.0
    return float(cost_per_message) * int(sent) + float(fixed_cost) * share


def roi(revenue: Number | None, cost: Number) -> float | None:
    """(revenue − cost) / cost; None when nothing was spent or revenue is unknown."""
    if revenue is None or not cost:
        return None
    return float((revenue - cost) / cost)


def payback(incremental_revenue: float | None, cost: float) -> float | None:
    """How many times the incremental revenue covers the cost (None when it cost nothing)."""
    if incremental_revenue is None or not cost:
        return None
    return incremental_revenue / cost


@dataclass(frozen=True)
class IncrementalRoi:
    value: float | None
    low: float | None
    high: float | None


def incremental_roi(
    *, incremental_revenue: float | None, low: float | None, high: float | None, cost: float
) -> IncrementalRoi:
    """ROI on the revenue the campaign added over the holdout, with the interval of the
    incremental revenue mapped through the same (increasing) function."""
    return IncrementalRoi(roi(incremental_revenue, cost), roi(low, cost), roi(high, cost))


CUMULATIVE_COLUMNS = [
    "group",
    "day",
    "conversions",
    "revenue",
    "cumulative_conversions",
    "cumulative_revenue",
    "cumulative_revenue_per_recipient",
]


def cumulative_by_day(
    daily: pd.DataFrame, *, recipients: Mapping[str, int], groups: Sequence[str], days: int
) -> pd.DataFrame:
    """Conversions and revenue accumulated over the days since the send, per group.

    ``daily`` has one row per (group, day, conversions, revenue) with day = whole days from
    the message's send (for the holdout: from when the others were sent); days below 0
    count as day 0. The result has every group × day 0 … ``days`` − 1 (later conversions,
    e.g. coupon orders after the window, extend it), in ``groups`` order, with the
    cumulative revenue per recipient (None for a group without recipients)."""
    frame = daily.copy()
    frame["day"] = frame["day"].clip(lower=0).astype(np.int64)
    span = max(int(days), int(frame["day"].max()) + 1 if len(frame) else 0, 1)
    frame = frame[frame["group"].isin(list(groups))]
    summed = frame.groupby(["group", "day"], sort=False)[["conversions", "revenue"]].sum()
    index = pd.MultiIndex.from_product([list(groups), range(span)], names=["group", "day"])
    full = summed.reindex(index, fill_value=0).reset_index()
    full["conversions"] = full["conversions"].astype(np.int64)
    full["revenue"] = full["revenue"].astype(np.float64)
    grouped = full.groupby("group", sort=False)
    full["cumulative_conversions"] = grouped["conversions"].cumsum().astype(np.int64)
    full["cumulative_revenue"] = grouped["revenue"].cumsum()
    counts = full["group"].map(lambda group: recipients.get(group) or np.nan).astype(np.float64)
    per_recipient = full["cumulative_revenue"] / counts
    full["cumulative_revenue_per_recipient"] = per_recipient.astype(object).where(per_recipient.notna(), None)
    return full[CUMULATIVE_COLUMNS]
