"""Celery orchestration of the feature refresh (tasks run eagerly, see tests/conftest.py)."""

import pytest
from django_celery_beat.models import PeriodicTask

from jobs.models import Job
from segments.models import CustomerFeatures, FeatureRefresh
from segments.tasks import features_refresh, features_refresh_range_task
from tests.segments.feature_data import AS_OF, make_shop

pytestmark = pytest.mark.django_db


def test_coordinator_fans_out_ranges_and_scores_once():
    customers = make_shop(customers=60, seed=3)

    refresh_id = features_refresh.delay(mode="full", as_of=AS_OF.isoformat(), range_size=7).get()

    refresh = FeatureRefresh.objects.get(pk=refresh_id)
    assert refresh.status == FeatureRefresh.Status.SUCCEEDED
    ranges = list(refresh.ranges.order_by("low"))
    assert all(r.finished_at is not None for r in ranges)
    assert sum(r.customers for r in ranges) == len(customers) == refresh.customers_refreshed
    assert sorted(CustomerFeatures.objects.values_list("pk", flat=True)) == sorted(customers)
    assert CustomerFeatures.objects.filter(frequency__gt=0, r_score__isnull=True).count() == 0
    job = Job.objects.get(pk=refresh.job_id)
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress_done, job.progress_total) == (len(ranges), len(ranges))


def test_a_range_task_delivered_twice_counts_once():
    make_shop(customers=20, seed=5)
    refresh_id = features_refresh.delay(mode="full", as_of=AS_OF.isoformat(), range_size=5).get()
    refresh = FeatureRefresh.objects.get(pk=refresh_id)
    first = refresh.ranges.order_by("low").first()
    before = list(CustomerFeatures.objects.order_by("pk").values())

    features_refresh_range_task.delay(refresh_id, AS_OF.isoformat(), first.low, first.high).get()

    job = Job.objects.get(pk=refresh.job_id)
    assert job.progress_done == refresh.ranges.count()
    assert list(CustomerFeatures.objects.order_by("pk").values()) == before


def test_standalone_range_task_refreshes_only_its_range():
    customers = sorted(make_shop(customers=30, seed=9))
    low, high = customers[5], customers[15]
    assert features_refresh_range_task.delay(None, AS_OF.isoformat(), low, high).get() == 10
    assert sorted(CustomerFeatures.objects.values_list("pk", flat=True)) == customers[5:15]


def test_nightly_full_refresh_is_scheduled():
    task = PeriodicTask.objects.get(task="segments.features_refresh")
    assert task.enabled and task.crontab.hour == "2"
    assert '"full"' in task.kwargs
