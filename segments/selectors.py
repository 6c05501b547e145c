"""Reads of the customer feature table shared by pages, the API, segments and reports."""

from django.db.models import Count, QuerySet

from segments.models import CustomerFeatures, FeatureRefresh


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
