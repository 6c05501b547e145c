"""Tier definitions: every refusal names its field with a code; the standard set is
idempotent; a rename follows the customers."""

from decimal import Decimal

import pytest

from campaigns.models import Tier
from campaigns.tiers.errors import TierError, TierErrorCode
from campaigns.tiers.selectors import tier_names
from campaigns.tiers.services import tier_create, tier_delete, tier_update, tiers_create_standard
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _refusal(**kwargs) -> tuple[str, str | None]:
    values = {"name": "gold", "rank": 3, "metric": "spend", "threshold": Decimal("8000"), "window_days": 365}
    with pytest.raises(TierError) as refused:
        tier_create(**(values | kwargs))
    return refused.value.code, refused.value.field


@pytest.fixture
def silver(db) -> Tier:
    return tier_create(name="silver", rank=2, threshold=Decimal("2000"), window_days=365)


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"name": "  "}, TierErrorCode.NAME_REQUIRED, "name"),
        ({"name": "x" * 33}, TierErrorCode.NAME_TOO_LONG, "name"),
        ({"name": "SILVER"}, TierErrorCode.NAME_TAKEN, "name"),
        ({"rank": 2}, TierErrorCode.RANK_TAKEN, "rank"),
        ({"rank": -1}, TierErrorCode.RANK_OUT_OF_RANGE, "rank"),
        ({"metric": "visits"}, TierErrorCode.UNKNOWN_METRIC, "metric"),
        ({"threshold": Decimal("-0.01")}, TierErrorCode.THRESHOLD_NEGATIVE, "threshold"),
        ({"threshold": "lots"}, TierErrorCode.THRESHOLD_NOT_A_NUMBER, "threshold"),
        ({"threshold": Decimal("2500.001")}, TierErrorCode.THRESHOLD_PRECISION, "threshold"),
        ({"threshold": Decimal("1e13")}, TierErrorCode.THRESHOLD_TOO_LARGE, "threshold"),
        ({"metric": "orders", "threshold": Decimal("2.5")}, TierErrorCode.THRESHOLD_NOT_WHOLE, "threshold"),
        ({"window_days": 0}, TierErrorCode.WINDOW_OUT_OF_RANGE, "window_days"),
        ({"window_days": 3651}, TierErrorCode.WINDOW_OUT_OF_RANGE, "window_days"),
        # a higher rank cannot need less than a lower one on the same metric and window
        ({"threshold": Decimal("1999.99")}, TierErrorCode.THRESHOLD_ORDER, "threshold"),
        ({"rank": 1, "threshold": Decimal("2000.01")}, TierErrorCode.THRESHOLD_ORDER, "threshold"),
    ],
)
def test_refusals_name_the_field(silver, changes, code, field):
    assert _refusal(**changes) == (code, field)
    assert Tier.objects.count() == 1


def test_order_rule_only_on_the_same_metric_and_window(silver):
    assert tier_create(name="gold", rank=3, threshold=Decimal("100"), window_days=30).rank == 3
    assert tier_create(name="vip", rank=4, metric="orders", threshold=1, window_days=365).rank == 4
    assert tier_create(name="equal", rank=5, threshold=Decimal("2000"), window_days=365).rank == 5
    assert tier_names() == ["silver", "gold", "vip", "equal"]


def test_window_bounds_are_allowed(db):
    tier_create(name="day", rank=1, threshold=1, window_days=1)
    tier_create(name="decade", rank=2, threshold=1, window_days=3650)


def test_update_checks_against_the_others_and_renames_customers(silver):
    gold = tier_create(name="gold", rank=3, threshold=Decimal("8000"))
    member = CustomerFactory(member_tier="silver")
    with pytest.raises(TierError) as refused:
        tier_update(tier=gold, threshold=Decimal("1000"))
    assert refused.value.code == TierErrorCode.THRESHOLD_ORDER
    assert tier_update(tier=gold, threshold=Decimal("9000")).threshold == Decimal("9000.00")
    tier_update(tier=silver, name="Silver+", description="Loyal")  # its own name and rank are no clash
    assert Customer.objects.get(pk=member.pk).member_tier == "Silver+"
    with pytest.raises(TypeError):
        tier_update(tier=silver, colour="grey")
    tier_delete(tier=silver)
    assert tier_names() == ["gold"]


def test_standard_tiers_are_created_once(db):
    created = tiers_create_standard()
    expected = [("bronze", 1, Decimal("1.00")), ("silver", 2, Decimal("2000.00")),
                ("gold", 3, Decimal("8000.00")), ("platinum", 4, Decimal("20000.00"))]  # fmt: skip
    assert [(t.name, t.rank, t.threshold) for t in created] == expected
    assert set(Tier.objects.values_list("metric", "window_days")) == {("spend", 365)}
    assert tiers_create_standard() == []
    assert Tier.objects.count() == 4


def test_standard_tiers_keep_the_shops_own_and_refuse_clashes(db):
    tier_create(name="Gold", rank=3, threshold=Decimal("5000"))
    created = tiers_create_standard()
    assert [t.name for t in created] == ["bronze", "silver", "platinum"]
    assert Tier.objects.get(name="Gold").threshold == Decimal("5000.00")

    Tier.objects.all().delete()
    tier_create(name="vip", rank=1, threshold=Decimal("100"))
    with pytest.raises(TierError) as refused:
        tiers_create_standard()
    assert (refused.value.code, refused.value.field) == (TierErrorCode.RANK_TAKEN, "rank")
    assert tier_names() == ["vip"]  # nothing half-created
