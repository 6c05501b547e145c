"""Reads for the retention report: one grouped query over placed orders (customer ×
period, in the current time zone), computed into cohorts by ``cohorts.retention_compute``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.db.models import Case, Count, Subquery, When
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from analytics.recommendations.selectors import sql_frame
from customers.models import Order
from reports.retention.cohorts import (
    DEFAULT_COHORTS,
    Period,
    Retention,
    period_index,
    period_of,
    period_start,
    retention_compute,
)
from segments.models import SegmentMembership

TRUNCATE = {"month": TruncMonth, "week": TruncWeek}


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def customer_period_activity(*, period: Period, start: dt.datetime, end: dt.datetime,
                             segment_id: int | None = None) -> pd.DataFrame:  # fmt: skip
    """customer_id, period (integer, see ``cohorts.period_index``) and orders for every
    customer with a placed order in [start, end), optionally only current members of a
    segment. A customer who also ordered before ``start`` gets one more row with period -1
    (acquired earlier): their older orders are grouped into it, never read one by one."""
    placed = Order.objects.filter(status=Order.Status.PLACED)
    in_window = placed.filter(ordered_at__gte=start, ordered_at__lt=end)
    customers = in_window.values("customer_id")
    if segment_id is not None:
        members = SegmentMembership.objects.filter(segment_id=segment_id, left_at__isnull=True)
        customers = customers.filter(customer_id__in=Subquery(members.values("customer_id")))
    grouped = (
        placed.filter(ordered_at__lt=end, customer_id__in=Subquery(customers))
        .annotate(bucket=Case(When(ordered_at__gte=start, then=TRUNCATE[period]("ordered_at")), default=None))
        .values("customer_id", "bucket")
        .annotate(orders=Count("pk"))
        .order_by()
    )
    sql, params = grouped.query.sql_with_params()
    frame = sql_frame(sql, list(params), ["customer_id", "bucket", "orders"])
    known = frame["bucket"].notna()
    when = np.full(len(frame), -1, dtype=np.int64)
    if known.any():
        when[known.to_numpy()] = period_index(frame.loc[known, "bucket"], period)
    return pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(dtype=np.int64), "period": when,
                         "orders": frame["orders"].to_numpy(dtype=np.int64)})  # fmt: skip


def retention_report(*, period: Period = "month", cohorts: int | None = None, segment_id: int | None = None,
                     now: dt.datetime | None = None) -> Retention:  # fmt: skip
    """The last ``cohorts`` periods up to the current one (default 12 months or 26 weeks):
    retention matrix, repurchase rate and active customers, for everyone or for the
    current members of a segment."""
    cohorts = cohorts or DEFAULT_COHORTS[period]
    today = timezone.localdate(now or timezone.now())
    last = period_of(today, period)
    first = last - cohorts + 1
    start = _local_midnight(period_start(first, period))
    end = _local_midnight(period_start(last + 1, period))
    activity = customer_period_activity(period=period, start=start, end=end, segment_id=segment_id)
    activity.loc[activity["period"] < 0, "period"] = first - 1
    return retention_compute(activity, period=period, first=first, last=last)
