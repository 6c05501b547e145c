"""The SQL feature refresh against an independent plain-Python computation."""

import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Customer, Event, Order, OrderLine, Product
from segments import rfm
from segments.features import FEATURE_COLUMNS
from segments.models import CustomerFeatures, FeatureRefresh
from segments.selectors import customer_features
from segments.services import feature_ranges, features_refresh_full, features_refresh_incremental
from tests.segments.feature_data import AS_OF, DAY, expected_features, make_shop

pytestmark = pytest.mark.django_db

MONEY = ("monetary", "monetary_30d", "monetary_90d", "monetary_365d")


@pytest.fixture
def shop():
    return make_shop(customers=200, seed=7)


def _assert_matches(actual: CustomerFeatures, expected: dict) -> None:
    for column, value in expected.items():
        got = getattr(actual, column)
        where = f"customer {actual.customer_id}, {column}"
        if column in MONEY:
            assert got == Decimal(value).quantize(Decimal("0.01")), where
        elif column == "avg_order_value" and value is not None:
            assert abs(got - value) <= Decimal("0.01"), where
        elif isinstance(value, float):
            assert got == pytest.approx(value), where
        else:
            assert got == value, where


def test_every_feature_matches_plain_python(shop):
    features_refresh_full(as_of=AS_OF, range_size=37)

    expected = expected_features()
    rows = {row.customer_id: row for row in CustomerFeatures.objects.all()}
    assert set(rows) == set(shop)
    for customer_id, values in expected.items():
        _assert_matches(rows[customer_id], values)
        assert rows[customer_id].as_of == AS_OF
    # The data really exercises what the test claims to.
    assert any(v["frequency"] == 0 for v in expected.values())
    assert any(len(v["interest_categories"]) == 3 for v in expected.values())
    assert Order.objects.filter(ordered_at=AS_OF - 30 * DAY, status="placed").exists()
    assert Order.objects.filter(ordered_at__gt=AS_OF).exists()
    assert Order.objects.exclude(status="placed").exists()


def test_rfm_scores_and_tiers_follow_quintiles_of_buyers(shop):
    features_refresh_full(as_of=AS_OF, range_size=50)

    rows = list(CustomerFeatures.objects.all())
    buyers = [row for row in rows if row.frequency > 0]
    r_cuts = rfm.recency_cuts([row.recency_days for row in buyers])
    f_cuts = rfm.quintile_cuts([row.frequency for row in buyers])
    m_cuts = rfm.quintile_cuts([float(row.monetary) for row in buyers])
    tiers = rfm.tier_cuts([float(row.monetary) for row in buyers])
    for row in buyers:
        r = rfm.score_from_cuts(row.recency_days, r_cuts, higher_is_better=False)
        f = rfm.score_from_cuts(row.frequency, f_cuts)
        m = rfm.score_from_cuts(float(row.monetary), m_cuts)
        assert (row.r_score, row.f_score, row.m_score) == (r, f, m), row.customer_id
        assert row.rfm_segment == rfm.rfm_segment(r, f, m).value
        assert row.consumption_tier == rfm.consumption_tier(float(row.monetary), tiers)
    for row in rows:
        if row.frequency == 0:
            assert (row.r_score, row.f_score, row.m_score, row.rfm_segment, row.consumption_tier) == (
                None,
                None,
                None,
                "",
                "",
            )
    # Quintiles: the most recent buyers score 5, and about a fifth of buyers do.
    most_recent = min(row.recency_days for row in buyers)
    assert all(row.r_score == 5 for row in buyers if row.recency_days == most_recent)
    assert sum(row.r_score == 5 for row in buyers) == pytest.approx(len(buyers) / 5, abs=3)
    high = sum(row.consumption_tier == "high" for row in buyers)
    assert high == pytest.approx(len(buyers) * 0.2, abs=2)
    refresh = FeatureRefresh.objects.get()
    assert refresh.status == FeatureRefresh.Status.SUCCEEDED
    assert refresh.thresholds["buyers"] == len(buyers)


