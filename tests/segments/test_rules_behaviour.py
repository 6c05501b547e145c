"""Behaviour and purchase conditions against a plain-Python count over the same rows."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from customers.models import Customer, Event, Order, OrderLine
from segments.rules.audience import rule_audience
from segments.rules.schema import RuleErrorCode, RuleInvalid
from tests.factories import CustomerFactory, EventFactory, OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
EVENTS = ["view", "add_to_cart", "search", "page"]
CATEGORIES = ["Beauty", "Home", "Shoes"]


@pytest.fixture
def shop():
    rng = np.random.default_rng(5)
    products = [
        ProductFactory(sku=f"P{i}", category=CATEGORIES[i % 3], brand=["Acme", "Lumen"][i % 2]) for i in range(6)
    ]
    for i in range(60):
        customer = CustomerFactory(external_id=f"B{i:03d}")
        for _ in range(int(rng.integers(0, 8))):
            EventFactory(
                customer=customer,
                type=EVENTS[rng.integers(len(EVENTS))],
                occurred_at=NOW - dt.timedelta(days=int(rng.integers(0, 90)), hours=int(rng.integers(24))),
                category=CATEGORIES[rng.integers(3)],
                sku=f"P{rng.integers(6)}",
                query=["red lipstick", "sofa", ""][rng.integers(3)],
                path=["/p/1", "/cart", "/home"][rng.integers(3)],
            )
        for _ in range(int(rng.integers(0, 4))):
            order = OrderFactory(
                customer=customer,
                ordered_at=NOW - dt.timedelta(days=int(rng.integers(0, 200))),
                status=["placed", "placed", "cancelled"][rng.integers(3)],
            )
            for product in rng.choice(products, size=int(rng.integers(1, 3)), replace=False):
                OrderLineFactory(order=order, product=product, quantity=int(rng.integers(1, 4)),
                                 unit_price=Decimal(int(rng.integers(5, 60))))  # fmt: skip
    return Customer.objects.all()


def behaviour(event, count=None, window=None, **filters):
    node = {"type": "behaviour", "event": event, "filters": filters}
    if count:
        node["count"] = {"op": count[0], "value": count[1]}
    if window:
        node["window"] = window
    return {"type": "group", "op": "and", "children": [node]}


def purchase(product=None, measure="orders", count=None, window=None):
    node = {"type": "purchase", "product": product or {}, "measure": measure}
    if count:
        node["count"] = {"op": count[0], "value": count[1]}
    if window:
        node["window"] = window
    return {"type": "group", "op": "and", "children": [node]}


def members(rule):
    return set(rule_audience(rule, now=NOW).values_list("external_id", flat=True))


def compare(op, measured, value):
    return {"gte": measured >= value, "lte": measured <= value, "eq": measured == value}[op]


def in_window(moment, window):
    if window is None:
        return True
    if "last_days" in window:
        return NOW - dt.timedelta(days=window["last_days"]) <= moment <= NOW
    first, last = (dt.date.fromisoformat(day) for day in window["between"])
    return first <= moment.astimezone(dt.UTC).date() <= last


def expected_behaviour(shop, event, count, window, keep=lambda e: True):
    counts = {c.external_id: 0 for c in shop}
    for e in Event.objects.select_related("customer"):
        if e.type == event and in_window(e.occurred_at, window) and keep(e):
            counts[e.customer.external_id] += 1
    op, value = count or ("gte", 1)
    return {cid for cid, n in counts.items() if compare(op, n, value)}


BEHAVIOUR_CASES = [
    ("view", None, None, {}, lambda e: True),
    ("view", ("gte", 3), {"last_days": 30}, {}, lambda e: True),
    ("add_to_cart", ("eq", 0), {"last_days": 14}, {}, lambda e: True),
    ("add_to_cart", ("lte", 1), None, {}, lambda e: True),
    ("view", ("eq", 2), {"between": ["2026-04-01", "2026-05-15"]}, {}, lambda e: True),
    ("view", None, None, {"category": "beauty"}, lambda e: e.category.lower() == "beauty"),
    ("search", None, None, {"query_contains": "LIPSTICK"}, lambda e: "lipstick" in e.query.lower()),
    ("page", ("gte", 2), None, {"path_starts_with": "/p/"}, lambda e: e.path.startswith("/p/")),
    ("add_to_cart", None, {"last_days": 60}, {"sku": "P2"}, lambda e: e.sku == "P2"),
]


@pytest.mark.parametrize("event, count, window, filters, keep", BEHAVIOUR_CASES)
def test_behaviour_conditions(shop, event, count, window, filters, keep):
    expected = expected_behaviour(shop, event, count, window, keep)
    assert members(behaviour(event, count, window, **filters)) == expected


def expected_purchase(shop, product, measure, count, window):
    orders = {c.external_id: set() for c in shop}
    amounts = {c.external_id: Decimal(0) for c in shop}
    for order in Order.objects.select_related("customer").filter(status="placed"):
        if not in_window(order.ordered_at, window):
            continue
        if product is None:
            orders[order.customer.external_id].add(order.pk)
            amounts[order.customer.external_id] += order.total
            continue
        key, value = next(iter(product.items()))
        for line in OrderLine.objects.filter(order=order).select_related("product"):
            if str(getattr(line.product, key)).lower() == value.lower():
                orders[order.customer.external_id].add(order.pk)
                amounts[order.customer.external_id] += line.quantity * line.unit_price
    measured = amounts if measure == "amount" else {cid: len(ids) for cid, ids in orders.items()}
    op, value = count or ("gte", 1)
    return {cid for cid, n in measured.items() if compare(op, n, Decimal(str(value)))}


PURCHASE_CASES = [
    (None, "orders", None, None),
    (None, "orders", ("gte", 2), {"last_days": 120}),
    (None, "orders", ("eq", 0), {"last_days": 30}),
    (None, "amount", ("gte", 150), None),
    ({"category": "beauty"}, "orders", None, None),
    ({"category": "Home"}, "orders", ("gte", 2), None),
    ({"brand": "Lumen"}, "amount", ("gte", 60), {"between": ["2026-01-01", "2026-05-31"]}),
    ({"sku": "P3"}, "orders", ("eq", 0), None),
    ({"sku": "P1"}, "amount", ("lte", 40), None),
]


@pytest.mark.parametrize("product, measure, count, window", PURCHASE_CASES)
def test_purchase_conditions(shop, product, measure, count, window):
    expected = expected_purchase(shop, product, measure, count, window)
    assert members(purchase(product, measure, count, window)) == expected


def test_behaviour_and_purchase_errors_name_the_part():
    rule = {"type": "group", "op": "and", "children": [
        {"type": "behaviour", "event": "teleport"},
        {"type": "behaviour", "event": "view", "window": {"last_days": -3}},
        {"type": "purchase", "product": {"colour": "red"}},
        {"type": "purchase", "measure": "amount", "count": {"op": "gte", "value": "lots"}},
    ]}  # fmt: skip
    with pytest.raises(RuleInvalid) as raised:
        rule_audience(rule)
    assert [(e.path, e.code) for e in raised.value.errors] == [
        ("rule.children[0].event", RuleErrorCode.INVALID_VALUE),
        ("rule.children[1].window.last_days", RuleErrorCode.INVALID_VALUE),
        ("rule.children[2].product", RuleErrorCode.INVALID_VALUE),
        ("rule.children[3].count.value", RuleErrorCode.INVALID_VALUE),
    ]


def test_the_cases_split_the_customers(shop):
    """Guards the cases above against passing vacuously (everyone or no one matching)."""
    sizes = [len(expected_behaviour(shop, *case[:3], case[4])) for case in BEHAVIOUR_CASES]
    sizes += [len(expected_purchase(shop, *case)) for case in PURCHASE_CASES]
    assert sum(0 < size < len(shop) for size in sizes) >= len(sizes) - 2, sizes


def negated(rule):
    return {"type": "group", "op": "and", "negate": True, "children": [rule]}


NEGATED_CASES = [
    (behaviour("view", ("gte", 2), {"last_days": 60}), lambda shop: expected_behaviour(shop, "view", ("gte", 2),
                                                                                      {"last_days": 60})),
    (behaviour("add_to_cart", ("lte", 1)), lambda shop: expected_behaviour(shop, "add_to_cart", ("lte", 1), None)),
    (behaviour("add_to_cart", ("eq", 0), {"last_days": 14}),
     lambda shop: expected_behaviour(shop, "add_to_cart", ("eq", 0), {"last_days": 14})),
    (purchase({"category": "Home"}, "orders", ("gte", 2)),
     lambda shop: expected_purchase(shop, {"category": "Home"}, "orders", ("gte", 2), None)),
    (purchase(None, "orders", ("eq", 0), {"last_days": 30}),
     lambda shop: expected_purchase(shop, None, "orders", ("eq", 0), {"last_days": 30})),
]  # fmt: skip


@pytest.mark.parametrize("rule, expected", NEGATED_CASES)
def test_negated_count_conditions_are_the_complement(shop, rule, expected):
    everyone = {customer.external_id for customer in shop}
    matched = expected(shop)
    assert 0 < len(matched) < len(everyone)
    assert members(negated(rule)) == everyone - matched


@pytest.mark.parametrize(
    "product, measure, count, everyone_matches",
    [
        ({"category": "Garden"}, "orders", None, False),  # bought it at least once: nobody
        ({"sku": "NOPE"}, "orders", ("eq", 0), True),  # never bought it: everybody
        ({"brand": "Nobody"}, "amount", ("lte", 10), True),  # spent at most 10 on it: everybody
        ({"brand": "Nobody"}, "amount", ("gte", 0), True),  # spent at least 0 on it: everybody
    ],
)
def test_purchase_filters_that_match_no_product(shop, product, measure, count, everyone_matches):
    expected = {customer.external_id for customer in shop} if everyone_matches else set()
    assert expected_purchase(shop, product, measure, count, None) == expected
    assert members(purchase(product, measure, count)) == expected
