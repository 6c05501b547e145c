"""The customer's member tier and tier history on the profile page
(customers/profile_panels.py). Registered from CampaignsConfig.ready()."""

from typing import Any

from campaigns.models import Tier
from campaigns.tiers.selectors import customer_tier_history
from customers.models import Customer

HISTORY_SHOWN = 20


def customer_tier_panel(customer: Customer) -> tuple[str, dict[str, Any]] | None:
    """Nothing to show while the shop defines no tiers and the customer's tier never
    changed (the profile's header already shows an imported tier)."""
    tiers = {tier.name: tier for tier in Tier.objects.all()}  # a handful of rows
    history = list(customer_tier_history(customer_id=customer.pk)[:HISTORY_SHOWN])
    if not (history or tiers):
        return None
    tier = tiers.get(customer.member_tier)
    return "campaigns/tiers/partials/customer_tier.html", {
        "member_tier": customer.member_tier,
        "tier": tier,
        "history": history,
    }
