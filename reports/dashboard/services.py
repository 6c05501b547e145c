"""Writes of the dashboard: the refresh of its pre-aggregated tables.

- ``daily_sales_refresh`` recomputes ``DailySales`` in full, or only from a few days back
  (incremental: the days whose orders may still change — new orders, cancellations). It
  deletes and rewrites those days in one transaction, so a reader sees the old or the new
  rows, never a mix, and running it twice gives the same table. An incremental run turns
  into a full one when the table was never filled or the shop's time zone changed.
- ``dashboard_snapshot_refresh`` computes the figures that need a pass over a large table
  and stores them as a new ``DashboardSnapshot`` (older snapshots are pruned).

Both are set-based: grouped queries in the database, no Python loop over customers or orders.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from customers.models import Order
from reports.dashboard import selectors
from reports.dashboard.models import DailySales, DailySalesRefresh, DashboardSnapshot

INCREMENTAL_DAYS = 3  # today and the two days before it are recomputed
SNAPSHOTS_KEPT = 20
_LOCK = 6_020_601  # advisory lock key of the daily sales refresh (PostgreSQL)
# The refresh groups millions of rows into ~1M groups: with PostgreSQL's default 4 MB the
# aggregates spill to disk (about 1.5× slower at 1M customers). Only for its own transaction.
REFRESH_WORK_MEM = "128MB"


def _large_aggregates() -> None:
    """Let this transaction's grouping run in memory (PostgreSQL; nothing on SQLite)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [REFRESH_WORK_MEM])


@dataclass(frozen=True)
class DashboardRefreshResult:
    sales: DailySalesRefresh
    snapshot: DashboardSnapshot
    sales_seconds: float
    snapshot_seconds: float


def _time_zone_name() -> str:
    return timezone.get_default_timezone_name()


def _daily_rows(since: dt.datetime | None) -> dict[dt.date, dict]:
    """Orders, revenue and buyers per local day of the placed orders from ``since`` (all
    when None), and the new buyers of those days: customers whose first placed order ever
    falls on the day."""
    tz = selectors.shop_time_zone()
    placed = Order.objects.filter(status=Order.Status.PLACED)
    recent = placed if since is None else placed.filter(ordered_at__gte=since)
    days = {
        row["day"]: {"orders": row["orders"], "revenue": row["revenue"] or 0, "buyers": row["buyers"], "new_buyers": 0}
        for row in recent.annotate(day=TruncDate("ordered_at", tzinfo=tz))
        .values("day")
        .annotate(orders=Count("pk"), revenue=Sum("total"), buyers=Count("customer_id", distinct=True))
        .order_by()
    }
    if since is None:
        firsts = placed
    else:  # a first order on or after ``since`` = no placed order before it (an index probe per customer)
        earlier = placed.filter(customer_id=OuterRef("customer_id"), ordered_at__lt=since)
        firsts = recent.exclude(Exists(earlier))
    firsts = firsts.values("customer_id").annotate(first_at=Min("ordered_at")).order_by()
    inner, params = firsts.query.sql_with_params()
    day_sql, day_params = connection.ops.datetime_cast_date_sql("f.first_at", (), timezone.get_default_timezone_name())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {day_sql}, COUNT(*) FROM ({inner}) f GROUP BY 1", [*day_params, *params])
        for day, count in cursor.fetchall():
            if isinstance(day, str):  # SQLite
                day = dt.date.fromisoformat(day)
            days.setdefault(day, {"orders": 0, "revenue": 0, "buyers": 0, "new_buyers": 0})["new_buyers"] = count
    return days


def daily_sales_refresh(*, full: bool = False, days: int = INCREMENTAL_DAYS,
                        now: dt.datetime | None = None) -> DailySalesRefresh:  # fmt: skip
    """Recompute the daily sales table: every day (``full``) or the last ``days`` local days
    up to ``now`` (and any later day). Idempotent; incremental and full agree on the days
    they both write."""
    started = timezone.now()
    now = now or started
    zone = _time_zone_name()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        _large_aggregates()
        latest = DailySalesRefresh.objects.order_by("-finished_at", "-id").first()
        if latest is None or latest.time_zone != zone:
            full = True
        from_day = None if full else timezone.localdate(now, selectors.shop_time_zone()) - dt.timedelta(days=days - 1)
        rows = _daily_rows(None if from_day is None else selectors.local_midnight(from_day))
        stale = DailySales.objects.all() if from_day is None else DailySales.objects.filter(day__gte=from_day)
        stale.delete()
        DailySales.objects.bulk_create(
            [DailySales(day=day, **values) for day, values in sorted(rows.items())], batch_size=1000
        )
        return DailySalesRefresh.objects.create(
            mode=DailySalesRefresh.Mode.FULL if full else DailySalesRefresh.Mode.INCREMENTAL,
            time_zone=zone,
            from_day=from_day,
            days=len(rows),
            started_at=started,
            finished_at=timezone.now(),
        )


def _money(value) -> str:
    return f"{value:.2f}"


def _snapshot_figures(as_of: dt.datetime) -> dict:
    today = timezone.localdate(as_of, selectors.shop_time_zone())
    buyers, repeat_buyers = selectors.buyer_counts()
    histogram = selectors.churn_risk_histogram()
    campaigns = [
        row | {"launched_at": row["launched_at"].isoformat() if row["launched_at"] else None,
               "revenue": _money(row["revenue"]), "cost": str(row["cost"])}
        for row in selectors.recent_campaigns_roi()
    ]  # fmt: skip
    return {
        "customers": selectors.customers_count(),
        "active_customers": selectors.active_customers_count(as_of=as_of),
        "buyers": buyers,
        "repeat_buyers": repeat_buyers,
        "churn_scored": sum(row["customers"] for row in histogram),
        "churn_histogram": histogram,
        "campaigns": campaigns,
        "nps_months": [row | {"month": row["month"].isoformat()} for row in selectors.nps_by_month(today=today)],
        "sentiment_months": [
            row | {"month": row["month"].isoformat()} for row in selectors.sentiment_by_month(today=today)
        ],
    }


def dashboard_snapshot_refresh(*, now: dt.datetime | None = None) -> DashboardSnapshot:
    """Compute the snapshot figures as of ``now`` and store them as the newest snapshot."""
    started = time.perf_counter()
    as_of = now or timezone.now()
    with transaction.atomic():  # the larger work_mem lasts as long as this transaction
        _large_aggregates()
        figures = _snapshot_figures(as_of)
    with transaction.atomic():
        snapshot = DashboardSnapshot.objects.create(
            as_of=as_of, time_zone=_time_zone_name(), seconds=time.perf_counter() - started, **figures
        )
        keep = DashboardSnapshot.objects.order_by("-as_of", "-id").values_list("pk", flat=True)[:SNAPSHOTS_KEPT]
        DashboardSnapshot.objects.exclude(pk__in=list(keep)).delete()
    return snapshot


def dashboard_refresh(*, full: bool = False, now: dt.datetime | None = None) -> DashboardRefreshResult:
    """Refresh everything the dashboard reads: the daily sales (incrementally unless
    ``full``) and a new snapshot."""
    started = time.perf_counter()
    sales = daily_sales_refresh(full=full, now=now)
    middle = time.perf_counter()
    snapshot = dashboard_snapshot_refresh(now=now)
    return DashboardRefreshResult(sales, snapshot, middle - started, time.perf_counter() - middle)
