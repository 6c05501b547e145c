"""Point-in-time churn data: features see nothing after the cutoff, labels look only at the
H days after it — checked against plain-Python counts over the same rows."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from analytics.churn.dataset import churn_features, churn_labels
from analytics.churn.model import RAW_COLUMNS
from customers.models import Order
from tests.factories import CustomerFactory, EventFactory, OrderFactory, ReviewFactory

pytestmark = pytest.mark.django_db
CUTOFF = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def shop():
    rng = np.random.default_rng(4)
    customers = []
    for i in range(30):
        customer = CustomerFactory(external_id=f"K{i:02d}", signed_up_at=CUTOFF - dt.timedelta(days=400 - i),
                                   email_opt_in=bool(i % 2))  # fmt: skip
        customers.append(customer)
        for _ in range(int(rng.integers(0, 6))):
            OrderFactory(customer=customer, total=Decimal(int(rng.integers(10, 300))),
                         ordered_at=CUTOFF + dt.timedelta(days=int(rng.integers(-500, 150)), hours=3),
                         status=["placed", "placed", "cancelled"][rng.integers(3)],
                         coupon_code=["", "", "SAVE10"][rng.integers(3)])  # fmt: skip
        for _ in range(int(rng.integers(0, 8))):
            EventFactory(customer=customer, type=["view", "add_to_cart", "search", "page"][rng.integers(4)],
                         occurred_at=CUTOFF + dt.timedelta(days=int(rng.integers(-120, 30)), hours=1))  # fmt: skip
        if i % 3 == 0:
            ReviewFactory(customer=customer, rating=int(rng.integers(1, 6)),
                          created_at=CUTOFF + dt.timedelta(days=int(rng.integers(-60, 60))))  # fmt: skip
    late = CustomerFactory(external_id="LATE", signed_up_at=CUTOFF + dt.timedelta(days=1))
    OrderFactory(customer=late, ordered_at=CUTOFF + dt.timedelta(days=2))
    return customers


def test_features_use_only_what_happened_by_the_cutoff(shop):
    features = churn_features(as_of=CUTOFF)
    assert list(features.columns) == list(RAW_COLUMNS)
    assert set(features.index) == {c.pk for c in shop}  # signed up after the cutoff: not in it
    for customer in shop:
        row = features.loc[customer.pk]
        placed = [o for o in customer.orders.all() if o.status == "placed" and o.ordered_at <= CUTOFF]
        assert row["frequency"] == len(placed)
        assert row["monetary"] == pytest.approx(float(sum(o.total for o in placed)))
        recent = [o for o in placed if o.ordered_at > CUTOFF - dt.timedelta(days=90)]
        assert row["frequency_90d"] == len(recent)
        assert row["monetary_90d"] == pytest.approx(float(sum(o.total for o in recent)))
        assert row["coupon_orders"] == sum(1 for o in placed if o.coupon_code)
        if placed:
            last = max(o.ordered_at for o in placed)
            assert row["recency_days"] == pytest.approx((CUTOFF - last).total_seconds() / 86400)
            assert row["avg_order_value"] == pytest.approx(float(sum(o.total for o in placed)) / len(placed))
        else:
            assert np.isnan(row["recency_days"]) and row["avg_order_value"] == 0
        carts = [e for e in customer.events.all()
                 if e.type == "add_to_cart" and CUTOFF - dt.timedelta(days=30) < e.occurred_at <= CUTOFF]  # fmt: skip
        assert row["add_to_cart_30d"] == len(carts)
        reviews = [r for r in customer.reviews.all() if r.created_at <= CUTOFF]
        assert row["review_count"] == len(reviews)
        assert row["email_opt_in"] == float(customer.email_opt_in)
        assert row["tenure_days"] == pytest.approx((CUTOFF - customer.signed_up_at).total_seconds() / 86400)


def test_labels_look_only_at_the_horizon(shop):
    features = churn_features(as_of=CUTOFF)
    labels = churn_labels(as_of=CUTOFF, horizon_days=90, customer_ids=features.index)
    until = CUTOFF + dt.timedelta(days=90)
    bought = {o.customer_id for o in Order.objects.filter(status="placed") if CUTOFF < o.ordered_at <= until}
    assert {pk for pk, churned in labels.items() if churned == 0} == bought & set(features.index)
    assert 0 < labels.sum() < len(labels)


def test_an_id_range_reads_only_its_customers(shop):
    ids = sorted(c.pk for c in shop)
    part = churn_features(as_of=CUTOFF, id_range=(ids[5], ids[14]))
    whole = churn_features(as_of=CUTOFF)
    assert list(part.index) == ids[5:15]
    assert part.equals(whole.loc[ids[5:15]])
