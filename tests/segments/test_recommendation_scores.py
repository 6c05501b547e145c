"""``features_recommendation_update``: each customer's top recommended product's category
lands in the feature table (one UPDATE), and a segment rule finds it."""

import datetime as dt

import pytest

from analytics.models import ProductRecommendation
from analytics.recommendations.services import recommendations_fit
from customers.demo.generator import demo_data_generate
from customers.models import Product
from segments.models import CustomerFeatures
from segments.recommendation_scores import features_recommendation_update
from segments.selectors import segment_preview
from segments.services import features_refresh_full

DEMO_END = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)


@pytest.fixture
def shop(db):
    demo_data_generate(customers=300, seed=11, end=DEMO_END, flush=True)
    features_refresh_full(as_of=DEMO_END)


def expected_categories() -> dict[int, str]:
    category = dict(Product.objects.values_list("pk", "category"))
    return {
        customer: category[product]
        for customer, product in ProductRecommendation.objects.filter(rank=1, run__active=True).values_list(
            "customer_id", "product_id"
        )
    }


def test_fit_queues_the_update_and_a_rule_finds_the_category(shop):
    recommendations_fit(as_of=DEMO_END)  # eager Celery runs the segments task queued by name
    expected = expected_categories()
    written = dict(CustomerFeatures.objects.values_list("customer_id", "recommended_category"))
    assert written == {customer: expected.get(customer, "") for customer in written}
    assert any(written.values())
    category = max(set(expected.values()), key=list(expected.values()).count)
    condition = {"type": "condition", "field": "features.recommended_category", "operator": "equals", "value": category}
    rule = {"type": "group", "op": "and", "negate": False, "children": [condition]}
    preview = segment_preview(rule=rule, sample_size=5)
    assert preview.size == sum(1 for value in written.values() if value == category) > 0


def test_update_is_idempotent_and_clears_without_an_active_run(shop):
    recommendations_fit(as_of=DEMO_END, queue_features=False)
    assert features_recommendation_update() > 0
    assert features_recommendation_update() == 0
    ProductRecommendation.objects.all().delete()
    features_recommendation_update()
    assert set(CustomerFeatures.objects.values_list("recommended_category", flat=True)) == {""}
