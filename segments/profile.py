"""The customer's computed features on the profile page (customers/profile_panels.py)."""

from typing import Any

from customers.models import Customer
from segments.selectors import customer_features


def customer_features_panel(customer: Customer) -> tuple[str, dict[str, Any]] | None:
    features = customer_features(customer_id=customer.pk)
    if features is None:
        return None
    return "segments/partials/customer_features.html", {"features": features}
