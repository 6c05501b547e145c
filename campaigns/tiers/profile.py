"""The customer's member tier and tier history on the profile page
(customers/profile_panels.py). Registered from CampaignsConfig.ready()."""

from typing import Any

from campaigns.models import Tier
from campaigns.tiers.selectors import customer_tier_history
from customers.models import Customer

HISTORY_SHOWN = 20


def customer_tier_panel(customer: Customer) -> tuple[str, dict[str, Any]] | None:
    """Nothing to show for a customer who has no tier, never changed tier, while the shop
    defines no tiers."""
    history = list(customer_tier_history(customer_id=customer.pk)[:HISTORY_SHOWN])
    tier = Tier.objects.filter(name=customer.member_tier).first() if customer.member_tier else None
    if not (history or customer.member_tier or Tier.objects.exists()):
        return None
    return "campaigns/tiers/partials/customer_tier.html", {
        "member_tier": customer.member_tier,
        "tier": tier,
        "history": history,
    }
