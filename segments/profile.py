"""The customer's computed features on the profile page (customers/profile_panels.py)."""

from typing import Any

from customers.models import Customer
from segments.models import CustomerFeatures


def customer_features_panel(customer: Customer) -> tuple[str, dict[str, Any]] | None:
    # customer.features is cached on the instance, so the Predictions panel reads the same row.
    try:
        features = customer.features
    except CustomerFeatures.DoesNotExist:
        return None
    return "segments/partials/customer_features.html", {"features": features}
