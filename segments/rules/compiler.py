"""Compile a validated rule tree to one Django ``Q`` over customers: the whole audience is
then one SQL query (``Customer.objects.filter(q)``), whatever the nesting.

Semantics that a marketer relies on, and the tests pin:
- text comparisons ignore case; "is not set" also matches empty text;
- dates compare whole days in UTC: "before 2026-03-01" is earlier than that day,
  "after 2026-03-01" is later than that day, "between" includes both days;
- "within the last N days" is the N days up to ``now``;
- a customer with no feature row yet does not match any feature condition, and does
  match its negation (NOT);
- "in segment S" means S's current members as of its last refresh (refresh S first).
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThanOrEqual

from customers.models import Event, Order, OrderLine
from segments.models import SegmentMembership
from segments.rules.fields import Operator, ValueKind
from segments.rules.schema import Behaviour, Condition, Group, Purchase, SegmentRef, Window

COUNT_LOOKUPS = {"gte": GreaterThanOrEqual, "lte": LessThanOrEqual, "eq": Exact}
MONEY = DecimalField(max_digits=18, decimal_places=2)


def rule_compile(tree: Group, *, now: dt.datetime) -> Q:
    return _group(tree, now)


def _group(group: Group, now: dt.datetime) -> Q:
    parts = [_node(child, now) for child in group.children]
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined & part) if group.op == "and" else (combined | part)
    return ~combined if group.negate else combined


def _node(node: "Group | Condition | Behaviour | Purchase", now: dt.datetime) -> Q:
    if isinstance(node, Group):
        return _group(node, now)
    if isinstance(node, Behaviour):
        return _behaviour(node, now)
    if isinstance(node, Purchase):
        return _purchase(node, now)
    if isinstance(node, SegmentRef):
        members = SegmentMembership.objects.filter(segment_id=node.segment_id, left_at__isnull=True)
        in_segment = Q(pk__in=members.values("customer_id"))
        return in_segment if node.member else ~in_segment
    return _condition(node, now)


def _window_filter(window: Window, field: str, now: dt.datetime) -> dict[str, Any]:
    if window.last_days is not None:
        return {f"{field}__gte": now - dt.timedelta(days=window.last_days), f"{field}__lte": now}
    if window.first_day is not None:
        return {f"{field}__gte": _day_start(window.first_day),
                f"{field}__lt": _day_start(window.last_day) + dt.timedelta(days=1)}  # fmt: skip
    return {}


def _count_compare(rows, count_op: str, count, *, total=None, count_of: str = "pk") -> Q:
    """Compare how many distinct ``count_of`` values (or the summed ``total``) each
    customer's rows have with ``count``; plain EXISTS where the question is only "any?" or
    "none?"."""
    if total is None:
        if count_op == "gte" and count == 1:
            return Q(Exists(rows))
        if count == 0 and count_op in ("eq", "lte"):
            return ~Q(Exists(rows))
        measured = Coalesce(
            Subquery(rows.order_by().values("customer_key").annotate(n=Count(count_of, distinct=True)).values("n")[:1]),
            0,
        )
    else:
        measured = Coalesce(
            Subquery(rows.order_by().values("customer_key").annotate(n=Sum(total)).values("n")[:1]),
            Value(Decimal(0)),
            output_field=MONEY,
        )
    return Q(COUNT_LOOKUPS[count_op](measured, count))


def _behaviour(behaviour: Behaviour, now: dt.datetime) -> Q:
    filters = dict(behaviour.filters)
    rows = Event.objects.filter(customer_id=OuterRef("pk"), type=behaviour.event,
                                **_window_filter(behaviour.window, "occurred_at", now))  # fmt: skip
    if "sku" in filters:
        rows = rows.filter(sku=filters["sku"])
    if "category" in filters:
        rows = rows.filter(category__iexact=filters["category"])
    if "query_contains" in filters:
        rows = rows.filter(query__icontains=filters["query_contains"])
    if "path_starts_with" in filters:
        rows = rows.filter(path__startswith=filters["path_starts_with"])
    return _count_compare(rows.annotate(customer_key=F("customer_id")), behaviour.count_op, behaviour.count)


def _purchase(purchase: Purchase, now: dt.datetime) -> Q:
    placed = Order.Status.PLACED
    if purchase.product is None:
        rows = Order.objects.filter(customer_id=OuterRef("pk"), status=placed,
                                    **_window_filter(purchase.window, "ordered_at", now))  # fmt: skip
        rows = rows.annotate(customer_key=F("customer_id"))
        total = "total" if purchase.measure == "amount" else None
        return _count_compare(rows, purchase.count_op, purchase.count, total=total)
    key, value = purchase.product
    product_filter = {"product__sku": value} if key == "sku" else {f"product__{key}__iexact": value}
    lines = OrderLine.objects.filter(order__customer_id=OuterRef("pk"), order__status=placed, **product_filter,
                                     **_window_filter(purchase.window, "order__ordered_at", now))  # fmt: skip
    lines = lines.annotate(customer_key=F("order__customer_id"))
    if purchase.measure == "amount":
        spent = ExpressionWrapper(F("quantity") * F("unit_price"), output_field=MONEY)
        return _count_compare(lines, purchase.count_op, purchase.count, total=spent)
    return _count_compare(lines, purchase.count_op, purchase.count, count_of="order_id")


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _condition(condition: Condition, now: dt.datetime) -> Q:
    spec, operator, value = condition.field, condition.operator, condition.value
    lookup = spec.lookup
    text = spec.kind == ValueKind.TEXT
    timestamp = spec.kind == ValueKind.DATETIME
    if operator == Operator.EQUALS:
        return Q(**{f"{lookup}__iexact" if text else lookup: value})
    if operator == Operator.NOT_EQUALS:
        return ~Q(**{f"{lookup}__iexact" if text else lookup: value})
    if operator == Operator.IN:
        if text:
            matches = Q(pk__in=[])
            for item in value:
                matches |= Q(**{f"{lookup}__iexact": item})
            return matches
        return Q(**{f"{lookup}__in": value})
    if operator == Operator.CONTAINS:
        return Q(**{f"{lookup}__icontains": value})
    if operator == Operator.STARTS_WITH:
        return Q(**{f"{lookup}__istartswith": value})
    if operator in (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE):
        return Q(**{f"{lookup}__{operator.value}": value})
    if operator == Operator.BETWEEN:
        low, high = value
        if timestamp:
            return Q(**{f"{lookup}__gte": _day_start(low), f"{lookup}__lt": _day_start(high) + dt.timedelta(days=1)})
        return Q(**{f"{lookup}__gte": low, f"{lookup}__lte": high})
    if operator == Operator.BEFORE:
        return Q(**{f"{lookup}__lt": _day_start(value) if timestamp else value})
    if operator == Operator.AFTER:
        return Q(
            **{f"{lookup}__gte": _day_start(value) + dt.timedelta(days=1)} if timestamp else {f"{lookup}__gt": value}
        )
    if operator == Operator.WITHIN_LAST_DAYS:
        if timestamp:
            return Q(**{f"{lookup}__gte": now - dt.timedelta(days=value), f"{lookup}__lte": now})
        return Q(**{f"{lookup}__gte": (now - dt.timedelta(days=value)).date(), f"{lookup}__lte": now.date()})
    if operator == Operator.IS_TRUE:
        return Q(**{lookup: True})
    if operator == Operator.IS_FALSE:
        return Q(**{lookup: False})
    unset = Q(**{f"{lookup}__isnull": True})
    if spec.blank_is_unset:
        unset |= Q(**{lookup: ""})
    return ~unset if operator == Operator.IS_SET else unset
