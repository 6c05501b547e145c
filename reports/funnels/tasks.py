"""Celery task of the funnels: keep the per-customer event timelines current. Thin and safe
to run twice (see ``services.event_timelines_refresh``). Suggested schedule: incremental
every 10 minutes, full nightly."""

from celery import shared_task

from reports.funnels.services import event_timelines_refresh


@shared_task(name="reports.event_timelines_refresh")
def event_timelines_refresh_task(full: bool = False) -> dict | None:
    refresh = event_timelines_refresh(full=full)
    if refresh is None:  # SQLite: funnels read the events directly
        return None
    return {"mode": refresh.mode, "customers": refresh.customers, "max_event_id": refresh.max_event_id}
