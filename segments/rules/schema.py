"""Validation of a rule tree: every problem is reported with the path of the node it is in.

A rule is a group::

    {"type": "group", "op": "and" | "or", "negate": false, "children": [node, ...]}

and a node is a group or a condition::

    {"type": "condition", "field": "features.monetary_90d", "operator": "gt", "value": 100}
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
class Group:
    op: str  # "and" | "or"
    negate: bool
    children: tuple["Group | Condition", ...]


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
    errors.append(RuleError(f"{path}.type", RuleErrorCode.UNKNOWN_NODE_TYPE, "Type must be 'group' or 'condition'."))
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
