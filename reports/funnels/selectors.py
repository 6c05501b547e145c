"""Reads for funnels: one SQL statement finds every entrant's step times, set-based.

Semantics (an ordered funnel with "first occurrence after the previous step", the default of
Mixpanel's and PostHog's ordered funnels):

- A customer *enters* with their first qualifying step-1 event in the date range
  [start, end). Their conversion window closes ``window`` after that event (inclusive).
- Step k's event is the customer's first qualifying step-k event at or after the event
  chosen for step k − 1 and no later than the window's close. Later steps may fall after
  the date range's end (only entering is bound to the range).
- One event never counts for two steps: if an earlier step has the same event type, step
  k's event must be strictly later than that step's event.
- Step-to-step time is the time between the events chosen for consecutive steps.
- With a segment, only its current members (``left_at`` empty) can enter.

Two ways to the same numbers (the tests hold both to a hand computation):

- *Timelines* (PostgreSQL, no step filters, after a first ``event_timelines_refresh``): one
  scan of ``EventTimeline`` — per customer, the sorted times of each event type — where each
  step is a binary search in the row (``width_bucket``). Customers with events newer than the
  last refresh are rebuilt from the event table in the same statement, so nothing lags.
- *Events* (SQLite, or a step with filters): a chain of CTEs, one per step: step 1 groups the
  qualifying events in the range per customer, step k joins step k − 1's customers to their
  qualifying step-k events within the window (index ``event_customer_type_time_idx``).

On PostgreSQL the counts and percentiles are aggregated in the statement
(``percentile_cont``); on SQLite the per-customer seconds come back and NumPy aggregates them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from customers.models import Event
from reports.funnels.compute import FunnelResult, funnel_compute, step_time_percentiles
from reports.funnels.models import EventTimeline, EventTimelineRefresh
from reports.funnels.schema import FILTERS, Step, step_label
from segments.models import SegmentMembership

EVENTS = Event._meta.db_table
MEMBERS = SegmentMembership._meta.db_table
TIMELINES = EventTimeline._meta.db_table
DEFAULT_RANGE_DAYS = 30
MICROSECOND = dt.timedelta(microseconds=1)


def _time(value: dt.datetime) -> str:
    return connection.ops.adapt_datetimefield_value(value)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _plus_seconds(column: str) -> str:
    """SQL for ``column`` plus a number of seconds given as the next parameter (microseconds
    on SQLite, where Django's own date arithmetic function does it exactly)."""
    if _postgres():
        return f"{column} + %s * interval '1 second'"
    return f"django_format_dtdelta('+', {column}, %s)"


def _seconds_between(later: str, earlier: str) -> str:
    if _postgres():
        return f"date_part('epoch', {later} - {earlier})"  # double precision: quicker to sort than numeric
    return f"django_timestamp_diff({later}, {earlier}) / 1000000.0"


def _window_param(seconds: int) -> int:
    return seconds if _postgres() else seconds * 1_000_000


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _members_clause(column: str, segment_id: int | None) -> tuple[str, list]:
    if segment_id is None:
        return "", []
    return (f" AND {column} IN (SELECT m.customer_id FROM {MEMBERS} m WHERE m.segment_id = %s AND m.left_at IS NULL)",
            [segment_id])  # fmt: skip


def _step_conditions(step: Step) -> tuple[list[str], list]:
    """WHERE clauses (on alias ``e``) for one step's event type and filters."""
    clauses, params = ["e.type = %s"], [step.event]
    if step.sku:
        clauses.append("e.sku = %s")
        params.append(step.sku)
    if step.category:
        clauses.append("e.category = %s")
        params.append(step.category)
    if step.query_contains:
        clauses.append("upper(e.query) LIKE upper(%s) ESCAPE '\\'")
        params.append(f"%{_like_escape(step.query_contains)}%")
    if step.path_prefix:
        clauses.append("substr(e.path, 1, %s) = %s")
        params += [len(step.path_prefix), step.path_prefix]
    return clauses, params


def _aggregate(count: int) -> str:
    """PostgreSQL: one row of counts and step-time percentiles over ``reached`` (t1 … tn)."""
    parts = ["count(t1)"]
    for number in range(2, count + 1):
        seconds = _seconds_between(f"t{number}", f"t{number - 1}")
        parts += [f"count(t{number})",
                  f"percentile_cont(ARRAY[0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY {seconds})"]  # fmt: skip
    return f"SELECT {', '.join(parts)} FROM reached"


def _per_customer(count: int) -> str:
    """SQLite: the seconds between consecutive steps of every entrant (NULL once they stop)."""
    seconds = [_seconds_between(f"t{number}", f"t{number - 1}") for number in range(2, count + 1)]
    return f"SELECT {', '.join(seconds)} FROM reached"


def events_funnel_sql(*, steps: list[Step], window_seconds: int, start: dt.datetime, end: dt.datetime,
                      segment_id: int | None = None) -> tuple[str, list]:  # fmt: skip
    """The CTE chain over the event table, ending in ``reached`` (t1 … tn per entrant)."""
    clauses, params = _step_conditions(steps[0])
    clauses += ["e.occurred_at >= %s", "e.occurred_at < %s"]
    params = [_window_param(window_seconds), *params, _time(start), _time(end)]
    members, member_params = _members_clause("e.customer_id", segment_id)
    params += member_params
    ctes = [
        f"step_1 AS (SELECT e.customer_id, min(e.occurred_at) AS t1, {_plus_seconds('min(e.occurred_at)')} AS deadline "
        f"FROM {EVENTS} e WHERE {' AND '.join(clauses)}{members} GROUP BY e.customer_id)"
    ]
    latest_close = end + dt.timedelta(seconds=window_seconds)
    for index in range(1, len(steps)):
        number = index + 1
        carried = ", ".join(f"p.t{k}" for k in range(1, number))
        clauses, step_params = _step_conditions(steps[index])
        same_type = [k for k in range(index) if steps[k].event == steps[index].event]
        clauses.append(f"e.occurred_at >= p.t{index}")
        if same_type:
            clauses.append(f"e.occurred_at > p.t{same_type[-1] + 1}")
        # The bounds on the range let the planner skip the rest of the type's events.
        clauses += ["e.occurred_at <= p.deadline", "e.occurred_at >= %s", "e.occurred_at <= %s"]
        params += [*step_params, _time(start), _time(latest_close)]
        ctes.append(
            f"step_{number} AS (SELECT p.customer_id, {carried}, p.deadline, min(e.occurred_at) AS t{number} "
            f"FROM step_{index} p JOIN {EVENTS} e ON e.customer_id = p.customer_id "
            f"WHERE {' AND '.join(clauses)} GROUP BY p.customer_id, {carried}, p.deadline)"
        )
    times = ", ".join(f"s{number}.t{number}" for number in range(1, len(steps) + 1))
    joins = " ".join(f"LEFT JOIN step_{number} s{number} ON s{number}.customer_id = s1.customer_id"
                     for number in range(2, len(steps) + 1))  # fmt: skip
    ctes.append(f"reached AS (SELECT {times} FROM step_1 s1 {joins})")
    final = _aggregate(len(steps)) if _postgres() else _per_customer(len(steps))
    return f"WITH {', '.join(ctes)} {final}", params


def timelines_funnel_sql(*, steps: list[Step], window_seconds: int, start: dt.datetime, end: dt.datetime,
                         watermark: int, segment_id: int | None = None) -> tuple[str, list]:  # fmt: skip
    """PostgreSQL, steps without filters: the funnel from ``EventTimeline`` rows (customers
    with events above ``watermark`` rebuilt from the events), ending in ``reached``.

    Each level of the nested query adds one step: the position of the first element of the
    step's sorted array that is ≥ the previous step's time (> for a repeated type) is
    ``width_bucket(bound, array) + 1``, where ``width_bucket`` counts the elements ≤ bound.
    ``OFFSET 0`` keeps each level a separate scan so a step time is computed once. A step
    found after the window's close is cut at the end (every later step is later still)."""
    types = list(dict.fromkeys(step.event for step in steps))
    arrays = ", ".join(f"array_agg(e.occurred_at ORDER BY e.occurred_at) FILTER (WHERE e.type = '{name}') AS {name}"
                       for name in types)  # fmt: skip
    members, member_params = _members_clause("t.customer_id", segment_id)
    new_members, _params = _members_clause("e.customer_id", segment_id)
    columns = ", ".join(types)
    source = (
        f"SELECT customer_id, {columns} FROM {TIMELINES} t WHERE NOT EXISTS "
        f"(SELECT 1 FROM {EVENTS} n WHERE n.id > %s AND n.customer_id = t.customer_id){members} "
        # An array of ids, not IN (subquery): index lookups for these customers only, never a
        # merge join over the whole event index.
        f"UNION ALL SELECT e.customer_id, {arrays} FROM {EVENTS} e WHERE e.customer_id = ANY(ARRAY("
        f"SELECT DISTINCT n.customer_id FROM {EVENTS} n WHERE n.id > %s)){new_members} "
        "GROUP BY e.customer_id"
    )
    params: list = [watermark, *member_params, watermark, *member_params]
    query = (
        f"SELECT {steps[0].event}[width_bucket(%s::timestamptz, {steps[0].event}) + 1] AS t1, {columns} "
        f"FROM ({source}) timelines OFFSET 0"
    )
    params = [start - MICROSECOND, *params]
    query = f"SELECT t1, t1 + %s * interval '1 second' AS deadline, {columns} FROM ({query}) s1 WHERE t1 < %s OFFSET 0"
    params = [window_seconds, *params, end]
    carried = ["t1"]
    for index in range(1, len(steps)):
        number, name = index + 1, steps[index].event
        same_type = [k for k in range(index) if steps[k].event == name]
        previous = f"t{index}"
        bound = f"{previous} - interval '1 microsecond'"
        if same_type:  # strictly after the earlier step of this type when it is at the same moment
            bound = f"CASE WHEN t{same_type[-1] + 1} = {previous} THEN {previous} ELSE {bound} END"
        found = f"{name}[width_bucket({bound}, {name}) + 1]"
        # Only the arrays later steps still search travel on.
        later = ", ".join(dict.fromkeys(step.event for step in steps[index + 1 :]))
        keep = ", ".join([*carried, "deadline", *([later] if later else [])])
        query = f"SELECT {keep}, {found} AS t{number} FROM ({query}) s{number} OFFSET 0"
        carried.append(f"t{number}")
    # A step found after the window's close is not reached, and neither is any later one
    # (each is at or after the one before), so the close is applied once, here.
    closed = ", ".join(["t1", *(f"CASE WHEN {t} <= deadline THEN {t} END AS {t}" for t in carried[1:])])
    reached = f"reached AS (SELECT {closed} FROM ({query}) steps)"
    return f"WITH {reached} {_aggregate(len(steps))}", params


def _watermark() -> int | None:
    refresh = EventTimelineRefresh.objects.filter(finished_at__isnull=False).order_by("-max_event_id").first()
    return refresh.max_event_id if refresh else None


def _filtered(steps: list[Step]) -> bool:
    return any(getattr(step, name) for step in steps for name in FILTERS)


def uses_timelines(steps: list[Step]) -> bool:
    """Whether ``funnel_report`` will read the timelines (else the event table)."""
    return _postgres() and not _filtered(steps) and _watermark() is not None


def funnel_report(*, steps: list[Step], window_seconds: int, start: dt.datetime, end: dt.datetime,
                  segment_id: int | None = None, timelines: bool = True) -> FunnelResult:  # fmt: skip
    """Customers per step, conversions, drop-offs and step-to-step times of the funnel for
    entrants in [start, end) (aware datetimes). ``timelines=False`` reads the event table
    even where the timelines could serve (the benchmark compares both)."""
    arguments = {"steps": steps, "window_seconds": window_seconds, "start": start, "end": end,
                 "segment_id": segment_id}  # fmt: skip
    labels = [step_label(step) for step in steps]
    if not _postgres():
        sql, params = events_funnel_sql(**arguments)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        seconds = np.array(rows, dtype=np.float64).reshape(len(rows), len(steps) - 1)
        counts = [len(rows)] + [int(np.count_nonzero(~np.isnan(column))) for column in seconds.T]
        times = [step_time_percentiles(column[~np.isnan(column)]) for column in seconds.T]
        return funnel_compute(labels=labels, counts=counts, times=times)
    watermark = _watermark() if timelines and not _filtered(steps) else None
    if watermark is not None:
        sql, params = timelines_funnel_sql(**arguments, watermark=watermark)
    else:
        sql, params = events_funnel_sql(**arguments)
    with transaction.atomic(), connection.cursor() as cursor:
        # Big hash aggregates stay in memory; JIT compiling costs more than it saves here.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        row = cursor.fetchone()
    counts = [int(row[0])] + [int(row[1 + 2 * index]) for index in range(len(steps) - 1)]
    times = [tuple(row[2 + 2 * index]) if row[2 + 2 * index] else None for index in range(len(steps) - 1)]
    return funnel_compute(labels=labels, counts=counts, times=times)


def date_range_bounds(first_day: dt.date, last_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[local midnight of the first day, local midnight after the last day)."""
    zone = timezone.get_current_timezone()
    return (dt.datetime.combine(first_day, dt.time.min, tzinfo=zone),
            dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tzinfo=zone))  # fmt: skip


def default_date_range(now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The last 30 days up to today."""
    today = timezone.localdate(now or timezone.now())
    return today - dt.timedelta(days=DEFAULT_RANGE_DAYS - 1), today


def funnel_result(*, funnel, first_day: dt.date, last_day: dt.date, segment_id: int | None) -> FunnelResult:
    """A saved funnel (``models.Funnel``) over whole local days, entrants of the first to
    the last day."""
    start, end = date_range_bounds(first_day, last_day)
    return funnel_report(steps=funnel.parsed_steps, window_seconds=funnel.window_seconds, start=start, end=end,
                         segment_id=segment_id)  # fmt: skip
