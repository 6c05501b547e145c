"""Overview dashboard benchmark on PostgreSQL.

- ``dashboard``: the aggregates are refreshed once in full (``dashboard_refresh(full=True)``:
  the daily sales table from every placed order, and a snapshot of the other figures), then
  ``GET /reports/`` is timed ``REQUESTS`` times through Django's test client as a signed-in
  user (the whole request: URL routing, session, permission check, the reads of the
  pre-aggregated tables, template rendering). The reference is hand-written SQL that
  computes the same figures straight from the raw tables on each request (customers,
  active customers, repurchase rate, 90 days of sales with new buyers, the 30-day revenue
  comparison, churn-risk histogram, largest segments, the ten newest campaigns' ROI, NPS
  and review sentiment by month) — what a dashboard without pre-aggregation would run.
  The figures of the page and of the reference are compared; the run stops if they differ.
- The refreshes are timed too: the full one (on demand / nightly) and the incremental one
  (every 10 minutes: the last three days of sales and a new snapshot), each next to the
  hand-written SQL for the same figures.

Only the dashboard's own tables (``reports_dailysales``, ``reports_dailysalesrefresh``,
``reports_dashboardsnapshot``) and one bench user are written.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from bench.harness import Measurement, percentile, suite_run, timed

REQUESTS = 20
REFERENCE_RUNS = 3
REFRESH_RUNS = 2
TARGET = "p95 ≤ 1 s"


def _rows(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def reference_figures(*, as_of: dt.datetime, today: dt.date, since_day: dt.date | None) -> dict:
    """Every dashboard figure by hand-written SQL over the raw tables. ``since_day``: the
    first day of sales to compute (None: every day)."""
    tz = timezone.get_default_timezone_name()
    figures: dict = {}
    figures["customers"] = _rows("SELECT count(*) FROM customers_customer")[0][0]
    figures["active_customers"] = _rows(
        "SELECT count(*) FROM (SELECT customer_id FROM customers_order WHERE status = 'placed'"
        " AND ordered_at > %(since)s AND ordered_at <= %(as_of)s UNION SELECT customer_id FROM customers_event"
        " WHERE occurred_at > %(since)s AND occurred_at <= %(as_of)s) a",
        {"since": as_of - dt.timedelta(days=30), "as_of": as_of},
    )[0][0]
    buyers, repeat = _rows(
        "SELECT count(*), count(*) FILTER (WHERE n >= 2) FROM (SELECT customer_id, count(*) AS n"
        " FROM customers_order WHERE status = 'placed' GROUP BY customer_id) b"
    )[0]
    figures |= {"buyers": buyers, "repeat_buyers": repeat}
    start = (
        None
        if since_day is None
        else dt.datetime.combine(since_day, dt.time.min, tzinfo=timezone.get_default_timezone())
    )
    where = "" if start is None else "AND ordered_at >= %(start)s"
    having = "" if start is None else "HAVING min(ordered_at) >= %(start)s"
    days = {
        day: [orders, revenue, buyers_of_day, 0]
        for day, orders, revenue, buyers_of_day in _rows(
            f"SELECT (ordered_at AT TIME ZONE %(tz)s)::date, count(*), sum(total), count(DISTINCT customer_id)"
            f" FROM customers_order WHERE status = 'placed' {where} GROUP BY 1",
            {"tz": tz, "start": start},
        )
    }
    for day, new in _rows(
        f"SELECT (first_at AT TIME ZONE %(tz)s)::date, count(*) FROM (SELECT customer_id, min(ordered_at) AS first_at"
        f" FROM customers_order WHERE status = 'placed' GROUP BY customer_id {having}) f GROUP BY 1",
        {"tz": tz, "start": start},
    ):
        days.setdefault(day, [0, Decimal(0), 0, 0])[3] = new
    figures["days"] = days
    figures["churn"] = dict(
        _rows(
            "SELECT LEAST(floor(churn_risk * 10), 9)::int, count(*) FROM segments_customerfeatures"
            " WHERE churn_risk IS NOT NULL GROUP BY 1"
        )
    )
    figures["segments"] = [r[0] for r in _rows("SELECT id FROM segments_segment ORDER BY size DESC, name, id LIMIT 8")]
    figures["campaigns"] = _rows(
        "WITH c AS (SELECT id, fixed_cost, cost_per_message, launched_at FROM campaigns_campaign"
        " WHERE launched_at IS NOT NULL ORDER BY launched_at DESC, id DESC LIMIT 10)"
        " SELECT c.id, s.sent, coalesce(v.revenue, 0), c.fixed_cost + c.cost_per_message * s.sent"
        " FROM c CROSS JOIN LATERAL (SELECT count(*) AS sent FROM campaigns_message m"
        "   WHERE m.campaign_id = c.id AND m.status = 'sent') s"
        " LEFT JOIN LATERAL (SELECT sum(revenue) AS revenue FROM campaigns_conversion v"
        "   WHERE v.campaign_id = c.id AND v.basis <> 'holdout') v ON true ORDER BY c.launched_at DESC, c.id DESC"
    )
    months_ago = today.year * 12 + today.month - 1 - 11  # the 12th month back, the current one included
    first_month = dt.datetime(months_ago // 12, months_ago % 12 + 1, 1, tzinfo=timezone.get_default_timezone())
    figures["nps"] = _rows(
        "SELECT date_trunc('month', r.updated_at AT TIME ZONE %(tz)s)::date AS month,"
        " count(*) FILTER (WHERE a.number >= 9), count(*) FILTER (WHERE a.number <= 6), count(*)"
        " FROM surveys_answer a JOIN surveys_question q ON q.id = a.question_id"
        " JOIN surveys_response r ON r.id = a.response_id"
        " WHERE q.kind = 'nps' AND a.number IS NOT NULL AND r.updated_at >= %(start)s GROUP BY 1 ORDER BY 1",
        {"tz": tz, "start": first_month},
    )
    figures["sentiment"] = _rows(
        "SELECT date_trunc('month', created_at AT TIME ZONE %(tz)s)::date, count(*), avg(score)"
        " FROM analytics_scoredtext WHERE source = 'review' AND created_at >= %(start)s GROUP BY 1 ORDER BY 1",
        {"tz": tz, "start": first_month},
    )
    return figures


def _check(data: dict, reference: dict) -> list[str]:
    """Differences between the page's figures and the reference's (empty when they agree)."""
    problems = []
    for name in ("customers", "active_customers", "buyers", "repeat_buyers"):
        if data[name] != reference[name]:
            problems.append(f"{name}: page {data[name]}, reference {reference[name]}")
    for row in data["daily"]:
        expected = reference["days"].get(row["day"], [0, Decimal(0), 0, 0])
        got = [row["orders"], row["revenue"], row["buyers"], row["new_buyers"]]
        if [got[0], Decimal(got[1]), got[2], got[3]] != [expected[0], Decimal(expected[1] or 0), *expected[2:]]:
            problems.append(f"{row['day']}: page {got}, reference {expected}")
    revenue = sum(
        (Decimal(v[1] or 0) for d, v in reference["days"].items() if d >= data["revenue"]["current_start"]), Decimal(0)
    )
    if revenue != data["revenue"]["current_revenue"]:
        problems.append(f"30-day revenue: page {data['revenue']['current_revenue']}, reference {revenue}")
    churn = [row["customers"] for row in data["churn_risk"]]
    if churn != [reference["churn"].get(i, 0) for i in range(10)]:
        problems.append(f"churn histogram: page {churn}, reference {reference['churn']}")
    if [row["id"] for row in data["segments"]] != reference["segments"]:
        problems.append("largest segments differ")
    page_campaigns = [
        (row["id"], row["sent"], Decimal(row["revenue"]), Decimal(row["cost"])) for row in data["campaigns"]
    ]
    if page_campaigns != [(i, s, Decimal(r), Decimal(c)) for i, s, r, c in reference["campaigns"]]:
        problems.append(f"campaigns: page {page_campaigns}, reference {reference['campaigns']}")
    nps = {row["month"]: row["responses"] for row in data["nps"] if row["responses"]}
    if nps != {month: total for month, _, _, total in reference["nps"]}:
        problems.append("NPS responses per month differ")
    reviews = {row["month"]: row["reviews"] for row in data["sentiment"] if row["reviews"]}
    if reviews != {month: total for month, total, _ in reference["sentiment"]}:
        problems.append("reviews per month differ")
    return problems


def _bench_client() -> Client:
    user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
    client = Client()
    client.force_login(user)
    return client


def bench_dashboard() -> list[Measurement]:
    from reports.dashboard.api import dashboard_data
    from reports.dashboard.selectors import dashboard_overview
    from reports.dashboard.services import INCREMENTAL_DAYS, dashboard_refresh

    results = []
    full_runs = []
    for _ in range(REFRESH_RUNS):
        started = time.perf_counter()
        result = dashboard_refresh(full=True)
        full_runs.append((time.perf_counter() - started, result.sales_seconds, result.snapshot_seconds))
    snapshot = result.snapshot
    today = timezone.localdate(snapshot.as_of, timezone.get_default_timezone())
    chart_start = today - dt.timedelta(days=89)

    client = _bench_client()
    with override_settings(DEBUG=False):  # as in production: no query log
        response = client.get("/reports/")
        if response.status_code != 200:
            raise SystemExit(f"GET /reports/ answered {response.status_code}")
        page_seconds = timed(lambda: client.get("/reports/"), REQUESTS)
        api_seconds = timed(lambda: client.get("/api/reports/dashboard/"), 5)

    reference_seconds = timed(
        lambda: reference_figures(as_of=snapshot.as_of, today=today, since_day=chart_start), REFERENCE_RUNS
    )
    reference = reference_figures(as_of=snapshot.as_of, today=today, since_day=chart_start)
    data = dashboard_data(dashboard_overview())
    problems = _check(data, reference)
    if problems:
        raise SystemExit("dashboard figures differ from the reference:\n  " + "\n  ".join(problems[:20]))

    queries = _query_count(client)
    days_with_sales = sum(1 for row in data["daily"] if row["orders"])
    results.append(
        Measurement(
            name="dashboard page GET /reports/ (test client, signed in)",
            target=TARGET,
            product_seconds=page_seconds,
            reference_seconds=reference_seconds,
            notes=(
                f"{REQUESTS} requests after one full refresh; {queries} SQL queries per request; API "
                f"GET /api/reports/dashboard/ median {sorted(api_seconds)[len(api_seconds) // 2] * 1000:,.1f} ms; "
                f"reference: hand-written SQL for the same figures from the raw tables ({REFERENCE_RUNS} runs, "
                f"p95 {percentile(reference_seconds, 95):,.2f} s), figures checked equal (customers "
                f"{data['customers']:,}, active {data['active_customers']:,}, buyers {data['buyers']:,}, repeat "
                f"{data['repeat_buyers']:,}, {days_with_sales} of 90 days with sales, {data['churn_scored'] or 0:,} "
                f"churn scores, {len(data['segments'])} segments, {len(data['campaigns'])} campaigns)"
            ),
        )
    )

    all_days_reference = timed(lambda: reference_figures(as_of=snapshot.as_of, today=today, since_day=None), 1)
    results.append(
        Measurement(
            name="dashboard full refresh (daily sales from every order + snapshot)",
            target="on demand / nightly",
            product_seconds=[total for total, _, _ in full_runs],
            reference_seconds=all_days_reference,
            notes=(
                "runs (total = daily sales + snapshot, s): "
                + ", ".join(f"{t:.1f} = {s:.1f} + {n:.1f}" for t, s, n in full_runs)
                + "; reference: the hand-written SQL for every day and every snapshot figure"
            ),
        )
    )

    incremental_runs = []
    for _ in range(REFRESH_RUNS):
        started = time.perf_counter()
        result = dashboard_refresh(full=False)
        incremental_runs.append((time.perf_counter() - started, result.sales_seconds, result.snapshot_seconds))
    since = today - dt.timedelta(days=INCREMENTAL_DAYS - 1)
    incremental_reference = timed(lambda: reference_figures(as_of=snapshot.as_of, today=today, since_day=since), 1)
    results.append(
        Measurement(
            name=f"dashboard incremental refresh (last {INCREMENTAL_DAYS} days of sales + snapshot)",
            target="every 10 minutes",
            product_seconds=[total for total, _, _ in incremental_runs],
            reference_seconds=incremental_reference,
            notes=(
                "runs (total = daily sales + snapshot, s): "
                + ", ".join(f"{t:.1f} = {s:.2f} + {n:.1f}" for t, s, n in incremental_runs)
                + f"; reference: the hand-written SQL for the last {INCREMENTAL_DAYS} days and every snapshot figure"
            ),
        )
    )
    return results


def _query_count(client: Client) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get("/reports/")
    return len(captured.captured_queries)


BENCHES = {"dashboard": bench_dashboard}


def run(context: dict, only: list[str] | None = None) -> None:
    suite_run("dashboard", BENCHES, context | {"time zone": timezone.get_default_timezone_name()}, only)
