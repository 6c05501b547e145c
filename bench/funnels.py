"""Funnel benchmark on PostgreSQL.

``funnel`` times three operations, each next to a hand-written reference in the same run:

- the 4-step ordered funnel view → add_to_cart → purchase → review with a 30-day conversion
  window, entrants over the last 90 days of event data, computed by
  ``reports.funnels.selectors.funnel_report`` from the per-customer event timelines (the
  last 1 % of events are left newer than the timelines' watermark, so the statement also
  rebuilds those customers from the event table, as it does between two refreshes). The
  reference is the statement one would write by hand over the event table: a chain of
  grouped joins, one per step, with ``percentile_cont`` for the step times;
- the same funnel through the event-table path (what a funnel with step filters runs), one
  run, against the same reference;
- a full refresh of the timelines (``event_timelines_refresh(full=True)``) into an empty
  table, against a plain ``CREATE TABLE … AS SELECT customer_id, array_agg(…) … GROUP BY
  customer_id``.

Checks (the run stops if one fails): every funnel run gives the reference's customers per
step and its median, 75th and 90th percentile step times (to a microsecond); the refresh
leaves one timeline per customer with events.
"""

import datetime as dt

from django.db import connection

from bench.harness import Measurement, percentile, suite_run, timed, vacuum

REPEAT = 5
REFERENCE_TABLE = "bench_funnel_timeline_reference"
TARGET = "≤ 3 s"
STEPS = ["view", "add_to_cart", "purchase", "review"]
WINDOW = dt.timedelta(days=30)
RANGE_DAYS = 90


def _range() -> tuple[dt.datetime, dt.datetime]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(occurred_at) FROM customers_event")
        last = cursor.fetchone()[0]
    end = last + dt.timedelta(microseconds=1)
    return end - dt.timedelta(days=RANGE_DAYS), end


def product(start: dt.datetime, end: dt.datetime, *, timelines: bool = True):
    from reports.funnels.schema import Step
    from reports.funnels.selectors import funnel_report, uses_timelines

    steps = [Step(event) for event in STEPS]
    if timelines and not uses_timelines(steps):
        raise SystemExit("the timelines are not in use")
    result = funnel_report(steps=steps, window_seconds=int(WINDOW.total_seconds()), start=start, end=end,
                           timelines=timelines)  # fmt: skip
    return [(s.customers, s.median_seconds, s.p75_seconds, s.p90_seconds) for s in result.steps]


REFERENCE_SQL = """
WITH s1 AS (
    SELECT customer_id, min(occurred_at) AS t1 FROM customers_event
    WHERE type = 'view' AND occurred_at >= %(start)s AND occurred_at < %(end)s GROUP BY customer_id
), s2 AS (
    SELECT s1.customer_id, s1.t1, min(e.occurred_at) AS t2 FROM s1 JOIN customers_event e USING (customer_id)
    WHERE e.type = 'add_to_cart' AND e.occurred_at >= s1.t1 AND e.occurred_at <= s1.t1 + %(window)s
    GROUP BY s1.customer_id, s1.t1
), s3 AS (
    SELECT s2.customer_id, s2.t1, s2.t2, min(e.occurred_at) AS t3 FROM s2 JOIN customers_event e USING (customer_id)
    WHERE e.type = 'purchase' AND e.occurred_at >= s2.t2 AND e.occurred_at <= s2.t1 + %(window)s
    GROUP BY s2.customer_id, s2.t1, s2.t2
), s4 AS (
    SELECT s3.customer_id, s3.t3, min(e.occurred_at) AS t4 FROM s3 JOIN customers_event e USING (customer_id)
    WHERE e.type = 'review' AND e.occurred_at >= s3.t3 AND e.occurred_at <= s3.t1 + %(window)s
    GROUP BY s3.customer_id, s3.t1, s3.t3
)
SELECT 1, (SELECT count(*) FROM s1), NULL::float8[]
UNION ALL SELECT 2, count(*), percentile_cont(ARRAY[0.5, 0.75, 0.9])
    WITHIN GROUP (ORDER BY extract(epoch FROM t2 - t1)) FROM s2
UNION ALL SELECT 3, count(*), percentile_cont(ARRAY[0.5, 0.75, 0.9])
    WITHIN GROUP (ORDER BY extract(epoch FROM t3 - t2)) FROM s3
UNION ALL SELECT 4, count(*), percentile_cont(ARRAY[0.5, 0.75, 0.9])
    WITHIN GROUP (ORDER BY extract(epoch FROM t4 - t3)) FROM s4
ORDER BY 1
"""


def reference(start: dt.datetime, end: dt.datetime):
    with connection.cursor() as cursor:
        cursor.execute(REFERENCE_SQL, {"start": start, "end": end, "window": WINDOW})
        rows = cursor.fetchall()
    return [(count, *(times or [None, None, None])) for _step, count, times in rows]


def _check(product_figures, reference_figures) -> None:
    for number, (mine, theirs) in enumerate(zip(product_figures, reference_figures, strict=True), start=1):
        if mine[0] != theirs[0] or any(
            (a is None) != (b is None) or (a is not None and abs(a - b) > 1e-6)
            for a, b in zip(mine[1:], theirs[1:], strict=True)
        ):
            raise SystemExit(f"step {number}: product {mine} differs from reference {theirs}")


