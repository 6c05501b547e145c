"""The campaigns' django-celery-beat entries (operators can change or disable them in the
admin): the sending tick every 15 seconds, conversion attribution hourly, the coupon
redemption catch-up daily, and the member tier recalculation nightly at 03:30 in the
project's time zone (settings.TIME_ZONE, PRECIS_TIME_ZONE, when the migration runs)."""

from django.conf import settings
from django.db import migrations

INTERVALS = [
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
    (
        "Coupon redemption catch-up",
        "campaigns.redemptions_record",
        86400,
        "Record redemptions of orders carrying coupon codes that the import-time task missed "
        "(for example while the broker was down).",
    ),
]
TIERS = "Nightly member tier recalculation"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds, description in INTERVALS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "description": description}
        )
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
    )
    PeriodicTask.objects.get_or_create(
        name=TIERS,
        defaults={
            "task": "campaigns.tiers_recalculate",
            "crontab": crontab,
            "description": "Give every customer the highest member tier whose spend or order-count threshold "
            "they reach over its rolling window; record each change in the tier history.",
        },
    )


def unschedule(apps, schema_editor):
    names = [name for name, *_ in INTERVALS] + [TIERS]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
