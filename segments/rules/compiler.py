"""Compile a validated rule tree to one Django ``Q`` over customers: the whole audience is
then one SQL query (``Customer.objects.filter(q)``), whatever the nesting. (A purchase
condition on a product, category or brand first reads the matching product ids, so the
planner can estimate the order lines from their statistics.)

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
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.constants import LOOKUP_SEP
from django.db.models.functions import Upper
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, In, LessThan, LessThanOrEqual

from customers.models import Event, Order, OrderLine, Product
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


class _InGroups(Expression):
    """True for a customer whose key is among the ``customer_key`` values of a grouped
    queryset (one row per customer passing a HAVING):
    ``EXISTS (SELECT 1 FROM (<groups>) g WHERE g.customer_key = <customer id>)``.

    The groups are computed once for everybody instead of once per customer, and the
    database can still join them (PostgreSQL: a semi join, under NOT an anti join, inside
    OR a hashed subplan) — unlike ``IN`` under NOT, which PostgreSQL only hashes while the
    set fits in ``work_mem``."""

    conditional = True

    def __init__(self, groups: QuerySet, customer=None) -> None:
        super().__init__(output_field=BooleanField())
        self.groups = groups if isinstance(groups, Subquery) else Subquery(groups)
        self.customer = customer if customer is not None else F("pk")

    def get_source_expressions(self):
        return [self.groups, self.customer]

    def set_source_expressions(self, expressions) -> None:
        self.groups, self.customer = expressions

    def as_sql(self, compiler, connection):
        groups_sql, groups_params = compiler.compile(self.groups)
        customer_sql, customer_params = compiler.compile(self.customer)
        key = connection.ops.quote_name("customer_key")
        sql = f"EXISTS (SELECT 1 FROM {groups_sql} g WHERE g.{key} = {customer_sql})"
        return sql, (*groups_params, *customer_params)


# "count op value" fails for a customer without rows exactly when "0 op value" is false;
# otherwise the condition is the complement of the customers whose rows fail it.
FAILING_LOOKUPS = {"gte": LessThan, "lte": GreaterThan}


def _count_compare(rows, count_op: str, count, *, total=None, count_of: str | None = None) -> Q:
    """Compare how many rows (``count_of``: distinct values of that column) or the summed
    ``total`` each customer has with ``count``. The rows are not correlated to the
    customer: they carry its id as ``customer_key``. "Any?" and "none?" are plain
    (NOT) EXISTS; other comparisons group the rows once by customer (``_InGroups``)."""
    if total is None and count_op == "gte" and count == 1:
        return Q(Exists(rows.filter(customer_key=OuterRef("pk"))))
    if total is None and count == 0 and count_op in ("eq", "lte"):
        return ~Q(Exists(rows.filter(customer_key=OuterRef("pk"))))
    if total is not None:
        measured = Sum(total)
    elif count_of:
        measured = Count(count_of, distinct=True)
    else:
        measured = Count("pk")  # rows of one table: no duplicates to skip
    groups = rows.order_by().values("customer_key").annotate(n=measured)
    zero_matches = {"gte": count <= 0, "lte": count >= 0, "eq": count == 0}[count_op]
    if not zero_matches:
        return Q(_InGroups(groups.filter(Q(COUNT_LOOKUPS[count_op](F("n"), count))).values("customer_key")))
    # Customers without rows match: everybody except those whose rows fail the comparison.
    failing = ~Q(Exact(F("n"), count)) if count_op == "eq" else Q(FAILING_LOOKUPS[count_op](F("n"), count))
    return ~Q(_InGroups(groups.filter(failing).values("customer_key")))


def _behaviour(behaviour: Behaviour, now: dt.datetime) -> Q:
    filters = dict(behaviour.filters)
    rows = Event.objects.filter(type=behaviour.event, **_window_filter(behaviour.window, "occurred_at", now))
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
        rows = Order.objects.filter(status=placed, **_window_filter(purchase.window, "ordered_at", now))
        rows = rows.annotate(customer_key=F("customer_id"))
        total = "total" if purchase.measure == "amount" else None
        return _count_compare(rows, purchase.count_op, purchase.count, total=total)
    key, value = purchase.product
    # The matching products are looked up first and the lines filtered by their ids: the
    # planner estimates ``product_id IN (…)`` from the statistics of the lines, while it has
    # none for ``UPPER(category) = …`` (at 1M customers it guessed 2 of 35 products and
    # chose nested loops over 2M lines instead of one hash join).
    products = Product.objects.filter(**{"sku": value} if key == "sku" else {f"{key}__iexact": value})
    product_ids = list(products.values_list("pk", flat=True))
    lines = OrderLine.objects.filter(product_id__in=product_ids, order__status=placed,
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
        different = ~Q(**{f"{lookup}__iexact" if text else lookup: value})
        if LOOKUP_SEP in lookup:
            # A feature not computed yet (no row, or NULL) is unknown, not "different": like
            # gt / lt, only known values match. NOT (equals …) is the way to include them.
            different &= Q(**{f"{lookup}__isnull": False})
        return different
    if operator == Operator.IN:
        if text and LOOKUP_SEP not in lookup:
            # A column of the customer row: one UPPER() per row instead of one per value.
            return Q(In(Upper(lookup), [Upper(Value(item)) for item in value]))
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
