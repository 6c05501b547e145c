"""Customers' average sentiment in the feature table (segments.sentiment_scores)."""

import datetime as dt

import pytest

from analytics.models import ScoredText
from analytics.sentiment.services import features_sentiment_queue
from segments.models import CustomerFeatures
from segments.sentiment_scores import features_sentiment_update
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
AT = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def scored(customer, source_id, score, source="review"):
    return ScoredText.objects.create(source=source, source_id=source_id, customer=customer, created_at=AT,
                                     label="neutral", score=score, scored_at=AT)  # fmt: skip


def features(customer, sentiment=None):
    return CustomerFeatures.objects.create(customer=customer, as_of=AT, computed_at=AT, sentiment=sentiment)


def test_sentiment_is_the_mean_of_the_customers_scored_texts():
    ann, bob, cy = CustomerFactory(), CustomerFactory(), CustomerFactory()
    for customer in (ann, bob, cy):
        features(customer, sentiment=0.123 if customer is cy else None)
    ann_scores = [0.8, -0.2, 0.5]
    for i, value in enumerate(ann_scores):
        scored(ann, i, value)
    scored(ann, 99, -0.9, source="transcript")
    scored(bob, 10, -0.4)
    changed = features_sentiment_update()
    values = dict(CustomerFeatures.objects.values_list("customer_id", "sentiment"))
    assert values[ann.pk] == pytest.approx((sum(ann_scores) - 0.9) / 4)
    assert values[bob.pk] == pytest.approx(-0.4)
    assert values[cy.pk] is None  # no scored text: the stale value is cleared
    assert changed == 3
    assert features_sentiment_update() == 0  # nothing changes the second time


def test_the_task_is_reachable_by_name_as_analytics_queues_it():
    customer = CustomerFactory()
    features(customer)
    scored(customer, 1, 0.6)
    features_sentiment_queue()  # what analytics calls after scoring: by name, no import of segments
    assert CustomerFeatures.objects.get(customer=customer).sentiment == pytest.approx(0.6)


def test_training_flow_in_analytics_refreshes_the_feature_table(django_capture_on_commit_callbacks):
    """analytics queues segments' task by name after scoring; eager Celery runs it here."""
    from analytics.sentiment.services import sentiment_train_run
    from tests.factories import ReviewFactory

    ann = CustomerFactory()
    features(ann)
    texts = ["质量很好，物流很快", "Box was crushed", "It's a phone."]
    for text in texts:
        ReviewFactory(customer=ann, text=text, rating=None)
    sentiment_train_run()
    scores = list(ScoredText.objects.filter(customer=ann).values_list("score", flat=True))
    assert len(scores) == 3
    assert CustomerFeatures.objects.get(customer=ann).sentiment == pytest.approx(sum(scores) / 3)
