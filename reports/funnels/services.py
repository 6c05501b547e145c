"""Writes for funnels: save, change and delete a definition (every write validates the
steps and the window first, ``FunnelInvalid`` naming the step and field, and is audited);
refresh the per-customer event timelines that make funnels fast on PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.services import audit_record
from customers.models import Event, EventType
from reports.funnels.models import EventTimeline, EventTimelineRefresh, Funnel
from reports.funnels.schema import FunnelInvalid, steps_parse, window_seconds
from segments.models import Segment

_UNSET: Any = object()
EVENTS = Event._meta.db_table
TIMELINES = EventTimeline._meta.db_table


def _clean(steps: Any, window_value: Any, window_unit: Any) -> list[dict]:
    errors = []
    parsed = []
    try:
        parsed = steps_parse(steps)
    except FunnelInvalid as invalid:
        errors += invalid.errors
    try:
        window_seconds(window_value, window_unit)
    except FunnelInvalid as invalid:
        errors += invalid.errors
    if errors:
        raise FunnelInvalid(errors)
    return [step.as_dict() for step in parsed]


@transaction.atomic
def funnel_create(*, name: str, steps: Any, window_value: int = 7, window_unit: str = Funnel.WindowUnit.DAYS,
                  description: str = "", segment: Segment | None = None, user=None) -> Funnel:  # fmt: skip
    funnel = Funnel.objects.create(
        name=name, description=description, steps=_clean(steps, window_value, window_unit), window_value=window_value,
        window_unit=window_unit, segment=segment, created_by=user if getattr(user, "is_authenticated", False) else None,
    )  # fmt: skip
    audit_record(actor=user, action="funnel.create", target_type="funnel", target_id=funnel.pk)
    return funnel


@transaction.atomic
def funnel_update(*, funnel: Funnel, name: str | None = None, steps: Any = _UNSET, window_value: int | None = None,
                  window_unit: str | None = None, description: str | None = None, segment: Any = _UNSET,
                  user=None) -> Funnel:  # fmt: skip
    """Change the given fields (``segment=None`` clears the default segment)."""
    value = window_value if window_value is not None else funnel.window_value
    unit = window_unit if window_unit is not None else funnel.window_unit
    funnel.steps = _clean(funnel.steps if steps is _UNSET else steps, value, unit)
    funnel.window_value, funnel.window_unit = value, unit
    if name is not None:
        funnel.name = name
    if description is not None:
        funnel.description = description
    if segment is not _UNSET:
        funnel.segment = segment
    funnel.save()
    audit_record(actor=user, action="funnel.update", target_type="funnel", target_id=funnel.pk)
    return funnel


@transaction.atomic
def funnel_delete(*, funnel: Funnel, user=None) -> None:
    funnel_id = funnel.pk
    funnel.delete()
    audit_record(actor=user, action="funnel.delete", target_type="funnel", target_id=funnel_id)


def _timeline_statement(*, only_new_after: int | None) -> str:
    columns = [choice.value for choice in EventType]
    arrays = ", ".join(f"array_agg(e.occurred_at ORDER BY e.occurred_at) FILTER (WHERE e.type = '{name}')"
                       for name in columns)  # fmt: skip
    scope = ""
    if only_new_after is not None:
        scope = (f"WHERE e.customer_id IN (SELECT DISTINCT customer_id FROM {EVENTS} "
                 "WHERE id > %(after)s AND id <= %(upto)s)")  # fmt: skip
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in columns)
    current = ", ".join(f"{TIMELINES}.{name}" for name in columns)
    fresh = ", ".join(f"EXCLUDED.{name}" for name in columns)
    # Unchanged rows are not rewritten: a full refresh leaves no dead copy of the table behind.
    return (
        f"INSERT INTO {TIMELINES} (customer_id, {', '.join(columns)}) "
        f"SELECT e.customer_id, {arrays} FROM {EVENTS} e {scope} GROUP BY e.customer_id "
        f"ON CONFLICT (customer_id) DO UPDATE SET {updates} WHERE ({current}) IS DISTINCT FROM ({fresh})"
    )


def event_timelines_refresh(*, full: bool = False) -> EventTimelineRefresh | None:
    """Bring the per-customer event timelines up to the newest event (PostgreSQL; on SQLite
    funnels read the events directly and this does nothing). Incremental by default:
    only customers with events above the last refresh's watermark are rebuilt; ``full``
    rebuilds everyone and drops the timelines of customers without events (run it nightly:
    it also catches events changed in place by a re-import). Safe to run twice; the
    watermark is read before the events are, so a row committed meanwhile is seen next time."""
    if connection.vendor != "postgresql":
        return None
    previous = EventTimelineRefresh.objects.filter(finished_at__isnull=False).order_by("-max_event_id").first()
    mode = EventTimelineRefresh.Mode.FULL if full or previous is None else EventTimelineRefresh.Mode.INCREMENTAL
    upto = Event.objects.aggregate(top=Max("id"))["top"] or 0
    refresh = EventTimelineRefresh.objects.create(mode=mode, max_event_id=upto, started_at=timezone.now())
    after = None if mode == EventTimelineRefresh.Mode.FULL else previous.max_event_id
    with transaction.atomic(), connection.cursor() as cursor:
        # Two refreshes at once take turns (upserts of the same rows could deadlock).
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('reports.funnels.event_timelines'))")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(_timeline_statement(only_new_after=after), {"after": after, "upto": upto})
        refresh.customers = cursor.rowcount
        if mode == EventTimelineRefresh.Mode.FULL:
            cursor.execute(f"DELETE FROM {TIMELINES} t WHERE NOT EXISTS "
                           f"(SELECT 1 FROM {EVENTS} e WHERE e.customer_id = t.customer_id)")  # fmt: skip
        refresh.finished_at = timezone.now()
        refresh.save(update_fields=["customers", "finished_at"])
    return refresh
