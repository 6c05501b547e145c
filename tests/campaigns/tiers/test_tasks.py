"""The nightly recalculation: the beat entry the migration creates, and the task it runs
(no arguments, a job of its own, safe to run twice)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from campaigns.models import TierChange
from campaigns.tiers.services import tiers_create_standard, tiers_recalculate_start
from campaigns.tiers.tasks import tiers_recalculate_task
from customers.models import Customer
from jobs.models import Job
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_nightly_entry_at_half_past_three():
    entry = PeriodicTask.objects.get(task="campaigns.tiers_recalculate")
    crontab = entry.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("30", "3", "*")
    assert str(crontab.timezone) == settings.TIME_ZONE and entry.enabled


def test_task_twice_changes_once():
    tiers_create_standard()
    customer = CustomerFactory(member_tier="")
    OrderFactory(customer=customer, ordered_at=timezone.now() - dt.timedelta(days=5), total=Decimal("20000"))
    first = tiers_recalculate_task.delay().get()
    second = tiers_recalculate_task.delay().get()
    assert (first["changed"], second["changed"]) == (1, 0)
    assert Customer.objects.get(pk=customer.pk).member_tier == "platinum"
    assert TierChange.objects.count() == 1
    jobs = Job.objects.filter(kind="tiers_recalculate")
    assert jobs.count() == 2 and set(jobs.values_list("status", flat=True)) == {Job.Status.SUCCEEDED}


def test_redelivered_job_is_skipped():
    tiers_create_standard()
    job = tiers_recalculate_start()  # not committed in the test: the task is run by hand
    assert tiers_recalculate_task(job_id=str(job.pk))["customers"] == 0
    assert tiers_recalculate_task(job_id=str(job.pk)) is None
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and "summary" in job.result
