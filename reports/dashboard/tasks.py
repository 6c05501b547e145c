"""Celery tasks of the dashboard: thin callers of ``reports.dashboard.services``, safe to run
twice (each rewrites the same days or adds one more snapshot).

Schedules (django-celery-beat entries): ``reports.dashboard_refresh`` every 10 minutes
(incremental daily sales + a new snapshot), ``reports.dashboard_refresh_full`` nightly at 04:30 UTC
(after the feature, segment and churn jobs). See docs/reports.md.
"""

from celery import shared_task

from reports.dashboard.services import dashboard_refresh


@shared_task(name="reports.dashboard_refresh")
def dashboard_refresh_task() -> int:
    """Recompute the last few days of sales and a new snapshot; returns the snapshot id."""
    return dashboard_refresh(full=False).snapshot.pk


@shared_task(name="reports.dashboard_refresh_full")
def dashboard_refresh_full_task() -> int:
    """Recompute every day of sales (late imports, old cancellations) and a new snapshot."""
    return dashboard_refresh(full=True).snapshot.pk
