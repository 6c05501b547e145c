"""Freezing a dispatch's audience into Message rows, in one set-based write.

Who is in: members of any audience segment (or, for a triggered dispatch, the customers
who triggered it, still within the audience segments when there are any), minus members of
any exclusion segment, in the campaign's tiers when it is a tier-only offer. Everyone in gets
a row: without consent or address it is ``skipped`` with the reason; the rest are split into
holdout (skipped, reason ``holdout``), test group and the rest (``waiting`` for the winner)
by the campaign's stable assignment. Freezing again inserts nothing twice (the unique
(campaign, customer, occurrence) constraint), so a worker killed while freezing is simply
run again.
"""

import datetime as dt

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper
from django.utils import timezone

from campaigns.audit import campaign_event_record
from campaigns.experiments.assignment import audience_groups
from campaigns.models import Campaign, CampaignEvent, Dispatch, Message, Variant
from campaigns.sending.policy import address_column, channel_unsubscribed, opt_in_q
from customers.models import Customer
from jobs.bulk import rows_copy
from segments.models import SegmentMembership

MESSAGE_COLUMNS = [
    "dispatch_id",
    "campaign_id",
    "customer_id",
    "occurrence",
    "variant_id",
    "in_test",
    "status",
    "skip_reason",
    "error",
    "attempts",
    "to_address",
    "coupon_code",
    "created_at",
    "provider_id",
]


def trigger_repeat_days() -> int:
    """A triggered campaign reaches the same customer at most once in this many days."""
    return int(getattr(settings, "PRECIS_TRIGGER_REPEAT_DAYS", 30))


def audience_frame(campaign: Campaign, *, customer_ids: list[int] | None = None) -> pd.DataFrame:
    """customer_id, address and consent of everyone the campaign would reach now."""
    customers = Customer.objects.all()
    segment_ids = list(campaign.audience_segments.values_list("pk", flat=True))
    if segment_ids:
        members = SegmentMembership.objects.filter(segment_id__in=segment_ids, left_at__isnull=True)
        customers = customers.filter(pk__in=members.values("customer_id"))
    elif customer_ids is None:
        return pd.DataFrame(columns=["customer_id", "address", "consent"])
    exclusion_ids = list(campaign.exclusion_segments.values_list("pk", flat=True))
    if exclusion_ids:
        excluded = SegmentMembership.objects.filter(segment_id__in=exclusion_ids, left_at__isnull=True)
        customers = customers.exclude(pk__in=excluded.values("customer_id"))
    if campaign.tiers:
        customers = customers.filter(member_tier__in=campaign.tiers)
    unsubscribed = channel_unsubscribed(campaign.channel)
    if unsubscribed is not None:
        customers = customers.exclude(pk__in=unsubscribed)
    if customer_ids is not None:
        customers = customers.filter(pk__in=customer_ids)
        recent = timezone.now() - dt.timedelta(days=trigger_repeat_days())
        already = Message.objects.filter(campaign=campaign, created_at__gte=recent).values("customer_id")
        customers = customers.exclude(pk__in=already)
    rows = (
        customers.annotate(consent=ExpressionWrapper(opt_in_q(campaign.channel), output_field=BooleanField()))
        .order_by("pk")
        .values_list("pk", address_column(campaign.channel), "consent")
    )
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        records = cursor.fetchall()
    frame = pd.DataFrame.from_records(records, columns=["customer_id", "address", "consent"], coerce_float=False)
    frame["consent"] = frame["consent"].astype(bool)
    return frame


def variant_weights(campaign: Campaign, variants: list[Variant], occurrence: int) -> list[int]:
    """The planned weights, or (recurring campaign with Thompson sampling, after the first
    occurrence) weights from each variant's posterior chance of being best so far."""
    planned = [max(1, variant.weight) for variant in variants]
    if not (campaign.thompson_sampling and occurrence > 0 and len(variants) > 1):
        return planned
    from campaigns.experiments.selectors import variant_weights_next

    learned = variant_weights_next(campaign_id=campaign.pk)
    return [learned.get(variant.pk, weight) for variant, weight in zip(variants, planned, strict=True)]


