"""Member-tier fixtures, and the plain-Python tier computation the recalculation is
checked against."""

import datetime as dt
from decimal import Decimal

import pytest

from campaigns.models import Tier
from campaigns.tiers.services import tier_create
from customers.models import Order

NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)


def expected_tier(orders: list[Order], tiers: list[Tier], now: dt.datetime) -> str:
    """The highest-rank tier whose metric over its window [now − days, now] reaches its
    threshold, from placed orders only; "" when none."""
    for tier in sorted(tiers, key=lambda t: t.rank, reverse=True):
        since = now - dt.timedelta(days=tier.window_days)
        counted = [o for o in orders if o.status == Order.Status.PLACED and since <= o.ordered_at <= now]
        value = sum((Decimal(o.total) for o in counted), Decimal(0)) if tier.metric == "spend" else len(counted)
        if value >= tier.threshold:
            return tier.name
    return ""


def expected_tiers(tiers: list[Tier], now: dt.datetime) -> dict[int, str]:
    """Customer id → expected tier, for every customer."""
    from customers.models import Customer

    by_customer: dict[int, list[Order]] = {c: [] for c in Customer.objects.values_list("pk", flat=True)}
    for order in Order.objects.all():
        by_customer[order.customer_id].append(order)
    return {customer: expected_tier(orders, tiers, now) for customer, orders in by_customer.items()}


@pytest.fixture
def mixed_tiers(db) -> list[Tier]:
    """Spend and order-count tiers over three different windows."""
    return [
        tier_create(name="bronze", rank=1, metric="spend", threshold=Decimal("1"), window_days=365),
        tier_create(name="silver", rank=2, metric="spend", threshold=Decimal("1000"), window_days=365),
        tier_create(name="gold", rank=3, metric="orders", threshold=4, window_days=30),
        tier_create(name="platinum", rank=4, metric="spend", threshold=Decimal("2500.50"), window_days=90),
    ]
