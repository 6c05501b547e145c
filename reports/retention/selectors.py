"""Reads for the retention report. Everyone: the pre-aggregated cohort cells (a few hundred
rows). A segment: its current members' rows of the per-customer activity table, grouped
into the same cells in one query. Both are computed into cohorts by
``cohorts.retention_compute``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.db.models import Count, Q, Subquery
from django.utils import timezone

from reports.retention.cohorts import (
    DEFAULT_COHORTS,
    Period,
    Retention,
    period_index,
    period_of,
    period_start,
    retention_compute,
)
from reports.retention.models import CohortCell, CustomerPeriodActivity
from segments.models import SegmentMembership

_CELL_COLUMNS = ["cohort", "period", "customers", "repeaters"]


def cohort_cells(*, period: Period, start: dt.date, end: dt.date, segment_id: int | None = None) -> pd.DataFrame:
    """Cells of the periods starting in [start, end): cohort and period (integers, see
    ``cohorts.period_index``), customers and repeaters; for everyone or for the current
    members of a segment."""
    if segment_id is None:
        rows = CohortCell.objects.filter(period=period, period_start__gte=start, period_start__lt=end).values_list(
            "cohort_start", "period_start", "customers", "repeaters"
        )
    else:
        members = SegmentMembership.objects.filter(segment_id=segment_id, left_at__isnull=True)
        rows = (
            CustomerPeriodActivity.objects.filter(
                period=period,
                period_start__gte=start,
                period_start__lt=end,
                customer_id__in=Subquery(members.values("customer_id")),
            )  # fmt: skip
            .values("cohort_start", "period_start")
            .annotate(customers=Count("pk"), repeaters=Count("pk", filter=Q(repeat_reached=True)))
            .order_by()
            .values_list("cohort_start", "period_start", "customers", "repeaters")
        )
    frame = pd.DataFrame(list(rows), columns=["cohort_start", "period_start", "customers", "repeaters"])
    if frame.empty:
        return pd.DataFrame({column: pd.Series(dtype="int64") for column in _CELL_COLUMNS})
    return pd.DataFrame({
        "cohort": period_index(frame["cohort_start"], period),
        "period": period_index(frame["period_start"], period),
        "customers": frame["customers"].to_numpy(dtype=np.int64),
        "repeaters": frame["repeaters"].to_numpy(dtype=np.int64),
    })  # fmt: skip


def retention_report(*, period: Period = "month", cohorts: int | None = None, segment_id: int | None = None,
                     now: dt.datetime | None = None) -> Retention:  # fmt: skip
    """The last ``cohorts`` periods up to the current one (default 12 months or 26 weeks):
    retention matrix, repurchase rate and active customers, for everyone or for the
    current members of a segment, as of the last rebuild of the retention tables."""
    cohorts = cohorts or DEFAULT_COHORTS[period]
    today = timezone.localdate(now or timezone.now())
    last = period_of(today, period)
    first = last - cohorts + 1
    cells = cohort_cells(period=period, start=period_start(first, period), end=period_start(last + 1, period),
                         segment_id=segment_id)  # fmt: skip
    return retention_compute(cells, period=period, first=first, last=last)
