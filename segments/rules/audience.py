"""The audience of a rule: one queryset of customers, shared by preview, export and refresh."""

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from customers.models import Customer
from segments.rules.compiler import rule_compile
from segments.rules.schema import rule_parse


def rule_audience(rule: Any, *, now: dt.datetime | None = None) -> QuerySet[Customer]:
    """Customers matching the JSON rule (raises RuleInvalid with the bad nodes)."""
    return Customer.objects.filter(rule_compile(rule_parse(rule), now=now or timezone.now()))
