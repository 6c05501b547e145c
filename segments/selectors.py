"""Reads of the customer feature table shared by pages, the API, segments and reports."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, QuerySet, Window

from segments.models import CustomerFeatures, FeatureRefresh, SegmentMembership, SegmentSizeSnapshot
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


def product_categories_by_size(*, limit: int | None = None) -> list[str]:
    """Categories with the most products first: the default and the picker order for
    interest segments."""
    from customers.models import Product

    categories = (
        Product.objects.exclude(category="")
        .values("category")
        .annotate(products=Count("pk"))
        .order_by("-products", "category")
        .values_list("category", flat=True)
    )
    return list(categories[:limit] if limit else categories)


def segment_preview(*, rule: Any, sample_size: int = 20, now: dt.datetime | None = None) -> AudiencePreview:
    """Audience size and a sample of matching customers while a rule is being edited
    (raises RuleInvalid naming the bad nodes)."""
    audience = rule_audience(rule, now=now)
    if sample_size <= 0:
        return AudiencePreview(size=audience.count(), sample=[])
    # One query: the audience is evaluated once and counted by the window while the newest
    # customers are picked, instead of a count and a separate sample query (whose backward
    # walk over customers, testing the rule row by row, was the slow half on big tables).
    rows = list(
        audience.annotate(audience_size=Window(Count("pk")))
        .order_by("-id")
        .values("external_id", "name", "email", "country", "city", "audience_size")[:sample_size]
    )
    size = rows[0]["audience_size"] if rows else 0
    for row in rows:
        del row["audience_size"]
    return AudiencePreview(size=size, sample=rows)


def segment_members(*, segment_id: int) -> QuerySet:
    """Current members with the time they entered, newest first."""
    from customers.models import Customer

    return (
        Customer.objects.filter(segment_memberships__segment_id=segment_id, segment_memberships__left_at__isnull=True)
        .annotate(entered_at=F("segment_memberships__entered_at"))
        .order_by("-segment_memberships__entered_at", "-id")
    )


def segment_size_history(*, segment_id: int) -> list[dict]:
    return list(
        SegmentSizeSnapshot.objects.filter(segment_id=segment_id).order_by("at").values("at", "size", "entered", "left")
    )


def segment_membership_history(*, segment_id: int, limit: int = 100) -> list[dict]:
    """Who entered and left most recently (both kinds of change, newest first)."""
    rows = SegmentMembership.objects.filter(segment_id=segment_id).select_related("customer")
    events = []
    for row in rows.order_by("-entered_at")[:limit]:
        events.append({"customer": row.customer.external_id, "change": "entered", "at": row.entered_at})
    for row in rows.filter(left_at__isnull=False).order_by("-left_at")[:limit]:
        events.append({"customer": row.customer.external_id, "change": "left", "at": row.left_at})
    return sorted(events, key=lambda event: event["at"], reverse=True)[:limit]
