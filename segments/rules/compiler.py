"""Compile a validated rule tree to one Django ``Q`` over customers: the whole audience is
then one SQL query (``Customer.objects.filter(q)``), whatever the nesting.

Semantics that a marketer relies on, and the tests pin:
- text comparisons ignore case; "is not set" also matches empty text;
- dates compare whole days in UTC: "before 2026-03-01" is earlier than that day,
  "after 2026-03-01" is later than that day, "between" includes both days;
- "within the last N days" is the N days up to ``now``;
- a customer with no feature row yet does not match any feature condition, and does
  match its negation (NOT).
"""

import datetime as dt

from django.db.models import Q

from segments.rules.fields import Operator, ValueKind
from segments.rules.schema import Condition, Group


def rule_compile(tree: Group, *, now: dt.datetime) -> Q:
    return _group(tree, now)


def _group(group: Group, now: dt.datetime) -> Q:
    parts = [_group(child, now) if isinstance(child, Group) else _condition(child, now) for child in group.children]
    combined = parts[0]
    for part in parts[1:]:
        combined = (combined & part) if group.op == "and" else (combined | part)
    return ~combined if group.negate else combined


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
