"""Sending a dispatch: any number of workers claim batches of queued messages, send them
and record each outcome. The database, not the broker, is the source of truth.

Exactly once: a worker *claims* a batch in one transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so two workers never take the same row), marking it ``sending`` with a lease.
A worker killed after handing messages to the backend but before recording them leaves
rows ``sending``; when the lease lapses another worker sends them again. Backends that
declare themselves idempotent (the local file sink, HTTP endpoints honouring
Idempotency-Key) recognise the repeat by the message id, so the customer still gets one
message; with a non-idempotent backend (SMTP) each message is recorded right after its own
hand-over, which narrows the window to one message per killed worker.

Before a batch is sent, the rules are checked again at claim time, because a send can start
hours after the freeze: consent (an unsubscribe since), the frequency cap across all
campaigns (customers' rows are locked while counting, so two campaigns cannot both take the
last slot), and quiet hours in each recipient's time zone (held back until they end).
"""

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from campaigns.audit import campaign_event_record, campaign_transition
from campaigns.channels import backend_for
from campaigns.channels.base import DeliveryOutcome
from campaigns.content.context import message_contexts
from campaigns.content.rendering import outgoing_render, variant_compile
from campaigns.models import Campaign, CampaignEvent, Dispatch, Message, Variant
from campaigns.sending.dispatch import drains_start
from campaigns.sending.policy import (
    known_zone,
    lease_seconds,
    max_attempts,
    may_receive,
    quiet_hours_release,
    retry_backoff,
    sending_policy,
)
from customers.models import Customer

logger = logging.getLogger(__name__)
Status = Message.Status


def batch_size() -> int:
    return int(getattr(settings, "PRECIS_SEND_BATCH", 200))


def drain_budget_seconds() -> float:
    """How long one drain task sends before it hands over to a fresh task (fair sharing of
    workers between campaigns, and no task runs for hours)."""
    return float(getattr(settings, "PRECIS_SEND_TASK_SECONDS", 120))


@dataclass
class DrainResult:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    continue_in: float | None = None  # seconds until there is more to do; None: nothing left
    reasons: dict[str, int] = field(default_factory=dict)


def leases_release(*, dispatch_id: int) -> int:
    """Messages whose worker vanished go back to the queue (their attempt is counted)."""
    return Message.objects.filter(
        dispatch_id=dispatch_id, status=Status.SENDING, lease_until__lt=timezone.now()
    ).update(status=Status.QUEUED, lease_until=None)