def test_refresh_is_idempotent(shop):
    def snapshot():
        return list(
            CustomerFeatures.objects.order_by("pk").values(
                "customer_id", *FEATURE_COLUMNS[2:], "r_score", "f_score", "m_score", "rfm_segment", "consumption_tier"
            )
        )

    features_refresh_full(as_of=AS_OF, range_size=64)
    first = snapshot()
    features_refresh_full(as_of=AS_OF, range_size=23)
    assert snapshot() == first
    assert CustomerFeatures.objects.count() == len(shop)


def test_ties_break_by_name_and_edges_of_windows():
    customer = Customer.objects.create(external_id="tie")
    shoes = Product.objects.create(sku="tie-shoes", category="shoes", brand="Zed")
    bags = Product.objects.create(sku="tie-bags", category="bags", brand="Acme")
    edge = Order.objects.create(external_id="tie-1", customer=customer, ordered_at=AS_OF - 30 * DAY, total=10)
    just_out = Order.objects.create(
        external_id="tie-2", customer=customer, ordered_at=AS_OF - 30 * DAY - dt.timedelta(seconds=1), total=5
    )
    Order.objects.create(external_id="tie-3", customer=customer, ordered_at=AS_OF - DAY, total=1000, status="cancelled")
    OrderLine.objects.create(order=edge, product=shoes, quantity=2)
    OrderLine.objects.create(order=just_out, product=bags, quantity=2)
    for i, (kind, category) in enumerate([("view", "b"), ("view", "b"), ("favorite", "a"), ("view", "c")]):
        Event.objects.create(
            external_id=f"tie-e{i}", customer=customer, type=kind, category=category, occurred_at=AS_OF - 7 * DAY
        )
    Event.objects.create(external_id="tie-late", customer=customer, type="view", category="z", occurred_at=AS_OF + DAY)
    Customer.objects.create(external_id="nobody")

    features_refresh_full(as_of=AS_OF)

    features = customer_features(customer_id=customer.pk)
    assert (features.frequency, features.frequency_30d, features.monetary_30d) == (2, 1, Decimal("10.00"))
    assert features.recency_days == 30
    assert features.favourite_category == "bags"  # 2 vs 2: by name
    assert features.favourite_brand == "Acme"
    assert features.interest_categories == ["a", "b", "c"]  # 2, 2, 1: ties by name
    assert (features.view_count_7d, features.favorite_count_7d) == (3, 1)
    assert features.coupon_order_share == 0
    nobody = CustomerFeatures.objects.get(customer__external_id="nobody")
    assert (nobody.frequency, nobody.recency_days, nobody.monetary, nobody.interest_categories) == (0, None, 0, [])
    assert nobody.rfm_segment == "" and nobody.avg_order_value is None


def test_ranges_cover_every_customer_exactly_once(shop):
    ranges = feature_ranges(range_size=17)
    covered = [customer_id for low, high in ranges for customer_id in shop if low <= customer_id < high]
    assert sorted(covered) == sorted(shop)
    assert all(high > low for low, high in ranges)
    assert all(b[0] == a[1] for a, b in zip(ranges, ranges[1:], strict=False))


def test_incremental_refresh_picks_up_a_new_order(shop):
    features_refresh_full(as_of=AS_OF, range_size=60)
    customer_id = shop[0]  # index 0 has no orders
    untouched_id = shop[1]
    before_untouched = CustomerFeatures.objects.get(pk=untouched_id)
    Order.objects.create(
        external_id="late-order", customer_id=customer_id, ordered_at=AS_OF - 2 * DAY, total=Decimal("42.50")
    )

    refresh = features_refresh_incremental(as_of=AS_OF + dt.timedelta(hours=1), range_size=60)

    assert refresh.mode == FeatureRefresh.Mode.INCREMENTAL
    assert refresh.customers_refreshed == 1
    row = CustomerFeatures.objects.get(pk=customer_id)
    assert (row.frequency, row.monetary, row.recency_days) == (1, Decimal("42.50"), 2)
    assert row.r_score is not None and row.rfm_segment
    assert CustomerFeatures.objects.get(pk=untouched_id).computed_at == before_untouched.computed_at


def test_incremental_without_previous_run_is_full(shop):
    refresh = features_refresh_incremental(as_of=AS_OF, range_size=100)
    assert refresh.mode == FeatureRefresh.Mode.FULL
    assert CustomerFeatures.objects.count() == len(shop)
