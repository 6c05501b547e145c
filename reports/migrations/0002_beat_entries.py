"""The reports' django-celery-beat entries (operators can change or disable them in the
admin): the incremental rebuilds of the pre-aggregated tables — dashboard and funnel
timelines every 10 minutes, retention hourly — and the full ones nightly, after the
feature (02:30), segment (03:30) and churn (04:00) jobs, in UTC."""

import json

from django.db import migrations

INTERVALS = [
    ("Dashboard refresh", "reports.dashboard_refresh", 600, {},
     "Recompute the last three days of daily sales and a new snapshot of the dashboard's figures."),
    ("Funnel event timelines refresh", "reports.event_timelines_refresh", 600, {},
     "Rebuild the event timelines of customers with new events (PostgreSQL; funnels read them)."),
    ("Retention refresh", "reports.retention_refresh", 3600, {},
     "Rebuild the retention tables for customers with orders since the last rebuild."),
]  # fmt: skip
NIGHTLY = [
    ("Nightly dashboard full refresh", "reports.dashboard_refresh_full", "30", "4", {},
     "Recompute every day of sales (late imports, cancellations) and a new snapshot."),
    ("Nightly funnel event timelines full refresh", "reports.event_timelines_refresh", "0", "5", {"full": True},
     "Rebuild every customer's event timelines (picks up re-imported or deleted events)."),
    ("Nightly retention full rebuild", "reports.retention_refresh", "15", "5", {"full": True},
     "Rebuild the retention tables from every order (picks up cancellations, returns and erased customers)."),
]  # fmt: skip


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds, kwargs, description in INTERVALS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(name=name, defaults={
            "task": task, "interval": interval, "kwargs": json.dumps(kwargs), "description": description})  # fmt: skip
    for name, task, minute, hour, kwargs, description in NIGHTLY:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={
            "task": task, "crontab": crontab, "kwargs": json.dumps(kwargs), "description": description})  # fmt: skip


def unschedule(apps, schema_editor):
    names = [row[0] for row in INTERVALS + NIGHTLY]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
