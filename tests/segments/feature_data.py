"""Random shop data for the feature-refresh tests and an independent plain-Python
computation of every feature, to compare the SQL against."""

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import numpy as np

from customers.models import Customer, Event, EventType, Order, OrderLine, Product, Review

AS_OF = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
CATEGORIES = ["bags", "beauty", "home", "shoes"]
BRANDS = ["Acme", "Lumen", "Orchid"]
EVENT_TYPES = [value for value, _label in EventType.choices]
# Window edges every test data set contains: exactly N days before as_of, as_of itself,
# and one second after it (ignored).
EDGES = [AS_OF - 7 * DAY, AS_OF - 30 * DAY, AS_OF - 90 * DAY, AS_OF - 365 * DAY, AS_OF, AS_OF + dt.timedelta(seconds=1)]


def _when(rng: np.random.Generator, max_days: int) -> dt.datetime:
    if rng.random() < 0.1:
        return EDGES[int(rng.integers(len(EDGES)))]
    return AS_OF - dt.timedelta(seconds=int(rng.integers(0, max_days * 86400)))


def make_shop(*, customers: int = 200, seed: int = 7, prefix: str = "T") -> list[int]:
    """Bulk-create customers with random orders, lines, events and reviews; returns
    the customer ids. About one customer in six has no orders at all."""
    rng = np.random.default_rng(seed)
    products = Product.objects.bulk_create(
        [
            Product(
                sku=f"{prefix}-P{i}",
                category=CATEGORIES[i % len(CATEGORIES)] if i < 12 else "",
                brand=BRANDS[i % len(BRANDS)] if i < 12 else "",
            )
            for i in range(14)
        ]
    )
    people = Customer.objects.bulk_create([Customer(external_id=f"{prefix}-C{i}") for i in range(customers)])
    orders, lines_for_order, events, reviews = [], [], [], []
    for index, customer in enumerate(people):
        order_count = 0 if index % 6 == 0 else int(rng.poisson(4))
        for _ in range(order_count):
            status = rng.choice(["placed"] * 8 + ["cancelled", "returned"])
            orders.append(
                Order(
                    external_id=f"{prefix}-O{len(orders)}",
                    customer=customer,
                    ordered_at=_when(rng, 500),
                    total=Decimal(int(rng.integers(100, 50000))) / 100,
                    coupon_code="SAVE10" if rng.random() < 0.3 else "",
                    status=str(status),
                )
            )
            picked = rng.choice(len(products), size=int(rng.integers(1, 4)), replace=False)
            lines_for_order.append([(products[int(p)], int(rng.integers(1, 5))) for p in picked])
        for _ in range(int(rng.poisson(15))):
            events.append(
                Event(
                    external_id=f"{prefix}-E{len(events)}",
                    customer=customer,
                    type=EVENT_TYPES[int(rng.integers(len(EVENT_TYPES)))],
                    occurred_at=_when(rng, 120),
                    category=(CATEGORIES + [""])[int(rng.integers(len(CATEGORIES) + 1))],
                )
            )
        for _ in range(int(rng.poisson(1))):
            reviews.append(
                Review(
                    external_id=f"{prefix}-R{len(reviews)}",
                    customer=customer,
                    rating=None if rng.random() < 0.15 else int(rng.integers(1, 6)),
                    created_at=_when(rng, 400),
                )
            )
    Order.objects.bulk_create(orders)
    OrderLine.objects.bulk_create(
        [
            OrderLine(order=order, product=product, quantity=quantity, unit_price=Decimal("1.00"))
            for order, lines in zip(orders, lines_for_order, strict=True)
            for product, quantity in lines
        ]
    )
    Event.objects.bulk_create(events)
    Review.objects.bulk_create(reviews)
    return [customer.pk for customer in people]


def _top(weights: dict[str, int]) -> list[str]:
    return [name for name, _weight in sorted(weights.items(), key=lambda item: (-item[1], item[0]))]


def expected_features(as_of: dt.datetime = AS_OF) -> dict[int, dict]:
    """Every aggregate feature per customer, computed row by row in Python."""
    result: dict[int, dict] = {}
    placed = defaultdict(list)
    for order in Order.objects.filter(status="placed", ordered_at__lte=as_of):
        placed[order.customer_id].append(order)
    bought_category, bought_brand = defaultdict(Counter), defaultdict(Counter)
    for line in OrderLine.objects.filter(order__status="placed", order__ordered_at__lte=as_of).select_related(
        "order", "product"
    ):
        if line.product.category:
            bought_category[line.order.customer_id][line.product.category] += line.quantity
        if line.product.brand:
            bought_brand[line.order.customer_id][line.product.brand] += line.quantity
    events = defaultdict(list)
    for event in Event.objects.filter(occurred_at__lte=as_of):
        events[event.customer_id].append(event)
    reviews = defaultdict(list)
    for review in Review.objects.filter(created_at__lte=as_of):
        reviews[review.customer_id].append(review)

    for customer_id in Customer.objects.values_list("id", flat=True):
        orders = placed[customer_id]
        row: dict = {"frequency": len(orders), "monetary": sum((o.total for o in orders), Decimal("0"))}
        for days in (30, 90, 365):
            in_window = [o for o in orders if o.ordered_at >= as_of - days * DAY]
            row[f"frequency_{days}d"] = len(in_window)
            row[f"monetary_{days}d"] = sum((o.total for o in in_window), Decimal("0"))
        if orders:
            last = max(o.ordered_at for o in orders)
            row["recency_days"] = (as_of - last) // DAY
            row["first_order_at"] = min(o.ordered_at for o in orders)
            row["last_order_at"] = last
            row["avg_order_value"] = row["monetary"] / len(orders)
            row["coupon_order_share"] = sum(1 for o in orders if o.coupon_code) / len(orders)
        else:
            row |= dict.fromkeys(
                ["recency_days", "first_order_at", "last_order_at", "avg_order_value", "coupon_order_share"]
            )
        row["favourite_category"] = (_top(bought_category[customer_id]) or [""])[0]
        row["favourite_brand"] = (_top(bought_brand[customer_id]) or [""])[0]
        interest: Counter = Counter()
        for event in events[customer_id]:
            for days in (7, 30, 90):
                key = f"{event.type}_count_{days}d"
                row[key] = row.get(key, 0) + (event.occurred_at >= as_of - days * DAY)
            weight = {"add_to_cart": 3, "favorite": 2, "view": 1}.get(event.type)
            if weight and event.category and event.occurred_at >= as_of - 90 * DAY:
                interest[event.category] += weight
        for event_type in EVENT_TYPES:
            for days in (7, 30, 90):
                row.setdefault(f"{event_type}_count_{days}d", 0)
        row["interest_categories"] = _top(interest)[:3]
        customer_reviews = reviews[customer_id]
        ratings = [r.rating for r in customer_reviews if r.rating is not None]
        row["review_count"] = len(customer_reviews)
        row["avg_rating"] = sum(ratings) / len(ratings) if ratings else None
        result[customer_id] = row
    return result
