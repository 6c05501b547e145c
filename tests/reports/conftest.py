"""A small shop with orders over 16 months (retention tables rebuilt), and the retention report computed by hand
(plain Python dates and dicts) for any window, to check the report against."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest

from customers.models import Order
from reports.retention.refresh import retention_refresh
from tests.factories import CustomerFactory, OrderFactory

NOW = dt.datetime(2025, 6, 18, 12, 0, tzinfo=dt.UTC)
SHOP_START = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def shop(db) -> list[Order]:
    """30 customers, each with 1–6 orders at random moments from March 2024 to the day
    before NOW; every seventh order cancelled and every eleventh returned."""
    chance = random.Random(6)
    span = int((NOW - SHOP_START).total_seconds()) - 86400
    orders = []
    for _ in range(30):
        customer = CustomerFactory()
        for _ in range(chance.randint(1, 6)):
            moment = SHOP_START + dt.timedelta(seconds=chance.randrange(span))
            number = len(orders)
            status = (Order.Status.CANCELLED if number % 7 == 3 else
                      Order.Status.RETURNED if number % 11 == 5 else Order.Status.PLACED)  # fmt: skip
            orders.append(OrderFactory(customer=customer, ordered_at=moment, status=status))
    retention_refresh(full=True)
    return orders


def month_key(day: dt.date) -> tuple[int, int]:
    return (day.year, day.month)


def week_key(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def periods_between(first, last, period: str) -> int:
    if period == "month":
        return (last[0] - first[0]) * 12 + last[1] - first[1]
    return (last - first).days // 7


def hand_report(orders: list[Order], *, period: str, cohorts: int, customers: set[int] | None = None) -> dict:
    """The report straight from its definition, one customer at a time."""
    key = month_key if period == "month" else week_key
    current = key(NOW.date())
    placed = defaultdict(list)
    for order in orders:
        if order.status == Order.Status.PLACED and (customers is None or order.customer_id in customers):
            placed[order.customer_id].append(key(order.ordered_at.date()))
    window = sorted({key((NOW - dt.timedelta(days=day)).date()) for day in range(0, 400)})[-cohorts:]
    assert window[-1] == current and len(window) == cohorts
    sizes = [0] * cohorts
    retained = [[0] * cohorts for _ in range(cohorts)]
    repeat = [0] * cohorts
    active = [0] * cohorts
    for buckets in placed.values():
        for index, bucket in enumerate(window):
            if bucket in buckets:
                active[index] += 1
        first = min(buckets)
        if first not in window:
            continue
        cohort = window.index(first)
        sizes[cohort] += 1
        repeat[cohort] += len(buckets) >= 2
        for bucket in set(buckets):
            if bucket in window:
                retained[cohort][periods_between(first, bucket, period)] += 1
    matrix = [
        [retained[c][k] / sizes[c] if sizes[c] and c + k < cohorts else None for k in range(cohorts)]
        for c in range(cohorts)
    ]
    return {"sizes": sizes, "matrix": matrix, "repeat": repeat, "active": active,
            "new": sizes, "repurchase_rate": sum(repeat) / sum(sizes) if sum(sizes) else None}  # fmt: skip
