"""Celery tasks that rebuild the retention tables: thin callers of ``refresh``; safe to run
twice (a rebuild recomputes whole customers, one at a time by an advisory lock)."""

from celery import shared_task

from reports.retention.refresh import retention_refresh


@shared_task(name="reports.retention_refresh")
def retention_refresh_task(full: bool = False) -> dict:
    result = retention_refresh(full=full)
    return {"mode": result.mode, "customers": result.customers, "rows": result.rows}
