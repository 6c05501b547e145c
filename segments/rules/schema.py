"""Validation of a rule tree: every problem is reported with the path of the node it is in.

A rule is a group::

    {"type": "group", "op": "and" | "or", "negate": false, "children": [node, ...]}

and a node is a group, a condition on one field::

    {"type": "condition", "field": "features.monetary_90d", "operator": "gt", "value": 100}

a behaviour condition (did event T at least / at most / exactly N times in a window)::

    {"type": "behaviour", "event": "add_to_cart", "count": {"op": "gte", "value": 2},
     "window": {"last_days": 30}, "filters": {"category": "Beauty"}}

a membership of another saved segment (``member: false`` for "not in it")::

    {"type": "segment", "segment_id": 7, "member": true}

or a purchase condition (orders, or money spent, on a product / category / brand)::

    {"type": "purchase", "product": {"category": "Beauty"}, "measure": "orders",
     "count": {"op": "gte", "value": 2}, "window": {"between": ["2026-01-01", "2026-03-31"]}}

A window is ``{"last_days": D}`` or ``{"between": [first day, last day]}``; without one the
whole history counts. "Did not do" is ``{"op": "eq", "value": 0}`` or a negated group.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from segments.rules.fields import OPERATORS, FieldSpec, Operator, ValueKind, rule_fields

MAX_DEPTH = 8
NO_VALUE = {Operator.IS_TRUE, Operator.IS_FALSE, Operator.IS_SET, Operator.IS_NOT_SET}


class RuleErrorCode(StrEnum):
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_NODE_TYPE = "unknown_node_type"
    UNKNOWN_GROUP_OP = "unknown_group_op"
    EMPTY_GROUP = "empty_group"
    TOO_DEEP = "too_deep"
    UNKNOWN_FIELD = "unknown_field"
    OPERATOR_NOT_FOR_FIELD = "operator_not_for_field"
    INVALID_VALUE = "invalid_value"
    CYCLE = "cycle"


@dataclass(frozen=True)
class RuleError:
    path: str  # e.g. "children[1].children[0].value"
    code: RuleErrorCode
    message: str


class RuleInvalid(ValueError):
    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("; ".join(f"{error.path}: {error.message}" for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class Condition:
    field: FieldSpec
    operator: Operator
    value: Any  # parsed: Decimal, date, datetime, str, list, tuple (between) or None


@dataclass(frozen=True)
class Window:
    last_days: int | None = None
    first_day: dt.date | None = None
    last_day: dt.date | None = None


@dataclass(frozen=True)
class Behaviour:
    event: str
    count_op: str  # "gte" | "lte" | "eq"
    count: int
    window: Window
    filters: tuple[tuple[str, str], ...]  # (filter name, value)


@dataclass(frozen=True)
class Purchase:
    product: tuple[str, str] | None  # ("sku" | "category" | "brand", value)
    measure: str  # "orders" | "amount"
    count_op: str
    count: Decimal
    window: Window


@dataclass(frozen=True)
class SegmentRef:
    segment_id: int
    member: bool  # True: in the segment; False: not in it


@dataclass(frozen=True)
class Group:
    op: str  # "and" | "or"
    negate: bool
    children: tuple["Group | Condition | Behaviour | Purchase | SegmentRef", ...]


def rule_parse(rule: Any) -> Group:
    """The validated, typed tree of a JSON rule; raises RuleInvalid listing every problem."""
    errors: list[RuleError] = []
    fields = rule_fields()
    tree = _node(rule, "rule", 0, fields, errors)
    if not isinstance(tree, Group) and not errors:
        errors.append(RuleError("rule", RuleErrorCode.UNKNOWN_NODE_TYPE, "The rule must be a group."))
    if errors:
        raise RuleInvalid(errors)
    return tree


def _node(node: Any, path: str, depth: int, fields: dict[str, FieldSpec], errors: list[RuleError]):
    if not isinstance(node, dict):
        errors.append(RuleError(path, RuleErrorCode.NOT_AN_OBJECT, "Expected a JSON object."))
        return None
    kind = node.get("type")
    if kind == "group":
        return _group(node, path, depth, fields, errors)
    if kind == "condition":
        return _condition(node, path, fields, errors)
    if kind in ("behaviour", "purchase", "segment"):
        try:
            if kind == "segment":
                return _segment_ref(node)
            return _behaviour(node) if kind == "behaviour" else _purchase(node)
        except _BadPart as bad:
            errors.append(RuleError(f"{path}.{bad.part}", RuleErrorCode.INVALID_VALUE, bad.message))
            return None
    errors.append(
        RuleError(
            f"{path}.type",
            RuleErrorCode.UNKNOWN_NODE_TYPE,
            "Type must be 'group', 'condition', 'behaviour', 'purchase' or 'segment'.",
        )
    )
    return None


def _group(node: dict, path: str, depth: int, fields, errors) -> Group | None:
    if depth >= MAX_DEPTH:
        errors.append(RuleError(path, RuleErrorCode.TOO_DEEP, f"Groups may nest at most {MAX_DEPTH} deep."))
        return None
    op = node.get("op", "and")
    if op not in ("and", "or"):
        errors.append(RuleError(f"{path}.op", RuleErrorCode.UNKNOWN_GROUP_OP, "A group's op is 'and' or 'or'."))
    children = node.get("children")
    if not isinstance(children, list) or not children:
        errors.append(RuleError(f"{path}.children", RuleErrorCode.EMPTY_GROUP, "A group needs at least one condition."))
        return None
    parsed = [_node(child, f"{path}.children[{i}]", depth + 1, fields, errors) for i, child in enumerate(children)]
    return Group(op=op, negate=bool(node.get("negate", False)), children=tuple(parsed))


def _condition(node: dict, path: str, fields: dict[str, FieldSpec], errors) -> Condition | None:
    spec = fields.get(node.get("field"))
    if spec is None:
        errors.append(RuleError(f"{path}.field", RuleErrorCode.UNKNOWN_FIELD, f"Unknown field {node.get('field')!r}."))
        return None
    try:
        operator = Operator(node.get("operator"))
    except ValueError:
        operator = None
    if operator not in OPERATORS[spec.kind]:
        allowed = ", ".join(OPERATORS[spec.kind])
        errors.append(
            RuleError(
                f"{path}.operator",
                RuleErrorCode.OPERATOR_NOT_FOR_FIELD,
                f"{node.get('operator')!r} does not apply to {spec.name}; use one of {allowed}.",
            )
        )
        return None  # fmt: skip
    try:
        value = None if operator in NO_VALUE else _value(spec, operator, node.get("value"))
    except (TypeError, ValueError, InvalidOperation) as error:
        errors.append(RuleError(f"{path}.value", RuleErrorCode.INVALID_VALUE, str(error)))
        return None
    return Condition(field=spec, operator=operator, value=value)


def _value(spec: FieldSpec, operator: Operator, raw: Any) -> Any:
    if operator == Operator.IN:
        if not isinstance(raw, list) or not raw:
            raise ValueError("Expected a non-empty list of values.")
        return [_scalar(spec, item) for item in raw]
    if operator == Operator.BETWEEN:
        if not isinstance(raw, list) or len(raw) != 2:
            raise ValueError("Expected [low, high].")
        low, high = _scalar(spec, raw[0]), _scalar(spec, raw[1])
        if low > high:
            raise ValueError("The low end is above the high end.")
        return (low, high)
    if operator == Operator.WITHIN_LAST_DAYS:
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise ValueError("Expected a whole number of days, at least 1.")
        return raw
    if operator in (Operator.CONTAINS, Operator.STARTS_WITH) and (not isinstance(raw, str) or not raw):
        raise ValueError("Expected some text.")
    return _scalar(spec, raw)


def _scalar(spec: FieldSpec, raw: Any) -> Any:
    if spec.kind == ValueKind.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError(f"Expected a number, got {raw!r}.")
        return Decimal(str(raw))
    if spec.kind in (ValueKind.DATE, ValueKind.DATETIME):
        if not isinstance(raw, str):
            raise ValueError(f"Expected a date as YYYY-MM-DD, got {raw!r}.")
        return dt.date.fromisoformat(raw)
    if not isinstance(raw, str):
        raise ValueError(f"Expected text, got {raw!r}.")
    if spec.kind == ValueKind.CHOICE and raw not in spec.choices:
        raise ValueError(f"{raw!r} is not one of {', '.join(spec.choices)}.")
    return raw


EVENT_TYPES = ("view", "search", "add_to_cart", "favorite", "purchase", "review", "page")
BEHAVIOUR_FILTERS = ("sku", "category", "query_contains", "path_starts_with")
PRODUCT_KEYS = ("sku", "category", "brand")
COUNT_OPS = ("gte", "lte", "eq")


class _BadPart(Exception):
    def __init__(self, part: str, message: str) -> None:
        super().__init__(message)
        self.part, self.message = part, message


def _window(raw: Any) -> Window:
    if raw is None:
        return Window()
    if not isinstance(raw, dict):
        raise _BadPart("window", 'Expected {"last_days": D} or {"between": [first day, last day]}.')
    if "last_days" in raw:
        days = raw["last_days"]
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise _BadPart("window.last_days", "Expected a whole number of days, at least 1.")
        return Window(last_days=days)
    between = raw.get("between")
    if not isinstance(between, list) or len(between) != 2:
        raise _BadPart("window", 'Expected {"last_days": D} or {"between": [first day, last day]}.')
    try:
        first, last = dt.date.fromisoformat(between[0]), dt.date.fromisoformat(between[1])
    except (TypeError, ValueError) as error:
        raise _BadPart("window.between", "Expected two dates as YYYY-MM-DD.") from error
    if first > last:
        raise _BadPart("window.between", "The first day is after the last day.")
    return Window(first_day=first, last_day=last)


def _count(raw: Any, *, money: bool = False) -> tuple[str, Any]:
    if raw is None:
        return "gte", Decimal(1) if money else 1
    if not isinstance(raw, dict) or raw.get("op") not in COUNT_OPS:
        raise _BadPart("count", 'Expected {"op": "gte" | "lte" | "eq", "value": N}.')
    value = raw.get("value")
    if money:
        try:
            amount = Decimal(str(value))
        except InvalidOperation as error:
            raise _BadPart("count.value", "Expected an amount of money.") from error
        if isinstance(value, bool) or amount < 0:
            raise _BadPart("count.value", "Expected an amount of money, at least 0.")
        return raw["op"], amount
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _BadPart("count.value", "Expected a whole number, at least 0.")
    return raw["op"], value


def _behaviour(node: dict) -> Behaviour:
    event = node.get("event")
    if event not in EVENT_TYPES:
        raise _BadPart("event", f"Unknown event type {event!r}; use one of {', '.join(EVENT_TYPES)}.")
    filters = node.get("filters") or {}
    if not isinstance(filters, dict) or any(key not in BEHAVIOUR_FILTERS for key in filters):
        raise _BadPart("filters", f"Filters may be {', '.join(BEHAVIOUR_FILTERS)}.")
    if any(not isinstance(value, str) or not value for value in filters.values()):
        raise _BadPart("filters", "Each filter needs some text.")
    op, count = _count(node.get("count"))
    return Behaviour(event, op, count, _window(node.get("window")), tuple(sorted(filters.items())))


def _purchase(node: dict) -> Purchase:
    product = node.get("product") or {}
    if not isinstance(product, dict) or len(product) > 1 or any(key not in PRODUCT_KEYS for key in product):
        raise _BadPart("product", "Name at most one of sku, category, brand.")
    if any(not isinstance(value, str) or not value for value in product.values()):
        raise _BadPart("product", "The product filter needs some text.")
    measure = node.get("measure", "orders")
    if measure not in ("orders", "amount"):
        raise _BadPart("measure", "Measure orders or amount.")
    op, count = _count(node.get("count"), money=measure == "amount")
    return Purchase(next(iter(product.items()), None), measure, op, count, _window(node.get("window")))


def _segment_ref(node: dict) -> SegmentRef:
    from segments.models import Segment

    segment_id = node.get("segment_id")
    if (
        isinstance(segment_id, bool)
        or not isinstance(segment_id, int)
        or not Segment.objects.filter(pk=segment_id).exists()
    ):
        raise _BadPart("segment_id", f"No segment with id {segment_id!r}.")
    return SegmentRef(segment_id=segment_id, member=bool(node.get("member", True)))


def rule_segment_ids(rule: Any) -> set[int]:
    """The ids of the segments a (JSON) rule refers to, at any depth."""
    found: set[int] = set()
    stack = [rule]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "segment" and isinstance(node.get("segment_id"), int):
                found.add(node["segment_id"])
            stack.extend(node.get("children") or [])
    return found
