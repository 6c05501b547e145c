"""Schedule the nightly full refresh of the customer feature table (django-celery-beat's
database scheduler reads it; operators can change the time or disable it in the admin)."""

import json

from django.db import migrations

TASK_NAME = "Nightly full refresh of customer features"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "segments.features_refresh",
            "crontab": crontab,
            "kwargs": json.dumps({"mode": "full"}),
            "description": "Recency and window counts move with time: recompute every customer nightly.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
