"""Reads of the customer feature table shared by pages, the API, segments and reports."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from segments.models import CustomerFeatures, FeatureRefresh
from segments.rules.audience import rule_audience


def customer_features(*, customer_id: int) -> CustomerFeatures | None:
    """One customer's features, or None before the first refresh reached them."""
    return CustomerFeatures.objects.filter(customer_id=customer_id).first()


def features_last_refresh() -> FeatureRefresh | None:
    """The latest finished refresh: pages show how fresh the features are."""
    return FeatureRefresh.objects.filter(status=FeatureRefresh.Status.SUCCEEDED).order_by("-started_at").first()


def rfm_segment_sizes() -> list[dict]:
    """Customers per RFM segment (the empty segment is customers without orders)."""
    return list(CustomerFeatures.objects.values("rfm_segment").annotate(customers=Count("pk")).order_by("-customers"))


def features_for_customers(*, customer_ids: list[int]) -> QuerySet[CustomerFeatures]:
    return CustomerFeatures.objects.filter(customer_id__in=customer_ids)


@dataclass(frozen=True)
class AudiencePreview:
    size: int
    sample: list[dict]


def segment_preview(*, rule: Any, sample_size: int = 20, now: dt.datetime | None = None) -> AudiencePreview:
    """Audience size and a sample of matching customers while a rule is being edited
    (raises RuleInvalid naming the bad nodes)."""
    audience = rule_audience(rule, now=now)
    sample = list(audience.order_by("-id").values("external_id", "name", "email", "country", "city")[:sample_size])
    return AudiencePreview(size=audience.count(), sample=sample)
