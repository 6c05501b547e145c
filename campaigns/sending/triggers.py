"""Triggered campaigns: who newly qualifies since the campaign last looked.

Each scheduled triggered campaign keeps a cursor (``trigger_checked_at``); the sending tick
asks for the customers whose trigger happened after it, starts one dispatch for them, and
moves the cursor. A customer gets the same triggered campaign at most once in
PRECIS_TRIGGER_REPEAT_DAYS (the freeze excludes recent recipients).
"""

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, Dispatch, Message, TierChange
from campaigns.sending.dispatch import dispatch_start
from campaigns.sending.freeze import trigger_repeat_days
from customers.models import Event, EventType, Order
from segments.models import CustomerFeatures, SegmentMembership

CHURN_CHECK_EVERY = dt.timedelta(hours=1)
# Segment entries and tier changes are stamped with the time their refresh started but
# become visible when it commits: look back this far so none slips past the cursor (the
# customers already handed over are left out below).
LOOKBACK = dt.timedelta(hours=1)


def _segment_entries(campaign: Campaign, since: dt.datetime, now: dt.datetime) -> list[int]:
    if campaign.trigger_segment_id is None:
        return []
    entries = SegmentMembership.objects.filter(
        segment_id=campaign.trigger_segment_id,
        left_at__isnull=True,
        entered_at__gt=since - LOOKBACK,
        entered_at__lte=now,
    )
    return list(entries.values_list("customer_id", flat=True).distinct())


def _abandoned_carts(campaign: Campaign, since: dt.datetime, now: dt.datetime) -> list[int]:
    """Added to cart between ``since`` and ``now`` shifted back by the waiting hours, and
    no order (nor purchase event) since that add-to-cart."""
    hours = dt.timedelta(hours=campaign.trigger_hours or 1)
    bought_after = Order.objects.filter(customer_id=OuterRef("customer_id"), ordered_at__gte=OuterRef("occurred_at"))
    purchased_after = Event.objects.filter(
        customer_id=OuterRef("customer_id"), type=EventType.PURCHASE, occurred_at__gte=OuterRef("occurred_at")
    )
    carts = Event.objects.filter(
        type=EventType.ADD_TO_CART, occurred_at__gt=since - hours, occurred_at__lte=now - hours
    ).filter(~Exists(bought_after), ~Exists(purchased_after))
    return list(carts.values_list("customer_id", flat=True).distinct())


def _churn_risks(campaign: Campaign, since: dt.datetime, now: dt.datetime) -> list[int]:
    """Customers whose current churn risk is at or above the threshold (scores change at
    the nightly scoring; looked at hourly). Recent recipients are left out by the freeze."""
    if campaign.trigger_threshold is None:
        return []
    at_risk = CustomerFeatures.objects.filter(churn_risk__gte=campaign.trigger_threshold)
    return list(at_risk.values_list("customer_id", flat=True))


def _tier_changes(campaign: Campaign, since: dt.datetime, now: dt.datetime) -> list[int]:
    changes = TierChange.objects.filter(changed_at__gt=since - LOOKBACK, changed_at__lte=now)
    changes = changes.filter(to_tier=campaign.trigger_tier) if campaign.trigger_tier else changes.exclude(to_tier="")
    return list(changes.values_list("customer_id", flat=True).distinct())


TRIGGER_SOURCES = {
    Campaign.Trigger.SEGMENT_ENTRY: _segment_entries,
    Campaign.Trigger.ABANDONED_CART: _abandoned_carts,
    Campaign.Trigger.CHURN_RISK: _churn_risks,
    Campaign.Trigger.TIER_CHANGE: _tier_changes,
}


def _not_yet_handed_over(campaign: Campaign, customer_ids: list[int], now: dt.datetime) -> list[int]:
    """Leave out customers who got this campaign within the repeat period, or who are in
    one of its dispatches still being frozen."""
    if not customer_ids:
        return []
    recent = now - dt.timedelta(days=trigger_repeat_days())
    reached = set(
        Message.objects.filter(campaign=campaign, created_at__gte=recent, customer_id__in=customer_ids).values_list(
            "customer_id", flat=True
        )
    )
    for pending in campaign.dispatches.filter(status=Dispatch.Status.FREEZING).values_list("customer_ids", flat=True):
        reached.update(pending)
    return sorted(set(customer_ids) - reached)


def triggers_poll(*, now: dt.datetime | None = None) -> dict[int, int]:
    """Start a dispatch for each triggered campaign with newly qualifying customers;
    returns campaign id → customers handed over."""
    now = now or timezone.now()
    started = {}
    live = Campaign.objects.filter(status=Campaign.Status.SCHEDULED, schedule_kind=Campaign.ScheduleKind.TRIGGER)
    for campaign in live:
        since = campaign.trigger_checked_at or now
        if campaign.trigger == Campaign.Trigger.CHURN_RISK and now - since < CHURN_CHECK_EVERY:
            continue  # keep the cursor: the hour is counted from the last real look
        found = TRIGGER_SOURCES[campaign.trigger](campaign, since, now) if campaign.trigger else []
        customer_ids = _not_yet_handed_over(campaign, found, now)
        with transaction.atomic():
            moved = Campaign.objects.filter(pk=campaign.pk, trigger_checked_at=campaign.trigger_checked_at).update(
                trigger_checked_at=now
            )
            if moved and customer_ids:
                dispatch_start(campaign_id=campaign.pk, customer_ids=customer_ids)
                started[campaign.pk] = len(customer_ids)
    return started


# --- churn early warning: the alerts page hands customers to a retention campaign ---------


def retention_targets():
    from analytics.churn.alerts import RetentionTarget

    live = Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED,
        schedule_kind=Campaign.ScheduleKind.TRIGGER,
        trigger=Campaign.Trigger.CHURN_RISK,
    )
    return [
        RetentionTarget(key=str(pk), label=_("Campaign: %(name)s") % {"name": name})
        for pk, name in live.values_list("pk", "name")
    ]


def retention_enroll(target: str, customer_ids: Sequence[int]) -> int:
    """Enrol alerted customers into the chosen churn-triggered campaign now (those who got
    it within the repeat period are left out)."""
    campaign = Campaign.objects.get(pk=int(target), status=Campaign.Status.SCHEDULED)
    fresh = _not_yet_handed_over(campaign, list(customer_ids), timezone.now())
    if fresh:
        dispatch_start(campaign_id=campaign.pk, customer_ids=fresh)
    return len(fresh)
