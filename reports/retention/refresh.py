"""Rebuilds the retention tables from placed orders: in full (nightly, and whenever asked)
or only for the customers with orders newer than the last rebuild (hourly).

A customer's rows are always recomputed from all of their placed orders, so a rebuild is
idempotent and an incremental one gives the same rows as a full one. The whole rebuild is
one transaction: reports keep reading the previous tables until it commits. Order status
changes (an order cancelled later) and erased customers are picked up by the next full
rebuild."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, DateField, Max, Min, Subquery
from django.db.models.functions import Cast, TruncMonth, TruncWeek
from django.utils import timezone

from customers.models import Customer, Order
from reports.retention.cohorts import PERIODS, Period
from reports.retention.models import CohortCell, CustomerPeriodActivity, RetentionRefresh

CHUNK_CUSTOMERS = 250_000  # customers per statement of a full rebuild: bounded memory per grouped query
_LOCK_KEY = 0x5E7E_0001  # PostgreSQL advisory lock: one rebuild at a time
_TRUNCATE = {"month": TruncMonth, "week": TruncWeek}
ACTIVITY = CustomerPeriodActivity._meta.db_table
CELLS = CohortCell._meta.db_table
ORDERS = Order._meta.db_table


@dataclass(frozen=True)
class RefreshResult:
    mode: str
    customers: int
    rows: int
    order_watermark: int


def _activity_insert_sql(period: Period, orders) -> tuple[str, list]:
    """INSERT … SELECT of one row per customer and period of ``orders`` (a queryset of the
    customers' placed orders), with the cohort and the second-order flag from window
    functions over the customer's periods."""
    bucket = Cast(_TRUNCATE[period]("ordered_at"), DateField())
    grouped = orders.annotate(bucket=bucket).values("customer_id", "bucket").annotate(orders=Count("pk")).order_by()
    select, params = grouped.query.sql_with_params()
    running = "SUM(g.orders) OVER (PARTITION BY g.customer_id ORDER BY g.bucket ROWS UNBOUNDED PRECEDING)"
    sql = f"""
        INSERT INTO {ACTIVITY} (customer_id, period, period_start, cohort_start, orders, repeat_reached)
        SELECT g.customer_id, %s, g.bucket, MIN(g.bucket) OVER (PARTITION BY g.customer_id), g.orders,
               ({running} >= 2 AND {running} - g.orders < 2)
          FROM ({select}) g"""
    return sql, [period, *params]


def _cells_rebuild(cursor, period: Period) -> None:
    cursor.execute(f"DELETE FROM {CELLS} WHERE period = %s", [period])
    cursor.execute(
        f"""INSERT INTO {CELLS} (period, cohort_start, period_start, customers, repeaters)
            SELECT period, cohort_start, period_start, COUNT(*),
                   SUM(CASE WHEN repeat_reached THEN 1 ELSE 0 END)
              FROM {ACTIVITY} WHERE period = %s
             GROUP BY period, cohort_start, period_start""",
        [period],
    )


def _session(cursor) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        # The grouped orders of a chunk fit in memory instead of spilling to disk.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")


def _written(cursor) -> int:
    return max(cursor.rowcount, 0)


def retention_refresh(*, full: bool = False) -> RefreshResult:
    """Rebuild the retention tables (``full``, or incrementally when a previous rebuild
    exists) for both month and week periods, and record the run."""
    started = timezone.now()
    placed = Order.objects.filter(status=Order.Status.PLACED)
    with transaction.atomic(), connection.cursor() as cursor:
        _session(cursor)
        previous = RetentionRefresh.objects.order_by("-finished_at", "-pk").first()
        watermark = Order.objects.aggregate(top=Max("pk"))["top"] or 0
        incremental = not full and previous is not None
        rows = 0
        if incremental:
            changed = Order.objects.filter(pk__gt=previous.order_watermark, pk__lte=watermark).values("customer_id")
            customers = changed.distinct().count()
            for period in PERIODS:
                if customers:
                    cursor.execute(
                        f"DELETE FROM {ACTIVITY} WHERE period = %s AND customer_id IN"
                        f" (SELECT customer_id FROM {ORDERS} WHERE id > %s AND id <= %s)",
                        [period, previous.order_watermark, watermark],
                    )
                    sql, params = _activity_insert_sql(period, placed.filter(customer_id__in=Subquery(changed)))
                    cursor.execute(sql, params)
                    rows += _written(cursor)
                    _cells_rebuild(cursor, period)
        else:
            bounds = Customer.objects.aggregate(low=Min("pk"), high=Max("pk"))
            customers = Customer.objects.count()
            cursor.execute(f"DELETE FROM {ACTIVITY}")
            for period in PERIODS:
                for low in range(bounds["low"] or 0, (bounds["high"] or -1) + 1, CHUNK_CUSTOMERS):
                    chunk = placed.filter(customer_id__gte=low, customer_id__lt=low + CHUNK_CUSTOMERS)
                    sql, params = _activity_insert_sql(period, chunk)
                    cursor.execute(sql, params)
                    rows += _written(cursor)
                _cells_rebuild(cursor, period)
        mode = RetentionRefresh.Mode.INCREMENTAL if incremental else RetentionRefresh.Mode.FULL
        RetentionRefresh.objects.create(mode=mode, started_at=started, finished_at=timezone.now(),
                                        order_watermark=watermark, customers=customers, rows=rows)  # fmt: skip
    return RefreshResult(mode=str(mode), customers=customers, rows=rows, order_watermark=watermark)


def retention_refreshed_at() -> dt.datetime | None:
    """When the tables the report reads were last rebuilt (None: never)."""
    latest = RetentionRefresh.objects.order_by("-finished_at", "-pk").values_list("finished_at", flat=True).first()
    return latest
