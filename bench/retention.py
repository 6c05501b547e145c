"""Retention benchmarks on PostgreSQL (1M customers / ~10M orders).

- ``retention``:
  * the report (``reports.retention.selectors.retention_report``) monthly (12 cohorts) and
    weekly (26 cohorts) for everyone — it reads the pre-aggregated cohort cells — next to
    the hand-written SQL one would run on the raw orders for the same numbers (one grouped
    query with window functions for the cohort and the order total);
  * the same report for a segment of 100,000 customers (every tenth customer; it reads their
    rows of the per-customer activity table) next to the same hand-written SQL restricted to
    those customers;
  * the full rebuild of the retention tables (``retention_refresh(full=True)``, both periods)
    next to a hand-written ``CREATE TABLE AS`` of the same per-customer monthly and weekly
    rows;
  * the hourly rebuild after 1,000 new orders of existing customers.

Checks (the run stops if one fails): the product's cohort sizes, retained customers,
active customers and repeat customers equal the reference's, for every report timed. The
bench orders, segment and reference tables are removed afterwards and the tables rebuilt.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from bench.harness import Measurement, suite_run, timed, vacuum
from customers.models import Order
from reports.retention.cohorts import DEFAULT_COHORTS, period_index, period_of, period_start
from reports.retention.refresh import retention_refresh
from reports.retention.selectors import retention_report
from segments.models import Segment, SegmentMembership

TARGET_REPORT = "≤ 3 s"
REPEAT_PRODUCT = 7
REPEAT_REFERENCE = 3
SEGMENT_STEP = 10
NEW_ORDERS = 1_000
BENCH_PREFIX = "bench-retention-"
REFERENCE_TABLE = "bench_retention_reference"


def _window(period: str) -> tuple[int, int, dt.date, dt.date]:
    last = period_of(timezone.localdate(), period)
    first = last - DEFAULT_COHORTS[period] + 1
    return first, last, period_start(first, period), period_start(last + 1, period)


def _reference(period: str, segment_id: int | None = None) -> dict:
    """The report's numbers from the raw orders with hand-written SQL."""
    first, last, start, end = _window(period)
    segment = (
        "AND customer_id IN (SELECT customer_id FROM segments_segmentmembership"
        " WHERE segment_id = %(segment)s AND left_at IS NULL)"
        if segment_id
        else ""
    )
    sql = f"""
        WITH per_period AS (
            SELECT customer_id, date_trunc(%(unit)s, ordered_at AT TIME ZONE %(tz)s)::date AS p, count(*) AS n
              FROM customers_order
             WHERE status = 'placed' AND ordered_at < %(end)s {segment}
             GROUP BY 1, 2),
        spans AS (
            SELECT p, min(p) OVER (PARTITION BY customer_id) AS cohort,
                   sum(n) OVER (PARTITION BY customer_id) AS total
              FROM per_period)
        SELECT cohort, p, count(*), count(*) FILTER (WHERE p = cohort AND total >= 2)
          FROM spans WHERE p >= %(start)s GROUP BY 1, 2"""
    end_moment = dt.datetime.combine(end, dt.time.min, tzinfo=timezone.get_current_timezone())
    params = {"unit": period, "tz": timezone.get_current_timezone_name(), "end": end_moment, "start": start,
              "segment": segment_id}  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    count = last - first + 1
    retained = np.zeros((count, count), dtype=np.int64)
    active = np.zeros(count, dtype=np.int64)
    repeat = np.zeros(count, dtype=np.int64)
    for cohort_day, period_day, customers, repeaters in rows:
        cohort = int(period_index(pd.Series([cohort_day]), period)[0]) - first
        when = int(period_index(pd.Series([period_day]), period)[0]) - first
        active[when] += customers
        if cohort >= 0:
            retained[cohort, when - cohort] += customers
            repeat[cohort] += repeaters
    return {"sizes": retained[:, 0], "retained": retained, "active": active, "repeat": repeat}


def _check(period: str, segment_id: int | None, reference: dict) -> None:
    report = retention_report(period=period, segment_id=segment_id)
    for name, product in (("sizes", report.sizes), ("retained", report.retained), ("active", report.active),
                          ("repeat", report.repeat_customers)):  # fmt: skip
        if not np.array_equal(product, reference[name]):
            raise AssertionError(f"{period} {name}: product {product.tolist()} != reference {reference[name].tolist()}")


def _report_measurement(period: str, segment_id: int | None, label: str) -> Measurement:
    reference: dict = {}
    reference_seconds = timed(lambda: reference.update(_reference(period, segment_id)), REPEAT_REFERENCE)
    _check(period, segment_id, reference)
    product_seconds = timed(lambda: retention_report(period=period, segment_id=segment_id), REPEAT_PRODUCT)
    return Measurement(
        name=f"retention report, {label}",
        target=TARGET_REPORT,
        product_seconds=product_seconds,
        reference_seconds=reference_seconds,
        items=int(reference["sizes"].sum()),
        unit="cohort customers",
        notes=f"{DEFAULT_COHORTS[period]} {period} cohorts; reference: one grouped query over the raw orders",
    )


