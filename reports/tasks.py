"""Celery finds the reports' tasks here (autodiscovery looks for ``<app>.tasks``); each
report package keeps its own."""

from reports.dashboard.tasks import dashboard_refresh_full_task, dashboard_refresh_task  # noqa: F401
from reports.funnels.tasks import event_timelines_refresh_task  # noqa: F401
from reports.retention.tasks import retention_refresh_task  # noqa: F401
