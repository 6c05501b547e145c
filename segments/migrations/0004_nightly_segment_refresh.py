"""Schedule the nightly re-evaluation of dynamic segments, an hour after the features."""

from django.db import migrations

TASK_NAME = "Nightly refresh of dynamic segments"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "segments.segments_refresh_dynamic",
            "crontab": crontab,
            "description": "Record who entered and left each dynamic segment, after the nightly features.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("segments", "0003_saved_segments")]

    operations = [migrations.RunPython(schedule, unschedule)]