def _one(statement: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()


def _refresh_setup() -> None:
    """Every timed refresh builds the timelines from an empty table (untimed: emptying it)."""
    from reports.funnels.models import EventTimelineRefresh

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE reports_eventtimeline")
    EventTimelineRefresh.objects.all().delete()


def _refresh_full() -> None:
    from reports.funnels.services import event_timelines_refresh

    event_timelines_refresh(full=True)


def _refresh_reference() -> None:
    arrays = ", ".join(
        f"array_agg(occurred_at ORDER BY occurred_at) FILTER (WHERE type = '{name}') AS {name}"
        for name in ("view", "search", "add_to_cart", "favorite", "purchase", "review", "page")
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {REFERENCE_TABLE}")
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute(f"CREATE TABLE {REFERENCE_TABLE} AS SELECT customer_id, {arrays} FROM customers_event "
                       "GROUP BY customer_id")  # fmt: skip
        cursor.execute(f"ALTER TABLE {REFERENCE_TABLE} ADD PRIMARY KEY (customer_id)")
        cursor.execute("RESET work_mem")


def _check_refresh() -> None:
    timelines, customers = _one(
        "SELECT (SELECT count(*) FROM reports_eventtimeline), (SELECT count(DISTINCT customer_id) FROM customers_event)"
    )
    if timelines != customers:
        raise SystemExit(f"{timelines:,} timelines for {customers:,} customers with events")


def _leave_newest_events_out() -> int:
    """Set the watermark below the newest 1 % of events, as between two refreshes."""
    from reports.funnels.models import EventTimelineRefresh

    low, high = _one("SELECT min(id), max(id) FROM customers_event")
    watermark = high - (high - low) // 100
    EventTimelineRefresh.objects.filter(finished_at__isnull=False).update(max_event_id=watermark)
    return _one("SELECT count(*) FROM customers_event WHERE id > %s", [watermark])[0]


def bench_funnel(repeat: int = REPEAT) -> list[Measurement]:
    start, end = _range()
    refresh_seconds, refresh_reference_seconds = [], []
    try:
        for _ in range(2):
            refresh_seconds += timed(_refresh_full, 1, setup=_refresh_setup)
            _check_refresh()
            refresh_reference_seconds += timed(_refresh_reference, 1)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {REFERENCE_TABLE}")
    vacuum("reports_eventtimeline")
    newer = _leave_newest_events_out()
    timeline_rows, timeline_size = _one(
        "SELECT count(*), pg_size_pretty(pg_total_relation_size('reports_eventtimeline')) FROM reports_eventtimeline"
    )

    figures = {}
    product_seconds, reference_seconds = [], []
    for _ in range(repeat):  # interleaved, so both see the same machine load
        product_seconds += timed(lambda: figures.__setitem__("product", product(start, end)), 1)
        reference_seconds += timed(lambda: figures.__setitem__("reference", reference(start, end)), 1)
        _check(figures["product"], figures["reference"])
    events_seconds = timed(lambda: figures.__setitem__("events", product(start, end, timelines=False)), 1)
    _check(figures["events"], figures["reference"])

    counts = [row[0] for row in figures["product"]]
    medians = ", ".join(f"{row[1] / 3600:,.1f} h" for row in figures["product"][1:] if row[1] is not None)
    events = _one("SELECT count(*) FROM customers_event WHERE occurred_at >= %s AND occurred_at < %s",
                  [start, end + WINDOW])[0]  # fmt: skip
    pairs = ", ".join(f"{p:.2f} / {r:.2f}" for p, r in zip(product_seconds, reference_seconds, strict=True))
    funnel = (
        f"view → add_to_cart → purchase → review, 30-day window, entrants {start:%Y-%m-%d} to {end:%Y-%m-%d} "
        f"({RANGE_DAYS} days; {events:,} events in the range); customers per step "
        f"{' / '.join(f'{count:,}' for count in counts)}; median step times {medians}; product and reference "
        f"agree on counts and percentiles every run"
    )
    return [
        Measurement(
            name="4-step funnel, 30-day window, 90 days of entrants (funnel_report, timelines)",
            target=TARGET,
            product_seconds=product_seconds,
            reference_seconds=reference_seconds,
            items=counts[0],
            unit="entrants",
            notes=(
                f"{funnel}; timelines: {timeline_rows:,} rows, {timeline_size}; the newest {newer:,} events "
                f"(1 %) left above the watermark and read from the event table in the same statement; reference: "
                f"hand-written CTE chain over the event table with percentile_cont, p95 "
                f"{percentile(reference_seconds, 95):.2f} s; runs (product / reference, s): {pairs}"
            ),
            extra={"customers_per_step": counts, "figures": figures["product"]},
        ),
        Measurement(
            name="the same funnel from the event table (funnel_report, timelines=False; steps with filters)",
            target="",
            product_seconds=events_seconds,
            reference_seconds=reference_seconds,
            items=counts[0],
            unit="entrants",
            notes=f"{funnel}; one run; reference as above (median of its runs)",
        ),
        Measurement(
            name="full refresh of the event timelines (event_timelines_refresh(full=True))",
            target="",
            product_seconds=refresh_seconds,
            reference_seconds=refresh_reference_seconds,
            items=timeline_rows,
            unit="customers",
            notes=(
                "from an empty table: upsert of one row per customer with events (array_agg per event type) into "
                "reports_eventtimeline (primary key), then removal of customers without events; reference: "
                "CREATE TABLE AS the same GROUP BY into a fresh table + primary key; 2 runs each, interleaved"
            ),
        ),
    ]


BENCHES = {"funnel": bench_funnel}


def run(context: dict, only: list[str] | None = None) -> None:
    suite_run("funnels", BENCHES, context, only)
