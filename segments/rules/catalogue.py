"""What the rule builder page needs to draw pickers: fields with their operators, event
types, and the builder's words in the user's language."""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from customers.models import EventType
from segments.models import Segment
from segments.rules.fields import OPERATORS, rule_fields

OPERATOR_LABELS = {
    "equals": "=", "not_equals": "≠", "in": gettext_noop("is one of"), "contains": gettext_noop("contains"),
    "starts_with": gettext_noop("starts with"), "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
    "between": gettext_noop("between"), "before": gettext_noop("before"), "after": gettext_noop("after"),
    "within_last_days": gettext_noop("within the last N days"), "is_true": gettext_noop("is yes"),
    "is_false": gettext_noop("is no"), "is_set": gettext_noop("is set"), "is_not_set": gettext_noop("is not set"),
}  # fmt: skip
FIELD_GROUPS = {
    "profile": gettext_noop("Profile"),
    "consent": gettext_noop("Consent"),
    "features": gettext_noop("Features"),
}


def rule_catalogue(*, exclude_segment_id: int | None = None) -> dict[str, Any]:
    fields = [
        {
            "name": spec.name,
            "label": f"{_(FIELD_GROUPS[spec.name.split('.')[0]])}: {spec.label}",
            "kind": spec.kind.value,
            "choices": list(spec.choices),
            "operators": [operator.value for operator in OPERATORS[spec.kind]],
        }
        for spec in rule_fields().values()
    ]
    return {
        "fields": fields,
        "events": [[value, str(label)] for value, label in EventType.choices],
        "segments": [
            [segment.pk, segment.name] for segment in Segment.objects.exclude(pk=exclude_segment_id).order_by("name")
        ],
        "labels": {
            "operators": {key: _(label) for key, label in OPERATOR_LABELS.items()},
            "all": _("All of these are true"),
            "any": _("Any of these is true"),
            "not": _("NOT"),
            "remove": _("Remove"),
            "remove_group": _("Remove group"),
            "add_condition": _("+ Condition"),
            "add_behaviour": _("+ Behaviour"),
            "add_purchase": _("+ Purchase"),
            "add_group": _("+ Group"),
            "did": _("Did"),
            "times_in_last": _("times in the last"),
            "days_category": _("days; category"),
            "bought": _("Bought"),
            "anything": _("anything"),
            "category": _("category"),
            "brand": _("brand"),
            "orders": _("orders"),
            "amount": _("amount"),
            "in_last": _("in the last"),
            "days": _("days"),
            "at_least": _("at least"),
            "at_most": _("at most"),
            "exactly": _("exactly"),
            "customer": _("Customer"),
            "in_segment": _("is in segment"),
            "not_in_segment": _("is not in segment"),
            "add_segment": _("+ Segment"),
        },
    }
