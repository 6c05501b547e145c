"""The reports' beat entries point at registered Celery tasks with the kwargs they take: an
incremental rebuild often, a full one nightly, for each pre-aggregated table."""

import json

import pytest
from django_celery_beat.models import PeriodicTask

from config.celery import app

pytestmark = pytest.mark.django_db


def test_every_reports_entry_names_a_registered_task():
    entries = PeriodicTask.objects.filter(task__startswith="reports.")
    app.loader.import_default_modules()
    assert entries.count() == 6
    for entry in entries:
        assert entry.task in app.tasks, entry.task
        assert entry.enabled


@pytest.mark.parametrize(
    ("task", "every_seconds"),
    [("reports.dashboard_refresh", 600), ("reports.event_timelines_refresh", 600), ("reports.retention_refresh", 3600)],
)
def test_incremental_and_nightly_full_rebuilds(task, every_seconds):
    incremental = PeriodicTask.objects.get(task=task, interval__isnull=False)
    assert incremental.interval.every == every_seconds and json.loads(incremental.kwargs) == {}
    nightly = PeriodicTask.objects.filter(task__in=[task, f"{task}_full"], crontab__isnull=False).get()
    assert nightly.crontab.hour in {"4", "5"}
    assert json.loads(nightly.kwargs) in ({}, {"full": True})
    assert nightly.task.endswith("_full") or json.loads(nightly.kwargs) == {"full": True}
