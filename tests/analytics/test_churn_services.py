"""Training on the demo shop: time split, figures stored, the best model beats recency
alone, scoring writes every customer's risk; and no feature can see past its cutoff."""

import datetime as dt

import pytest

from analytics.churn.dataset import churn_features
from analytics.churn.model import MODEL_NAMES
from analytics.churn.services import (
    ChurnTrainingError,
    churn_cutoffs,
    churn_model_choose,
    churn_train_run,
    churn_train_start,
)
from analytics.models import ChurnModel
from customers.models import Customer, Event, Order
from jobs.models import Job
from segments.churn_scores import churn_score_all
from segments.models import CustomerFeatures
from segments.services import features_refresh_full
from tests.factories import EventFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(demo_reviews, marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        version = churn_train_start(horizon_days=90, user=marketer)
    version.refresh_from_db()
    return version


def test_training_compares_four_models_on_a_time_split_and_beats_recency(trained):
    assert trained.status == ChurnModel.Status.SUCCEEDED and trained.active
    end = Order.objects.latest("ordered_at").ordered_at
    assert trained.test_cutoff == end - dt.timedelta(days=90)
    assert trained.train_cutoff == end - dt.timedelta(days=180)
    assert [e["name"] for e in trained.evaluations] == list(MODEL_NAMES)
    best = max(trained.evaluations, key=lambda e: e["roc_auc"])
    assert trained.chosen == best["name"]
    assert best["roc_auc"] > trained.baseline["roc_auc"] > 0.5
    assert Job.objects.get(pk=trained.job_id).status == Job.Status.SUCCEEDED


def test_scoring_writes_the_active_models_risk_for_every_customer(trained):
    features_refresh_full()
    result = churn_score_all()
    assert result.model_id == trained.pk
    risks = CustomerFeatures.objects.exclude(churn_risk=None)
    signed_up = Customer.objects.filter(signed_up_at__lte=result.as_of).count()
    assert risks.count() == signed_up == result.changed
    assert all(0.0 <= risk <= 1.0 for risk in risks.values_list("churn_risk", flat=True))
    assert churn_score_all().changed == 0  # the same model and data change nothing


def test_another_model_can_be_chosen(trained):
    other = next(name for name in MODEL_NAMES if name != trained.chosen)
    churn_model_choose(model_id=trained.pk, name=other, score=False)
    trained.refresh_from_db()
    assert trained.chosen == other and trained.active
    with pytest.raises(ChurnTrainingError):
        churn_model_choose(model_id=trained.pk, name="crystal_ball", score=False)


def test_a_finished_version_is_not_trained_twice(trained):
    figures = trained.evaluations
    assert churn_train_run(model_id=trained.pk, score=False).evaluations == figures


def test_a_shop_without_orders_gets_a_clear_failure(marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        version = churn_train_start(user=marketer)
    version.refresh_from_db()
    assert version.status == ChurnModel.Status.FAILED
    assert "no orders" in version.error
    assert Job.objects.get(pk=version.job_id).status == Job.Status.FAILED


def test_horizon_out_of_range_is_refused(marketer):
    with pytest.raises(ChurnTrainingError, match="between 7 and 365"):
        churn_train_start(horizon_days=3, user=marketer)


def test_nothing_after_the_cutoff_changes_a_feature(demo_reviews):
    """Leakage guard: orders and events after the cutoff, even of the same customers,
    leave the cutoff's features exactly as they were."""
    _, cutoff = churn_cutoffs(horizon_days=90)
    before = churn_features(as_of=cutoff)
    customers = list(Customer.objects.filter(pk__in=before.index[:50]))
    for customer in customers:
        OrderFactory(customer=customer, ordered_at=cutoff + dt.timedelta(seconds=1))
        EventFactory(customer=customer, type="add_to_cart", occurred_at=cutoff + dt.timedelta(minutes=5))
    assert Order.objects.filter(ordered_at__gt=cutoff).count() > 50
    assert Event.objects.filter(occurred_at__gt=cutoff).exists()
    after = churn_features(as_of=cutoff)
    assert after.equals(before)


def test_commands_train_and_score(demo_reviews, capsys):
    from django.core.management import call_command

    features_refresh_full()
    call_command("train_churn", "--horizon", "90")
    out = capsys.readouterr().out
    version = ChurnModel.objects.get(active=True)
    assert f"churn model #{version.pk}" in out
    assert f"* {version.chosen}" in out
    assert "recency_only" in out
    assert CustomerFeatures.objects.exclude(churn_risk=None).exists()
    call_command("score_churn")
    assert "0 risks changed" in capsys.readouterr().out
