"""The nightly member-tier recalculation (django-celery-beat's database scheduler reads the
entry; operators can change the time or disable it in the admin). 03:30 in the project's
time zone (settings.TIME_ZONE, PRECIS_TIME_ZONE) when the migration runs."""

from django.conf import settings
from django.db import migrations

TASK_NAME = "Nightly member tier recalculation"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "campaigns.tiers_recalculate",
            "crontab": crontab,
            "description": "Give every customer the highest member tier whose spend or order-count threshold "
            "they reach over its rolling window; record each change in the tier history.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