def _segment_create() -> int:
    Segment.objects.filter(name__startswith=BENCH_PREFIX).delete()
    segment = Segment.objects.create(name=f"{BENCH_PREFIX}every-{SEGMENT_STEP}th", kind=Segment.Kind.STATIC)
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO segments_segmentmembership (segment_id, customer_id, entered_at)
               SELECT %s, id, now() FROM customers_customer WHERE id %% %s = 0""",
            [segment.pk, SEGMENT_STEP],
        )
    vacuum("segments_segmentmembership")
    return segment.pk


def _reference_rebuild() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(f"DROP TABLE IF EXISTS {REFERENCE_TABLE}")
        parts = []
        for unit in ("month", "week"):
            parts.append(f"""
                SELECT customer_id, '{unit}' AS period, p, min(p) OVER w AS cohort, n,
                       (sum(n) OVER (w ORDER BY p ROWS UNBOUNDED PRECEDING) >= 2
                        AND sum(n) OVER (w ORDER BY p ROWS UNBOUNDED PRECEDING) - n < 2) AS repeat_reached
                  FROM (SELECT customer_id, date_trunc('{unit}', ordered_at AT TIME ZONE %(tz)s)::date AS p,
                               count(*) AS n
                          FROM customers_order WHERE status = 'placed' GROUP BY 1, 2) g
                WINDOW w AS (PARTITION BY customer_id)""")
        cursor.execute(f"CREATE TABLE {REFERENCE_TABLE} AS {' UNION ALL '.join(parts)}",
                       {"tz": timezone.get_current_timezone_name()})  # fmt: skip
        cursor.execute(f"ALTER TABLE {REFERENCE_TABLE} ADD UNIQUE (customer_id, period, p)")


def bench_retention() -> list[Measurement]:
    measurements = []
    print("  full rebuild of the retention tables", flush=True)
    product_full = timed(lambda: retention_refresh(full=True), 1)
    vacuum("reports_customerperiodactivity", "reports_cohortcell")
    reference_full = timed(_reference_rebuild, 1)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {REFERENCE_TABLE}")
        reference_rows = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM reports_customerperiodactivity")
        product_rows = cursor.fetchone()[0]
        cursor.execute(f"DROP TABLE {REFERENCE_TABLE}")
    if reference_rows != product_rows:
        raise AssertionError(f"rebuild rows: product {product_rows} != reference {reference_rows}")
    measurements.append(Measurement(
        name="retention tables, full rebuild (month + week)", target="nightly", product_seconds=product_full,
        reference_seconds=reference_full, items=product_rows, unit="rows",
        notes="reference: CREATE TABLE AS of the same rows plus its unique index",
    ))  # fmt: skip

    for period in ("month", "week"):
        print(f"  report {period}", flush=True)
        measurements.append(_report_measurement(period, None, f"{period}ly, all customers"))
    segment_id = _segment_create()
    try:
        for period in ("month", "week"):
            print(f"  report {period}, segment", flush=True)
            measurements.append(_report_measurement(period, segment_id, f"{period}ly, segment of 100,000"))
    finally:
        Segment.objects.filter(pk=segment_id).delete()
        SegmentMembership.objects.filter(segment_id=segment_id).delete()

    print(f"  hourly rebuild after {NEW_ORDERS:,} new orders", flush=True)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO customers_order (external_id, customer_id, ordered_at, total, currency, coupon_code,
                                            status, attributes)
               SELECT %s || id, id, %s, 10, '', '', 'placed', '{}'
                 FROM customers_customer ORDER BY id LIMIT %s""",
            [BENCH_PREFIX, now, NEW_ORDERS],
        )
    try:
        product_incremental = timed(lambda: retention_refresh(), 1)
        reference = _reference("month")
        _check("month", None, reference)
    finally:
        Order.objects.filter(external_id__startswith=BENCH_PREFIX).delete()
        retention_refresh(full=True)
    measurements.append(Measurement(
        name=f"retention tables, hourly rebuild after {NEW_ORDERS:,} new orders", target="hourly",
        product_seconds=product_incremental, reference_seconds=reference_full, items=NEW_ORDERS, unit="orders",
        notes="reference: the hand-written full rebuild (what one would otherwise rerun)",
    ))  # fmt: skip
    return measurements


BENCHES = {"retention": bench_retention}


def run(context: dict, only: list[str] | None = None) -> None:
    suite_run("retention", BENCHES, context, only)
