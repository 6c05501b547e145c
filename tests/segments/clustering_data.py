"""Feature rows with known groups for the clustering tests: customers in three RFM groups
far apart (after log-scaling), plus customers without orders."""

import datetime as dt
import itertools
from decimal import Decimal

import numpy as np

from customers.models import Customer
from segments.models import CustomerFeatures

AS_OF = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
# (recency_days, frequency, monetary): recent, frequent, high spend / lapsed, rare, low spend / in between
GROUPS = {"loyal": (3, 20, 5000), "lapsed": (300, 1, 40), "middle": (45, 5, 600)}
RFM = ["recency_days", "frequency", "monetary"]
_numbers = itertools.count()


def feature_rows(rows: list[dict]) -> list[int]:
    """Customers with exactly these feature values (the rest at their defaults); their ids."""
    start = next(_numbers) * 10_000
    customers = Customer.objects.bulk_create(
        [Customer(external_id=f"K{start + i}", email=f"k{start + i}@example.com") for i in range(len(rows))]
    )
    CustomerFeatures.objects.bulk_create(
        [CustomerFeatures(customer=customer, as_of=AS_OF, computed_at=AS_OF, **row) for customer, row in
         zip(customers, rows, strict=True)]
    )  # fmt: skip
    return [customer.pk for customer in customers]


def rfm_row(group: str, rng: np.random.Generator) -> dict:
    recency, frequency, monetary = GROUPS[group]
    jitter = rng.uniform(0.85, 1.15, size=3)
    orders = max(1, round(frequency * jitter[1]))
    spend = Decimal(str(round(monetary * jitter[2], 2)))
    return {
        "recency_days": round(recency * jitter[0]),
        "frequency": orders,
        "monetary": spend,
        "avg_order_value": (spend / orders).quantize(Decimal("0.01")),
        "coupon_order_share": 0.0,
    }


def rfm_groups(*, per_group: dict[str, int] | None = None, seed: int = 0) -> dict[str, list[int]]:
    """Customers in the three groups (default 24 / 16 / 10, so cluster numbers by size are
    loyal = 1, lapsed = 2, middle = 3); customer ids per group."""
    per_group = per_group or {"loyal": 24, "lapsed": 16, "middle": 10}
    rng = np.random.default_rng(seed)
    return {group: feature_rows([rfm_row(group, rng) for _ in range(count)]) for group, count in per_group.items()}


def non_buyers(count: int) -> list[int]:
    return feature_rows([{"frequency": 0, "monetary": Decimal(0), "view_count_30d": 5} for _ in range(count)])
