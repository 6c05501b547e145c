"""Batch contexts: a handful of queries for any batch size, and the values a template
sees (features, recommendations of the active run, coupon of the message)."""

import datetime as dt
from decimal import Decimal

import pytest

from analytics.models import ProductRecommendation, RecommendationRun
from campaigns.content.context import FEATURE_FIELDS, message_contexts
from campaigns.models import CouponPool
from segments.models import CustomerFeatures
from tests.campaigns.content.rows import campaign_make, messages_make, pool_make
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def _recommend(run, customer, products):
    ProductRecommendation.objects.bulk_create(
        ProductRecommendation(run=run, customer=customer, product=product, rank=rank, score=1 / rank, source="similar")
        for rank, product in enumerate(products, start=1)
    )


@pytest.fixture
def audience():
    customers = CustomerFactory.create_batch(40)
    CustomerFeatures.objects.bulk_create(
        CustomerFeatures(customer=c, as_of=NOW, computed_at=NOW, frequency=i, monetary=Decimal(i * 10))
        for i, c in enumerate(customers)
    )
    products = ProductFactory.create_batch(8)
    old = RecommendationRun.objects.create(active=False)
    run = RecommendationRun.objects.create(active=True)
    for customer in customers:
        _recommend(run, customer, products[:7])
        _recommend(old, customer, products[7:])
    return customers, products


@pytest.mark.parametrize("size", [3, 40])
def test_a_batch_takes_the_same_few_queries(audience, django_assert_max_num_queries, size):
    customers, _ = audience
    variant = campaign_make(pool=pool_make())
    messages = messages_make(variant, customers[:size], coupon_codes=[f"SP-{i:08d}" for i in range(size)])
    with django_assert_max_num_queries(5):
        contexts = message_contexts(message_ids=[m.pk for m in messages])
    assert len(contexts) == size


def test_values_of_one_message(audience, settings):
    settings.PRECIS_TEMPLATE_RECOMMENDATIONS = 3
    settings.PRECIS_PRODUCT_URL = "https://shop.example.com/p/{sku}"
    customers, products = audience
    customer = customers[4]
    customer.name = "Ana Maria Li"
    customer.attributes = {"language": "zh-CN"}
    customer.save()
    pool = pool_make(expires_at=NOW)
    variant = campaign_make(pool=pool)
    [message] = messages_make(variant, [customer], coupon_codes=["SP-ABCDEFGH"])
    context = message_contexts(message_ids=[message.pk])[message.pk]
    values = context.values
    assert context.to == customer.email and context.customer_id == customer.pk and context.variant_key == "A"
    assert context.language == "zh-CN"
    assert values["customer"]["first_name"] == "Ana" and values["customer"]["id"] == customer.external_id
    assert set(values["features"]) == set(FEATURE_FIELDS)
    assert values["features"]["frequency"] == 4 and values["features"]["monetary"] == Decimal("40.00")
    assert [p["sku"] for p in values["recommended_products"]] == [p.sku for p in products[:3]]
    assert values["recommended_products"][0]["url"] == f"https://shop.example.com/p/{products[0].sku}"
    assert values["coupon"] == {
        "code": "SP-ABCDEFGH",
        "discount": "15%",
        "discount_kind": CouponPool.DiscountKind.PERCENT,
        "discount_value": Decimal("15.00"),
        "min_spend": Decimal("100.00"),
        "expires_at": NOW,
    }
    assert values["unsubscribe_url"].startswith("https://shop.example.com/t/u/")
    assert values["shop_name"] == "Lotus Shop"


def test_missing_features_recommendations_and_coupon():
    customer = CustomerFactory()
    variant = campaign_make()
    [message] = messages_make(variant, [customer])
    values = message_contexts(message_ids=[message.pk])[message.pk].values
    assert values["features"] == {} and values["recommended_products"] == [] and values["coupon"] is None


def test_fixed_discount_text():
    variant = campaign_make(pool=pool_make(discount_kind=CouponPool.DiscountKind.FIXED, discount_value=Decimal("20")))
    [message] = messages_make(variant, [CustomerFactory()], coupon_codes=["SP-1"])
    assert message_contexts(message_ids=[message.pk])[message.pk].values["coupon"]["discount"] == "20.00"