def _customers_lock(customer_ids: list[int]) -> None:
    """Serialise frequency-cap counting per customer across concurrent campaigns. NO KEY
    UPDATE does not block inserts of rows referencing the customer (FOR KEY SHARE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM customers_customer WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", [customer_ids]
            )


def _skip(message_ids, reason: str) -> int:
    if len(message_ids) == 0:
        return 0
    return Message.objects.filter(pk__in=[int(pk) for pk in message_ids]).update(
        status=Status.SKIPPED, skip_reason=reason, lease_until=None
    )


def batch_claim(*, dispatch: Dispatch, campaign: Campaign, size: int, result: DrainResult) -> list[tuple[int, int]]:
    """Take up to ``size`` due messages of the dispatch for this worker; returns
    (message id, variant id) pairs. Rules failing now are recorded (skipped / held back)."""
    now = timezone.now()
    policy = sending_policy()
    with transaction.atomic():
        due = Message.objects.filter(dispatch_id=dispatch.pk, status=Status.QUEUED).filter(
            Q(not_before__isnull=True) | Q(not_before__lte=now)
        )
        rows = list(
            due.order_by("pk").select_for_update(skip_locked=True).values_list("pk", "customer_id", "variant_id")[:size]
        )
        if not rows:
            return []
        batch = pd.DataFrame(rows, columns=["message_id", "customer_id", "variant_id"])
        customer_ids = sorted(int(pk) for pk in batch["customer_id"].unique())
        if policy.frequency_cap_messages:
            _customers_lock(customer_ids)
        people = pd.DataFrame(
            Customer.objects.filter(pk__in=customer_ids)
            .annotate(consent=may_receive(campaign.channel))
            .values_list("pk", "attributes__time_zone", "consent"),
            columns=["customer_id", "time_zone", "consent"],
        )
        batch = batch.merge(people[["customer_id", "time_zone", "consent"]], on="customer_id", how="left")
        batch["consent"] = batch["consent"].fillna(False).astype(bool)

        lost = batch[~batch["consent"]]
        result.skipped += _skip(lost["message_id"], Message.SkipReason.NO_CONSENT)
        batch = batch[batch["consent"]]

        if policy.frequency_cap_messages and not batch.empty:
            since = now - dt.timedelta(days=policy.frequency_cap_days)
            recent = dict(
                Message.objects.filter(customer_id__in=batch["customer_id"].tolist())
                .filter(Q(status=Status.SENT, sent_at__gte=since) | Q(status=Status.SENDING))
                .values("customer_id")
                .annotate(n=Count("pk"))
                .values_list("customer_id", "n")
            )
            over = batch["customer_id"].map(recent).fillna(0).to_numpy() >= policy.frequency_cap_messages
            result.skipped += _skip(batch.loc[over, "message_id"], Message.SkipReason.FREQUENCY_CAP)
            batch = batch[~over]

        if policy.quiet_hours_enabled and not batch.empty:
            zones = batch["time_zone"].map(lambda name: known_zone(name, campaign.time_zone))
            release = quiet_hours_release(now, zones, start=policy.quiet_start, end=policy.quiet_end)
            held = release.notna().to_numpy()
            for until, group in batch[held].groupby(release[held]):
                Message.objects.filter(pk__in=group["message_id"].astype(int).tolist()).update(
                    not_before=until.to_pydatetime()
                )
            batch = batch[~held]

        claimed = [int(pk) for pk in batch["message_id"]]
        if claimed:
            Message.objects.filter(pk__in=claimed).update(
                status=Status.SENDING,
                lease_until=now + dt.timedelta(seconds=lease_seconds()),
                attempts=F("attempts") + 1,
            )
    return [(int(m), int(v)) for m, v in zip(batch["message_id"], batch["variant_id"], strict=True)]


def outcomes_record(outcomes: list[DeliveryOutcome], result: DrainResult) -> None:
    """Write what the backend said: sent, retried later (temporary error, with backoff) or
    failed (permanent error, or out of attempts)."""
    now = timezone.now()
    delivered = [outcome for outcome in outcomes if outcome.ok]
    if delivered:
        _sent_record(delivered, now)
        result.sent += len(delivered)
    refused = [outcome for outcome in outcomes if not outcome.ok]
    if not refused:
        return
    attempts = dict(Message.objects.filter(pk__in=[o.message_id for o in refused]).values_list("pk", "attempts"))
    for outcome in refused:
        tries = attempts.get(outcome.message_id, 1)
        update = {"error": outcome.error[:2000], "lease_until": None}
        if outcome.temporary and tries < max_attempts():
            update |= {"status": Status.QUEUED, "not_before": now + dt.timedelta(seconds=float(retry_backoff(tries)))}
            result.retried += 1
        else:
            update |= {"status": Status.FAILED}
            result.failed += 1
        Message.objects.filter(pk=outcome.message_id).update(**update)


def _sent_record(delivered: list[DeliveryOutcome], now: dt.datetime) -> None:
    ids = [outcome.message_id for outcome in delivered]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "UPDATE campaigns_message AS m SET status = 'sent', sent_at = %s, lease_until = NULL, error = '', "
                "provider_id = v.provider_id FROM unnest(%s::bigint[], %s::text[]) AS v(id, provider_id) "
                "WHERE m.id = v.id",
                [now, ids, [outcome.provider_id[:255] for outcome in delivered]],
            )
        else:
            cursor.executemany(
                "UPDATE campaigns_message SET status = 'sent', sent_at = %s, lease_until = NULL, error = '', "
                "provider_id = %s WHERE id = %s",
                [(connection.ops.adapt_datetimefield_value(now), o.provider_id[:255], o.message_id) for o in delivered],
            )


class VariantCache(dict):
    """Templates are parsed once per variant per drain, not once per message."""

    def __init__(self, channel: str) -> None:
        super().__init__()
        self.channel = channel

    def __missing__(self, variant_id: int):
        compiled = variant_compile(Variant.objects.get(pk=variant_id), channel=self.channel)
        self[variant_id] = compiled
        return compiled


def batch_send(*, claimed: list[tuple[int, int]], backend, variants: VariantCache, result: DrainResult) -> None:
    contexts = message_contexts(message_ids=[message_id for message_id, _ in claimed])
    outgoing, broken = [], []
    for message_id, variant_id in claimed:
        try:
            outgoing.append(outgoing_render(variants[variant_id], contexts[message_id]))
        except Exception as error:  # a template failing for one customer must not stop the others
            logger.warning("message %s did not render: %s", message_id, error)
            broken.append(DeliveryOutcome(message_id=message_id, ok=False, error=f"render: {error}"))
    if broken:
        outcomes_record(broken, result)
    if backend.idempotent:
        outcomes_record(backend.send_many(outgoing), result)
    else:  # recorded one by one as handed over: a killed worker repeats at most one
        backend.send_many(outgoing, each=lambda outcome: outcomes_record([outcome], result))


def dispatch_drain(*, dispatch_id: int, budget_seconds: float | None = None) -> DrainResult:
    """Send queued messages of the dispatch until none is due or the budget is spent."""
    deadline = time.monotonic() + (budget_seconds if budget_seconds is not None else drain_budget_seconds())
    result = DrainResult()
    dispatch = Dispatch.objects.select_related("campaign").get(pk=dispatch_id)
    if dispatch.status != Dispatch.Status.SENDING:
        return result
    campaign = dispatch.campaign
    if leases_release(dispatch_id=dispatch_id):
        # Their worker is gone, and with it a drain: start one in its place.
        drains_start(dispatch_id=dispatch_id, count=1)
    backend = backend_for(campaign.channel)
    variants = VariantCache(campaign.channel)
    size = batch_size()
    while time.monotonic() < deadline:
        claimed = batch_claim(dispatch=dispatch, campaign=campaign, size=size, result=result)
        if not claimed:
            break
        sent_before = result.sent
        batch_send(claimed=claimed, backend=backend, variants=variants, result=result)
        still = Dispatch.objects.filter(pk=dispatch_id, status=Dispatch.Status.SENDING).update(
            heartbeat_at=timezone.now(), sent=F("sent") + (result.sent - sent_before)
        )
        if not still:  # paused or cancelled meanwhile
            return result
    result.continue_in = dispatch_settle(dispatch_id=dispatch_id)
    return result


def dispatch_settle(*, dispatch_id: int) -> float | None:
    """After a drain: seconds until more of this dispatch is due (0: now), or None when
    nothing is left to send, in which case the dispatch moves on (testing or done)."""
    now = timezone.now()
    pending = Message.objects.filter(dispatch_id=dispatch_id, status__in=[Status.QUEUED, Status.SENDING])
    if pending.exists():
        due = pending.aggregate(
            queued=Min("not_before", filter=Q(status=Status.QUEUED)),
            any_queued=Count("pk", filter=Q(status=Status.QUEUED, not_before__isnull=True)),
            lease=Min("lease_until", filter=Q(status=Status.SENDING)),
        )
        if due["any_queued"]:
            return 0.0
        moments = [moment for moment in (due["queued"], due["lease"]) if moment is not None]
        return max(0.0, (min(moments) - now).total_seconds()) if moments else 0.0
    waiting = Message.objects.filter(dispatch_id=dispatch_id, status=Status.WAITING).exists()
    with transaction.atomic():
        dispatch = Dispatch.objects.select_for_update().select_related("campaign").get(pk=dispatch_id)
        if dispatch.status != Dispatch.Status.SENDING:
            return None
        campaign = dispatch.campaign
        if waiting:
            dispatch.status = Dispatch.Status.TESTING
            dispatch.winner_due_at = now + dt.timedelta(hours=campaign.winner_after_hours)
            dispatch.save(update_fields=["status", "winner_due_at"])
            return None
        counts = dict(
            Message.objects.filter(dispatch_id=dispatch_id)
            .values("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        dispatch.status = Dispatch.Status.DONE
        dispatch.finished_at = now
        dispatch.sent = counts.get(Status.SENT, 0)
        dispatch.save(update_fields=["status", "finished_at", "sent"])
        if campaign.schedule_kind in (Campaign.ScheduleKind.NOW, Campaign.ScheduleKind.AT):
            if campaign.status == Campaign.Status.SENDING:
                campaign_transition(
                    campaign_id=campaign.pk,
                    to_status=Campaign.Status.SENT,
                    action=CampaignEvent.Action.SENT,
                    only_from={Campaign.Status.SENDING},
                    **counts,
                )
                Campaign.objects.filter(pk=campaign.pk).update(finished_at=now)
        else:
            campaign_event_record(
                campaign_id=campaign.pk, action=CampaignEvent.Action.SENT, occurrence=dispatch.occurrence, **counts
            )
    return None
