"""The "Recommended products" panel on the customer profile (customers/profile_panels.py)."""

from typing import Any

from analytics.recommendations.selectors import customer_recommendations
from customers.models import Customer


def recommended_products_panel(customer: Customer) -> tuple[str, dict[str, Any]] | None:
    products = customer_recommendations(customer.pk, 10)
    if not products:
        return None
    return "analytics/partials/recommendations_profile.html", {"products": products}
