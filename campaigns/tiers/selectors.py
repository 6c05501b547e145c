"""Reads of member tiers, shared by the pages, the API, the profile panel and the
campaign code (tier-only offers read ``tier_names``; tier-change triggers read
``tier_changes_since``)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from campaigns.models import Tier, TierChange
from campaigns.tiers.services import RECALCULATE_JOB_KIND
from customers.models import Customer
from jobs.models import Job


def tier_list() -> QuerySet[Tier]:
    """The tier definitions, lowest rank first."""
    return Tier.objects.order_by("rank")


def tier_names() -> list[str]:
    """The defined tier names, lowest rank first (for the tier-only offer's choices)."""
    return list(Tier.objects.order_by("rank").values_list("name", flat=True))


def tier_changes_since(
    *, since: dt.datetime, to_tier: str | None = None, after_id: int | None = None
) -> QuerySet[TierChange]:
    """Tier changes recorded with ``changed_at`` at or after ``since``, oldest first (by id).

    ``to_tier``: only changes into this tier ("" = dropped to no tier; None = any).
    ``changed_at`` is the recalculation's reference time, written when its transaction
    commits, which can be after a poller has moved its clock past it: a poller that
    keeps the last id it handled (``after_id``) never misses a row, since
    recalculations run one at a time."""
    changes = TierChange.objects.filter(changed_at__gte=since)
    if to_tier is not None:
        changes = changes.filter(to_tier=to_tier)
    if after_id is not None:
        changes = changes.filter(pk__gt=after_id)
    return changes.order_by("id")


@dataclass(frozen=True)
class TierCount:
    name: str  # "" = no tier
    rank: int | None  # None: no tier, or a name no tier is defined with
    customers: int
    defined: bool
    percent: float | None


def tier_distribution() -> list[TierCount]:
    """Customers per tier: every defined tier (by rank, highest first, zeros included),
    then names customers still carry that no tier is defined with, then "no tier"."""
    counts = dict(Customer.objects.values_list("member_tier").annotate(n=Count("pk")).order_by())
    total = sum(counts.values())

    def share(n: int) -> float | None:
        return round(100 * n / total, 1) if total else None

    rows = []
    for tier in Tier.objects.order_by("-rank"):
        n = counts.pop(tier.name, 0)
        rows.append(TierCount(name=tier.name, rank=tier.rank, customers=n, defined=True, percent=share(n)))
    none = counts.pop("", 0)
    for name, n in sorted(counts.items()):
        rows.append(TierCount(name=name, rank=None, customers=n, defined=False, percent=share(n)))
    rows.append(TierCount(name="", rank=None, customers=none, defined=True, percent=share(none)))
    return rows


def tier_changes_latest(*, limit: int = 20) -> QuerySet[TierChange]:
    """The most recent tier changes with their customers (the tiers page)."""
    return TierChange.objects.select_related("customer").order_by("-changed_at", "-id")[:limit]


def customer_tier_history(*, customer_id: int) -> QuerySet[TierChange]:
    """One customer's tier changes, newest first."""
    return TierChange.objects.filter(customer_id=customer_id).order_by("-changed_at", "-id")


def tiers_recalculation_latest() -> Job | None:
    """The last recalculation job (started from the page, the API or the nightly run)."""
    return Job.objects.filter(kind=RECALCULATE_JOB_KIND).order_by("-created_at").first()
