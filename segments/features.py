"""Set-based SQL that refreshes the customer feature table, on SQLite and PostgreSQL.

1. ``score_thresholds`` once per run: one query over the placed orders gives the global
   nearest-rank cut points of the RFM quintiles and the consumption tiers.
2. ``refresh_range`` per customer-id range, so any number of workers share a run: one
   ``WITH ... INSERT ... SELECT ... ON CONFLICT DO UPDATE`` that joins per-customer
   aggregates of orders, order lines + products, events and reviews (aggregate ``FILTER``
   clauses for the windows) and turns recency / frequency / monetary into scores, the
   named segment and the tier with the thresholds of step 1 (query parameters).

The reference time and the window starts are query parameters, so the SQL uses no date
arithmetic; the few dialect differences (days between two timestamps, building a JSON
array, planner memory) are in ``_Dialect``. Windows are closed: an order exactly 30 days
before ``as_of`` is in the 30-day window; rows after ``as_of`` are ignored, so a refresh
with an old ``as_of`` reproduces the features as they were then (point in time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from customers.models import EventType
from segments.models import FEATURE_WINDOWS, ORDER_WINDOWS, CustomerFeatures
from segments.rfm import QUINTILES, RFM_GRID, TIER_SHARES

FEATURES_TABLE = CustomerFeatures._meta.db_table
EVENT_TYPES = [value for value, _label in EventType.choices]
# Purchase-intent weights of the interest score.
INTEREST_WEIGHTS = {EventType.ADD_TO_CART.value: 3, EventType.FAVORITE.value: 2, EventType.VIEW.value: 1}
INTEREST_TOP = 3
INTEREST_DAYS = 90


@dataclass(frozen=True)
class _Dialect:
    """Everything that differs between SQLite and PostgreSQL in the refresh SQL."""

    days_between: str  # format with {later} and {earlier}: whole days elapsed
    json_array: str
    order_lines: str  # joins the lines ``l`` of the orders ``o``
    session_setup: tuple[str, ...]


_SQLITE = _Dialect(
    # julianday is a float of days; round to the millisecond before the integer division.
    days_between="(CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400000) AS INTEGER) / 86400000)",
    json_array="json_array",
    order_lines="JOIN customers_orderline l ON l.order_id = o.id",
    session_setup=(),
)
_POSTGRES = _Dialect(
    days_between="CAST(FLOOR(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400) AS INTEGER)",
    json_array="jsonb_build_array",
    # An index lookup per order of the range (OFFSET 0 keeps the planner from turning it
    # into a hash join that scans every order line of the shop once per range).
    order_lines="CROSS JOIN LATERAL (SELECT product_id, quantity FROM customers_orderline"
    " WHERE order_id = o.id OFFSET 0) l",
    # The per-(customer, category) hash aggregates of a range fit in memory instead of
    # spilling; JIT compiling this wide statement costs more than it saves.
    session_setup=("SET LOCAL work_mem = '256MB'", "SET LOCAL jit = off"),
)


def _dialect() -> _Dialect:
    return _POSTGRES if connection.vendor == "postgresql" else _SQLITE


def _rows_written(cursor) -> int:
    """Rows changed by the last statement: Python's sqlite3 reports -1 for statements
    that start with WITH, so SQLite is asked directly."""
    if connection.vendor == "sqlite":
        cursor.execute("SELECT changes()")
        return cursor.fetchone()[0]
    return cursor.rowcount


def _db_time(value: dt.datetime) -> Any:
    """A datetime as the backend stores it (SQLite compares naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


def window_params(as_of: dt.datetime) -> dict[str, Any]:
    """The reference time and the start of every window, as query parameters."""
    params: dict[str, Any] = {"as_of": _db_time(as_of)}
    for days in sorted({*ORDER_WINDOWS, *FEATURE_WINDOWS, INTEREST_DAYS}):
        params[f"since_{days}d"] = _db_time(as_of - dt.timedelta(days=days))
    return params


# --- pass 1: aggregates -------------------------------------------------------------------

FEATURE_COLUMNS: list[str] = [
    "as_of",
    "computed_at",
    "recency_days",
    "frequency",
    "monetary",
    *[f"{kind}_{days}d" for days in ORDER_WINDOWS for kind in ("frequency", "monetary")],
    "avg_order_value",
    "first_order_at",
    "last_order_at",
    "favourite_category",
    "favourite_brand",
    *[f"{event_type}_count_{days}d" for event_type in EVENT_TYPES for days in FEATURE_WINDOWS],
    "review_count",
    "avg_rating",
    "coupon_order_share",
    "interest_categories",
]
SCORE_COLUMNS = ["r_score", "f_score", "m_score", "rfm_segment", "consumption_tier"]


@dataclass(frozen=True)
class CustomerScope:
    """Which customers of a range a statement refreshes: all of them (full refresh) or
    only those with rows newer than the previous run's id watermarks (incremental)."""

    low: int
    high: int
    since_order_id: int | None = None
    since_event_id: int | None = None
    since_review_id: int | None = None
    since: Any = None

    @property
    def incremental(self) -> bool:
        return self.since_order_id is not None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.incremental:
            params |= {
                "since_order_id": self.since_order_id,
                "since_event_id": self.since_event_id,
                "since_review_id": self.since_review_id,
                "since": _db_time(self.since),
            }
        return params


_SCOPE_CTE = """
scope AS (
    SELECT customer_id FROM customers_order
     WHERE id > %(since_order_id)s AND customer_id >= %(low)s AND customer_id < %(high)s
    UNION
    SELECT customer_id FROM customers_event
     WHERE id > %(since_event_id)s AND customer_id >= %(low)s AND customer_id < %(high)s
    UNION
    SELECT customer_id FROM customers_review
     WHERE id > %(since_review_id)s AND customer_id >= %(low)s AND customer_id < %(high)s
    UNION
    SELECT c.id FROM customers_customer c
     WHERE c.id >= %(low)s AND c.id < %(high)s
       AND (c.updated_at > %(since)s
            OR NOT EXISTS (SELECT 1 FROM {features} f WHERE f.customer_id = c.id))
),"""


def _score_expression(column: str, cuts: str, compare: str) -> str:
    """1 + the number of quintile cuts the value beats (see segments.rfm.score_from_cuts)."""
    return (
        "(1 + " + " + ".join(f"CASE WHEN {column} {compare} %({cuts}{i})s THEN 1 ELSE 0 END" for i in range(1, 5)) + ")"
    )


def threshold_params(thresholds: dict[str, Any] | None) -> dict[str, Any]:
    """Score cut points as query parameters (zeros when nobody has ordered yet)."""
    thresholds = thresholds or {"recency": [0] * 4, "frequency": [0] * 4, "monetary": [0] * 4, "tier": {}}
    params: dict[str, Any] = {}
    for i in range(4):
        params[f"r{i + 1}"] = thresholds["recency"][i]
        params[f"f{i + 1}"] = thresholds["frequency"][i]
        params[f"m{i + 1}"] = thresholds["monetary"][i]
    params["tier_high"] = thresholds["tier"].get("high", 0)
    params["tier_mid"] = thresholds["tier"].get("mid", 0)
    return params


def _in_scope(column: str, scope: CustomerScope) -> str:
    condition = f"{column} >= %(low)s AND {column} < %(high)s"
    if scope.incremental:
        condition += f" AND {column} IN (SELECT customer_id FROM scope)"
    return condition


def _refresh_sql(scope: CustomerScope) -> str:
    dialect = _dialect()
    order_windows = ",\n".join(
        f"        COUNT(*) FILTER (WHERE o.ordered_at >= %(since_{d}d)s) AS frequency_{d}d,\n"
        f"        COALESCE(SUM(o.total) FILTER (WHERE o.ordered_at >= %(since_{d}d)s), 0) AS monetary_{d}d"
        for d in ORDER_WINDOWS
    )
    event_counts = ",\n".join(
        f"        COUNT(*) FILTER (WHERE e.type = '{t}' AND e.occurred_at >= %(since_{d}d)s) AS {t}_count_{d}d"
        for t in EVENT_TYPES
        for d in FEATURE_WINDOWS
    )
    event_count_sums = ",\n".join(
        f"        SUM({t}_count_{d}d) AS {t}_count_{d}d" for t in EVENT_TYPES for d in FEATURE_WINDOWS
    )
    interest_weight = " ".join(f"WHEN '{t}' THEN {w}" for t, w in INTEREST_WEIGHTS.items())
    interest_types = ", ".join(f"'{t}'" for t in INTEREST_WEIGHTS)
    json_array = dialect.json_array
    recency = dialect.days_between.format(later="%(as_of)s", earlier="o.last_order_at")
    insert_columns = ", ".join(["customer_id", *FEATURE_COLUMNS])
    updates = ",\n    ".join(f"{column} = excluded.{column}" for column in [*FEATURE_COLUMNS, *SCORE_COLUMNS])
    r = _score_expression("recency_days", "r", "<")
    f = _score_expression("frequency", "f", ">")
    m = _score_expression("monetary", "m", ">")
    # The grid of segments.rfm keyed by r * 10 + fm, fm = (f + m) // 2 as in rfm.fm_score.
    grid = " ".join(
        f"WHEN {r_score * 10 + fm} THEN '{RFM_GRID[r_score - 1][fm - 1].value}'"
        for r_score in range(1, 6)
        for fm in range(1, 6)
    )
    event_select = ",\n".join(f"    COALESCE(ea.{t}_count_{d}d, 0)" for t in EVENT_TYPES for d in FEATURE_WINDOWS)
    order_window_select = ",\n".join(
        f"    COALESCE(o.frequency_{d}d, 0), COALESCE(o.monetary_{d}d, 0)" for d in ORDER_WINDOWS
    )
    scope_cte = _SCOPE_CTE.format(features=FEATURES_TABLE) if scope.incremental else ""
    return f"""
WITH {scope_cte}
orders AS (
    SELECT o.customer_id,
        COUNT(*) AS frequency,
        SUM(o.total) AS monetary,
{order_windows},
        MIN(o.ordered_at) AS first_order_at,
        MAX(o.ordered_at) AS last_order_at,
        COUNT(*) FILTER (WHERE o.coupon_code <> '') AS coupon_orders
    FROM customers_order o
    WHERE {_in_scope("o.customer_id", scope)} AND o.status = 'placed' AND o.ordered_at <= %(as_of)s
    GROUP BY o.customer_id
),
bought_products AS (
    SELECT o.customer_id, l.product_id, SUM(l.quantity) AS quantity
    FROM customers_order o
    {dialect.order_lines}
    WHERE {_in_scope("o.customer_id", scope)} AND o.status = 'placed' AND o.ordered_at <= %(as_of)s
    GROUP BY o.customer_id, l.product_id
),
bought AS (
    SELECT b.customer_id, p.category, p.brand, b.quantity
    FROM bought_products b JOIN customers_product p ON p.id = b.product_id
),
category_rank AS (
    SELECT customer_id, category,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY SUM(quantity) DESC, category) AS rank_in_customer
    FROM bought WHERE category <> '' GROUP BY customer_id, category
),
brand_rank AS (
    SELECT customer_id, brand,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY SUM(quantity) DESC, brand) AS rank_in_customer
    FROM bought WHERE brand <> '' GROUP BY customer_id, brand
),
event_categories AS (
    SELECT e.customer_id, e.category,
{event_counts},
        SUM(CASE WHEN e.type IN ({interest_types}) THEN CASE e.type {interest_weight} END ELSE 0 END) AS interest
    FROM customers_event e
    WHERE {_in_scope("e.customer_id", scope)}
      AND e.occurred_at >= %(since_{INTEREST_DAYS}d)s AND e.occurred_at <= %(as_of)s
    GROUP BY e.customer_id, e.category
),
event_counts AS (
    SELECT customer_id,
{event_count_sums}
    FROM event_categories GROUP BY customer_id
),
interest_rank AS (
    SELECT customer_id, category,
        ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY interest DESC, category) AS rank_in_customer
    FROM event_categories WHERE category <> '' AND interest > 0
),
interests AS (
    SELECT customer_id,
        MAX(CASE WHEN rank_in_customer = 1 THEN category END) AS interest_1,
        MAX(CASE WHEN rank_in_customer = 2 THEN category END) AS interest_2,
        MAX(CASE WHEN rank_in_customer = 3 THEN category END) AS interest_3
    FROM interest_rank WHERE rank_in_customer <= {INTEREST_TOP} GROUP BY customer_id
),
reviews AS (
    SELECT r.customer_id, COUNT(*) AS review_count, AVG(r.rating) AS avg_rating
    FROM customers_review r
    WHERE {_in_scope("r.customer_id", scope)} AND r.created_at <= %(as_of)s
    GROUP BY r.customer_id
),
computed ({insert_columns}) AS (
SELECT c.id,
    %(as_of)s,
    %(computed_at)s,
    CASE WHEN o.last_order_at IS NULL THEN NULL ELSE {recency} END,
    COALESCE(o.frequency, 0),
    COALESCE(o.monetary, 0),
{order_window_select},
    o.monetary / o.frequency,
    o.first_order_at,
    o.last_order_at,
    COALESCE(fc.category, ''),
    COALESCE(fb.brand, ''),
{event_select},
    COALESCE(rv.review_count, 0),
    rv.avg_rating,
    1.0 * o.coupon_orders / o.frequency,
    CASE WHEN i.interest_1 IS NULL THEN {json_array}()
         WHEN i.interest_2 IS NULL THEN {json_array}(i.interest_1)
         WHEN i.interest_3 IS NULL THEN {json_array}(i.interest_1, i.interest_2)
         ELSE {json_array}(i.interest_1, i.interest_2, i.interest_3) END
FROM customers_customer c
LEFT JOIN orders o ON o.customer_id = c.id
LEFT JOIN category_rank fc ON fc.customer_id = c.id AND fc.rank_in_customer = 1
LEFT JOIN brand_rank fb ON fb.customer_id = c.id AND fb.rank_in_customer = 1
LEFT JOIN event_counts ea ON ea.customer_id = c.id
LEFT JOIN interests i ON i.customer_id = c.id
LEFT JOIN reviews rv ON rv.customer_id = c.id
WHERE {_in_scope("c.id", scope)}
)
INSERT INTO {FEATURES_TABLE} ({insert_columns}, {", ".join(SCORE_COLUMNS)})
SELECT {insert_columns},
    CASE WHEN frequency > 0 THEN {r} END,
    CASE WHEN frequency > 0 THEN {f} END,
    CASE WHEN frequency > 0 THEN {m} END,
    CASE WHEN frequency > 0 THEN CASE {r} * 10 + ({f} + {m}) / 2 {grid} END ELSE '' END,
    CASE WHEN frequency = 0 THEN ''
        WHEN monetary >= %(tier_high)s THEN 'high' WHEN monetary >= %(tier_mid)s THEN 'mid' ELSE 'low' END
FROM computed
WHERE TRUE
ON CONFLICT (customer_id) DO UPDATE SET
    {updates}
"""


def refresh_range(
    *, scope: CustomerScope, as_of: dt.datetime, computed_at: dt.datetime, thresholds: dict[str, Any] | None
) -> int:
    """Upsert the features and scores of the customers in ``scope``; returns the rows
    written. Idempotent: the same ``as_of`` and thresholds write the same values."""
    params = window_params(as_of) | scope.params() | threshold_params(thresholds)
    params["computed_at"] = _db_time(computed_at)
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in _dialect().session_setup:
            cursor.execute(statement)
        cursor.execute(_refresh_sql(scope), params)
        return _rows_written(cursor)


# --- score thresholds: one query over all buyers, before the ranges ---------------------------


def _position(share: float) -> str:
    """SQL for ceil(share * n) in integers (nearest-rank percentile position)."""
    return f"(({round(share * 1000)} * n + 999) / 1000)"


def score_thresholds(*, as_of: dt.datetime) -> dict[str, Any] | None:
    """Nearest-rank cut points over every customer with a placed order up to ``as_of``,
    from the orders themselves in one query, so that the range statements can write the
    scores in the same upsert (a second UPDATE of every wide feature row cost more than
    the range pass itself at 1M customers): recency quintiles (days sorted descending),
    frequency and monetary quintiles (ascending) and the consumption-tier boundaries
    (monetary descending). None when nobody has ordered; values are JSON-safe."""
    picks = []
    for i, share in enumerate(QUINTILES, start=1):
        position = _position(share)
        picks += [
            f"MAX(CASE WHEN by_recency = {position} THEN recency_days END) AS r{i}",
            f"MAX(CASE WHEN by_frequency = {position} THEN frequency END) AS f{i}",
            f"MAX(CASE WHEN by_monetary = {position} THEN monetary END) AS m{i}",
        ]
    for tier, share in TIER_SHARES.items():
        picks.append(f"MAX(CASE WHEN by_spend = {_position(share)} THEN monetary END) AS tier_{tier}")
    recency = _dialect().days_between.format(later="%(as_of)s", earlier="last_order_at")
    sql = f"""
WITH buyers AS (
    SELECT customer_id, MAX(ordered_at) AS last_order_at, COUNT(*) AS frequency, SUM(total) AS monetary
    FROM customers_order WHERE status = 'placed' AND ordered_at <= %(as_of)s
    GROUP BY customer_id
),
ranked AS (
    SELECT {recency} AS recency_days, frequency, monetary,
        ROW_NUMBER() OVER (ORDER BY last_order_at) AS by_recency,
        ROW_NUMBER() OVER (ORDER BY frequency) AS by_frequency,
        ROW_NUMBER() OVER (ORDER BY monetary) AS by_monetary,
        ROW_NUMBER() OVER (ORDER BY monetary DESC) AS by_spend,
        COUNT(*) OVER () AS n
    FROM buyers
)
SELECT MAX(n) AS buyers, {", ".join(picks)} FROM ranked
"""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in _dialect().session_setup:
            cursor.execute(statement)
        cursor.execute(sql, {"as_of": _db_time(as_of)})
        names = [column[0] for column in cursor.description]
        row = dict(zip(names, cursor.fetchone(), strict=True))
    if not row["buyers"]:
        return None
    return {
        "buyers": int(row["buyers"]),
        "recency": [int(row[f"r{i}"]) for i in range(1, 5)],
        "frequency": [int(row[f"f{i}"]) for i in range(1, 5)],
        # Sums of 2-decimal amounts; compared as numbers by both databases.
        "monetary": [_money(row[f"m{i}"]) for i in range(1, 5)],
        "tier": {tier: _money(row[f"tier_{tier}"]) for tier in TIER_SHARES},
    }


def _money(value: Any) -> float:
    return round(float(value), 2)
