"""The fields a rule condition may test, with the operators that fit each kind of value.

Profile fields live on the customer; feature fields on the customer's feature row
(``segments.models.CustomerFeatures``). ``lookup`` is the ORM path from Customer.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from customers.models import Gender
from segments.models import CustomerFeatures


class ValueKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CHOICE = "choice"


class Operator(StrEnum):
    EQUALS = "equals"
    NOT_EQUALS = "not_equals"
    IN = "in"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    BEFORE = "before"
    AFTER = "after"
    WITHIN_LAST_DAYS = "within_last_days"
    IS_TRUE = "is_true"
    IS_FALSE = "is_false"
    IS_SET = "is_set"
    IS_NOT_SET = "is_not_set"


OPERATORS: dict[ValueKind, tuple[Operator, ...]] = {
    ValueKind.TEXT: (Operator.EQUALS, Operator.NOT_EQUALS, Operator.IN, Operator.CONTAINS, Operator.STARTS_WITH,
                     Operator.IS_SET, Operator.IS_NOT_SET),
    ValueKind.CHOICE: (Operator.EQUALS, Operator.NOT_EQUALS, Operator.IN, Operator.IS_SET, Operator.IS_NOT_SET),
    ValueKind.NUMBER: (Operator.EQUALS, Operator.NOT_EQUALS, Operator.GT, Operator.GTE, Operator.LT, Operator.LTE,
                       Operator.BETWEEN, Operator.IS_SET, Operator.IS_NOT_SET),
    ValueKind.DATE: (Operator.BEFORE, Operator.AFTER, Operator.BETWEEN, Operator.WITHIN_LAST_DAYS, Operator.IS_SET,
                     Operator.IS_NOT_SET),
    ValueKind.BOOLEAN: (Operator.IS_TRUE, Operator.IS_FALSE),
}  # fmt: skip
OPERATORS[ValueKind.DATETIME] = OPERATORS[ValueKind.DATE]


@dataclass(frozen=True)
class FieldSpec:
    name: str  # what a rule says, e.g. "profile.country" or "features.monetary_90d"
    label: str
    kind: ValueKind
    lookup: str  # ORM path from Customer
    choices: tuple[str, ...] = ()
    blank_is_unset: bool = False  # text columns store "unknown" as "" rather than NULL


PROFILE_TEXT = ("email", "phone", "name", "country", "region", "city", "occupation", "member_tier")


def _profile_fields() -> list[FieldSpec]:
    from customers.models import Customer

    meta = Customer._meta
    fields = [
        FieldSpec(f"profile.{name}", str(meta.get_field(name).verbose_name), ValueKind.TEXT, name,
                  blank_is_unset=True)
        for name in PROFILE_TEXT
    ]  # fmt: skip
    fields += [
        FieldSpec("profile.external_id", str(_("customer id")), ValueKind.TEXT, "external_id"),
        FieldSpec("profile.gender", str(_("gender")), ValueKind.CHOICE, "gender",
                  tuple(value for value, _label in Gender.choices if value), blank_is_unset=True),
        FieldSpec("profile.birth_date", str(_("birth date")), ValueKind.DATE, "birth_date"),
        FieldSpec("profile.signed_up_at", str(_("signed up")), ValueKind.DATETIME, "signed_up_at"),
        FieldSpec("consent.email", str(_("email consent")), ValueKind.BOOLEAN, "email_opt_in"),
        FieldSpec("consent.sms", str(_("SMS consent")), ValueKind.BOOLEAN, "sms_opt_in"),
    ]  # fmt: skip
    return fields


def _feature_fields() -> list[FieldSpec]:
    from django.db import models

    fields = []
    for model_field in CustomerFeatures._meta.concrete_fields:
        name = model_field.name
        if name in ("customer", "as_of", "computed_at", "interest_categories"):
            continue
        label = str(model_field.verbose_name)
        lookup = f"features__{name}"
        if model_field.choices:
            choices = tuple(value for value, _label in model_field.choices if value)
            fields.append(FieldSpec(f"features.{name}", label, ValueKind.CHOICE, lookup, choices, blank_is_unset=True))
        elif isinstance(model_field, models.IntegerField | models.FloatField | models.DecimalField):
            fields.append(FieldSpec(f"features.{name}", label, ValueKind.NUMBER, lookup))
        elif isinstance(model_field, models.DateTimeField):
            fields.append(FieldSpec(f"features.{name}", label, ValueKind.DATETIME, lookup))
        elif isinstance(model_field, models.CharField):
            fields.append(FieldSpec(f"features.{name}", label, ValueKind.TEXT, lookup, blank_is_unset=True))
    return fields


def rule_fields() -> dict[str, FieldSpec]:
    """Every field a condition may name, by name."""
    return {spec.name: spec for spec in _profile_fields() + _feature_fields()}
