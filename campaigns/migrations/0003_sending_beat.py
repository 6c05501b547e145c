"""Beat entries of sending: the sending tick every 15 seconds (starts timed campaigns,
revives sends whose workers died, releases test winners, polls triggers) and the hourly
conversion attribution. Operators can change or disable them in the admin."""

from django.db import migrations

ENTRIES = [
    (
        "Campaign sending tick",
        "campaigns.sending_tick",
        15,
        "Start campaigns whose time has come, take over sends whose workers died or whose broker "
        "queue was lost, send test winners to the rest, and start triggered campaigns.",
    ),
    (
        "Campaign conversion attribution",
        "campaigns.conversions_attribute_recent",
        3600,
        "Credit orders to the campaigns sent in the last 30 days (coupon, click, send and holdout windows).",
    ),
]


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds, description in ENTRIES:
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "description": description}
        )


def unschedule(apps, schema_editor):
    names = [name for name, *_ in ENTRIES]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_tiers_nightly_beat"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
