"""tiers_recalculate against a plain-Python computation over factory-made orders: windows
(closed at both ends), thresholds reached exactly, spend and order counts, cancelled and
returned orders left out, downgrades to no tier, history rows exactly for the changes, and
an idempotent second run."""

import datetime as dt
import random
from decimal import Decimal

import pytest

from campaigns.models import Tier, TierChange
from campaigns.tiers.selectors import tier_changes_since
from campaigns.tiers.services import tier_create, tiers_create_standard, tiers_recalculate
from customers.models import Customer, Order
from tests.campaigns.tiers.conftest import NOW, expected_tiers
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _random_shop(seed: int, customers: int = 40) -> None:
    rng = random.Random(seed)
    statuses = [Order.Status.PLACED] * 8 + [Order.Status.CANCELLED, Order.Status.RETURNED]
    for _ in range(customers):
        customer = CustomerFactory(member_tier=rng.choice(["", "bronze", "silver", "gold", "platinum", "vip"]))
        for _ in range(rng.randint(0, 14)):
            OrderFactory(
                customer=customer,
                ordered_at=NOW - dt.timedelta(days=rng.uniform(-5, 400)),
                total=Decimal(rng.randint(1, 90000)) / 100,
                status=rng.choice(statuses),
            )


def _state() -> dict[int, str]:
    return dict(Customer.objects.values_list("pk", "member_tier"))


def _assert_matches(before: dict[int, str], tiers: list[Tier], result) -> None:
    expected = expected_tiers(tiers, NOW)
    assert _state() == expected
    changed = {pk for pk in expected if expected[pk] != before[pk]}
    history = list(TierChange.objects.values_list("customer_id", "from_tier", "to_tier", "changed_at", "reason"))
    assert sorted(history) == sorted((pk, before[pk], expected[pk], NOW, "recalculation") for pk in changed)
    rank = {t.name: t.rank for t in tiers}
    assert result.changed == len(changed)
    assert result.upgrades == sum(rank.get(expected[pk], -1) > rank.get(before[pk], -1) for pk in changed)
    assert result.downgrades == sum(rank.get(expected[pk], -1) < rank.get(before[pk], -1) for pk in changed)
    assert result.customers == len(expected)
    counts: dict[str, int] = {}
    for name in expected.values():
        counts[name] = counts.get(name, 0) + 1
    assert result.tier_counts == counts


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recalculation_matches_plain_python(mixed_tiers, seed):
    _random_shop(seed)
    before = _state()
    result = tiers_recalculate(now=NOW)
    assert result.changed > 0
    _assert_matches(before, mixed_tiers, result)


def test_second_run_changes_nothing(mixed_tiers):
    _random_shop(7)
    first = tiers_recalculate(now=NOW)
    rows = TierChange.objects.count()
    assert rows == first.changed > 0
    second = tiers_recalculate(now=NOW)
    assert (second.changed, second.upgrades, second.downgrades) == (0, 0, 0)
    assert TierChange.objects.count() == rows
    assert second.tier_counts == first.tier_counts


def test_window_edges_and_exact_thresholds(db):
    silver = tier_create(name="silver", rank=2, metric="spend", threshold=Decimal("2000"), window_days=365)
    frequent = tier_create(name="frequent", rank=3, metric="orders", threshold=3, window_days=7)
    edge = CustomerFactory(member_tier="")  # 2000.00 exactly, oldest order exactly 365 days back
    OrderFactory(customer=edge, ordered_at=NOW - dt.timedelta(days=365), total=Decimal("1999.90"))
    OrderFactory(customer=edge, ordered_at=NOW, total=Decimal("0.10"))
    outside = CustomerFactory(member_tier="")  # one second too early, and one after now
    OrderFactory(customer=outside, ordered_at=NOW - dt.timedelta(days=365, seconds=1), total=Decimal("1999.90"))
    OrderFactory(customer=outside, ordered_at=NOW - dt.timedelta(days=1), total=Decimal("0.10"))
    OrderFactory(customer=outside, ordered_at=NOW + dt.timedelta(seconds=1), total=Decimal("5000"))
    short = CustomerFactory(member_tier="")  # three orders exactly 7 days back
    OrderFactory.create_batch(3, customer=short, ordered_at=NOW - dt.timedelta(days=7), total=Decimal("0.10"))
    cancelled = CustomerFactory(member_tier="silver")  # its spend is cancelled or returned
    OrderFactory(customer=cancelled, ordered_at=NOW, total=Decimal("3000"), status=Order.Status.CANCELLED)
    OrderFactory(customer=cancelled, ordered_at=NOW, total=Decimal("3000"), status=Order.Status.RETURNED)
    OrderFactory(customer=cancelled, ordered_at=NOW, total=Decimal("1999.99"))

    result = tiers_recalculate(now=NOW)

    assert _state() == {edge.pk: "silver", outside.pk: "", short.pk: "frequent", cancelled.pk: ""}
    assert expected_tiers([silver, frequent], NOW) == _state()
    assert (result.changed, result.upgrades, result.downgrades) == (3, 2, 1)
    drop = TierChange.objects.get(customer=cancelled)
    assert (drop.from_tier, drop.to_tier, drop.changed_at) == ("silver", "", NOW)


def test_cents_add_up_exactly(db):
    tier_create(name="silver", rank=1, metric="spend", threshold=Decimal("30"), window_days=30)
    customer = CustomerFactory(member_tier="")
    OrderFactory.create_batch(300, customer=customer, ordered_at=NOW - dt.timedelta(days=1), total=Decimal("0.10"))
    tiers_recalculate(now=NOW)
    assert Customer.objects.get(pk=customer.pk).member_tier == "silver"


def test_downgrade_to_none_when_orders_age_out(db):
    tiers_create_standard()
    customer = CustomerFactory(member_tier="")
    OrderFactory(customer=customer, ordered_at=NOW - dt.timedelta(days=200), total=Decimal("8000"))
    tiers_recalculate(now=NOW)
    tiers_recalculate(now=NOW + dt.timedelta(days=100))  # 300 days old: still gold
    later = NOW + dt.timedelta(days=170)
    result = tiers_recalculate(now=later)  # 370 days old: out of every window
    assert result.downgrades == 1
    history = list(
        TierChange.objects.filter(customer=customer).order_by("changed_at").values_list("from_tier", "to_tier")
    )
    assert history == [("", "gold"), ("gold", "")]
    assert [c.to_tier for c in tier_changes_since(since=NOW + dt.timedelta(days=1))] == [""]
    assert list(tier_changes_since(since=NOW, to_tier="gold").values_list("customer_id", flat=True)) == [customer.pk]


def test_free_tier_reaches_customers_without_orders(db):
    tier_create(name="member", rank=1, metric="orders", threshold=0, window_days=30)
    tier_create(name="buyer", rank=2, metric="orders", threshold=1, window_days=30)
    idle, buyer = CustomerFactory(member_tier=""), CustomerFactory(member_tier="")
    OrderFactory(customer=buyer, ordered_at=NOW - dt.timedelta(days=3))
    tiers_recalculate(now=NOW)
    assert _state() == {idle.pk: "member", buyer.pk: "buyer"}


def test_no_tiers_defined_keeps_imported_tiers(db):
    customer = CustomerFactory(member_tier="gold")
    result = tiers_recalculate(now=NOW)
    assert result.changed == 0 and Customer.objects.get(pk=customer.pk).member_tier == "gold"
    assert result.tier_counts == {"gold": 1}