def message_rows(
    frame: pd.DataFrame, *, campaign: Campaign, dispatch: Dispatch, variants: list[Variant], weights: list[int]
) -> pd.DataFrame:
    """One row per audience member, with the status and variant the plan gives them."""
    size = len(frame)
    status = np.full(size, Message.Status.SKIPPED.value, dtype=object)
    reason = np.full(size, "", dtype=object)
    variant_id = np.full(size, -1, dtype=np.int64)
    in_test = np.zeros(size, dtype=bool)
    address = frame["address"].fillna("").astype(str).str.strip().to_numpy(dtype=object)
    consent = frame["consent"].to_numpy(dtype=bool)
    reason[~consent] = Message.SkipReason.NO_CONSENT.value
    no_address = consent & (address == "")
    reason[no_address] = Message.SkipReason.NO_ADDRESS.value
    eligible = consent & ~no_address
    if eligible.any():
        groups = audience_groups(
            frame["customer_id"].to_numpy(dtype=np.int64)[eligible],
            seed=campaign.seed,
            holdout_percent=campaign.holdout_percent,
            test_percent=campaign.test_percent if campaign.has_test_phase and dispatch.occurrence == 0 else 100,
            weights=weights,
        )
        ids = np.asarray([variant.pk for variant in variants], dtype=np.int64)
        chosen = groups.variant_index
        eligible_at = np.flatnonzero(eligible)
        holdout = chosen < 0
        reason[eligible_at[holdout]] = Message.SkipReason.HOLDOUT.value
        sending = eligible_at[~holdout]
        testing = groups.in_test[~holdout]
        status[sending] = np.where(testing, Message.Status.QUEUED.value, Message.Status.WAITING.value)
        in_test[sending] = testing & campaign.has_test_phase & (dispatch.occurrence == 0)
        variant_id[sending] = np.where(testing, ids[chosen[~holdout]], -1)
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    return pd.DataFrame({
        "dispatch_id": dispatch.pk,
        "campaign_id": campaign.pk,
        "customer_id": frame["customer_id"].to_numpy(dtype=np.int64),
        "occurrence": dispatch.occurrence,
        "variant_id": pd.Series(variant_id, dtype="Int64").mask(variant_id < 0),
        "in_test": in_test,
        "status": status,
        "skip_reason": reason,
        "error": "",
        "attempts": 0,
        "to_address": np.where(eligible, address, ""),
        "coupon_code": "",
        "created_at": created_at,
        "provider_id": "",
    })  # fmt: skip


def dispatch_freeze(*, dispatch_id: int) -> Dispatch:
    """Freeze the audience and give out coupon codes; the returned dispatch is ``sending``
    (or ``testing`` when only the rest of a test audience is left). Safe to run twice."""
    dispatch = Dispatch.objects.select_related("campaign").get(pk=dispatch_id)
    if dispatch.status != Dispatch.Status.FREEZING:
        return dispatch
    Dispatch.objects.filter(pk=dispatch_id).update(heartbeat_at=timezone.now())
    campaign = dispatch.campaign
    triggered = campaign.schedule_kind == Campaign.ScheduleKind.TRIGGER
    frame = audience_frame(campaign, customer_ids=dispatch.customer_ids if triggered else None)
    variants = list(campaign.variants.order_by("key"))
    rows = message_rows(
        frame,
        campaign=campaign,
        dispatch=dispatch,
        variants=variants,
        weights=variant_weights(campaign, variants, dispatch.occurrence),
    )
    with transaction.atomic():
        rows_copy(Message._meta.db_table, MESSAGE_COLUMNS, rows, conflict_ignore=True)
        if campaign.coupon_pool_id:
            from campaigns.coupons.services import coupons_assign

            coupons_assign(dispatch_id=dispatch_id)
        counts = dict(
            Message.objects.filter(dispatch_id=dispatch_id)
            .values("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        testing = counts.get(Message.Status.WAITING) and not counts.get(Message.Status.QUEUED)
        status = Dispatch.Status.TESTING if testing else Dispatch.Status.SENDING
        now = timezone.now()
        updated = Dispatch.objects.filter(pk=dispatch_id, status=Dispatch.Status.FREEZING).update(
            status=status,
            audience=sum(counts.values()),
            frozen_at=now,
            heartbeat_at=now,
            winner_due_at=now + dt.timedelta(hours=campaign.winner_after_hours)
            if status == Dispatch.Status.TESTING
            else None,
        )
        if updated:
            campaign_event_record(
                campaign_id=campaign.pk,
                action=CampaignEvent.Action.DISPATCHED,
                occurrence=dispatch.occurrence,
                audience=sum(counts.values()),
                **{f"{key}_count": value for key, value in counts.items()},
            )
    dispatch.refresh_from_db()
    return dispatch
