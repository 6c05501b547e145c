"""Starting, pausing, resuming and cancelling sends; the winner of a test; recurring
occurrences. Campaign lifecycle services (campaigns/services.py) call these after the
campaign's status has moved; workers call them from tasks.
"""

import datetime as dt
import json
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from campaigns.audit import campaign_event_record
from campaigns.models import Campaign, CampaignEvent, Dispatch, Message
from jobs.queue import task_send

OCCURRENCE_TASK = "campaigns.campaign_occurrence"


def send_parallel() -> int:
    """How many drain tasks a dispatch starts (at most this many workers send it at once)."""
    return int(getattr(settings, "PRECIS_SEND_PARALLEL", 2))


def drains_start(*, dispatch_id: int, count: int | None = None) -> None:
    for _ in range(count or send_parallel()):
        task_send("campaigns.dispatch_drain", dispatch_id)


def dispatch_create(*, campaign_id: int, customer_ids: list[int] | None = None) -> Dispatch:
    """A new going-out of the campaign: the next occurrence number, audience not yet frozen."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        last = campaign.dispatches.aggregate(last=Max("occurrence"))["last"]
        return Dispatch.objects.create(
            campaign=campaign,
            occurrence=0 if last is None else last + 1,
            customer_ids=sorted(customer_ids) if customer_ids is not None else [],
            heartbeat_at=timezone.now(),
        )


def dispatch_start(*, campaign_id: int, customer_ids: list[int] | None = None) -> Dispatch:
    """Create a dispatch and have a worker freeze and send it once the caller's transaction
    has committed (a worker must see the dispatch row)."""
    dispatch = dispatch_create(campaign_id=campaign_id, customer_ids=customer_ids)
    transaction.on_commit(partial(task_send, "campaigns.dispatch_freeze", dispatch.pk))
    return dispatch


def after_freeze(dispatch: Dispatch) -> None:
    """A frozen dispatch with messages to send gets its drains (a drain that finds nothing
    to send settles the dispatch, so an audience of nobody still ends as done)."""
    if dispatch.status == Dispatch.Status.SENDING:
        drains_start(dispatch_id=dispatch.pk)


def campaign_go(*, campaign_id: int) -> None:
    """The campaign was launched: send now, or arm its schedule or trigger."""
    campaign = Campaign.objects.get(pk=campaign_id)
    kind = campaign.schedule_kind
    if kind == Campaign.ScheduleKind.NOW:
        Campaign.objects.filter(pk=campaign_id).update(launched_at=timezone.now())
        dispatch_start(campaign_id=campaign_id)
    elif kind == Campaign.ScheduleKind.RECURRING:
        recurrence_arm(campaign)
    elif kind == Campaign.ScheduleKind.TRIGGER:
        Campaign.objects.filter(pk=campaign_id, trigger_checked_at__isnull=True).update(
            trigger_checked_at=timezone.now()
        )
    # "At a time": the sending tick starts it when it is due.


def recurrence_arm(campaign: Campaign) -> PeriodicTask:
    """A django-celery-beat crontab entry in the campaign's time zone."""
    fields = {key: str(campaign.recurrence.get(key, "*")) for key in CRONTAB_FIELDS}
    crontab, _ = CrontabSchedule.objects.get_or_create(timezone=campaign.time_zone, **fields)
    task = campaign.periodic_task
    if task is None:
        task = PeriodicTask(name=f"campaign {campaign.pk}", task=OCCURRENCE_TASK)
    task.crontab = crontab
    task.args = json.dumps([campaign.pk])
    task.enabled = True
    task.description = campaign.name
    task.save()
    Campaign.objects.filter(pk=campaign.pk).update(periodic_task=task)
    return task


CRONTAB_FIELDS = ("minute", "hour", "day_of_week", "day_of_month", "month_of_year")


def campaign_occurrence(*, campaign_id: int) -> Dispatch | None:
    """One occurrence of a recurring campaign; skipped (and recorded) while the previous one
    is still going out, so occurrences never overlap."""
    campaign = Campaign.objects.get(pk=campaign_id)
    if campaign.status != Campaign.Status.SCHEDULED:
        return None
    busy = campaign.dispatches.filter(
        status__in=[Dispatch.Status.FREEZING, Dispatch.Status.SENDING, Dispatch.Status.TESTING]
    ).exists()
    if busy:
        campaign_event_record(campaign_id=campaign_id, action=CampaignEvent.Action.UPDATED, skipped="previous_busy")
        return None
    if campaign.launched_at is None:
        Campaign.objects.filter(pk=campaign_id).update(launched_at=timezone.now())
    return dispatch_start(campaign_id=campaign_id)


def campaign_halt(*, campaign_id: int, cancel: bool) -> None:
    """Pause (messages stay queued) or cancel (queued and waiting messages are skipped with
    reason cancelled) everything of the campaign that is still going out."""
    live = [Dispatch.Status.FREEZING, Dispatch.Status.SENDING, Dispatch.Status.TESTING]
    with transaction.atomic():
        Campaign.objects.select_for_update().get(pk=campaign_id)
        dispatches = Dispatch.objects.filter(campaign_id=campaign_id)
        if cancel:
            dispatches.filter(status__in=[*live, Dispatch.Status.PAUSED]).update(
                status=Dispatch.Status.CANCELLED, finished_at=timezone.now()
            )
            Message.objects.filter(
                campaign_id=campaign_id, status__in=[Message.Status.QUEUED, Message.Status.WAITING]
            ).update(status=Message.Status.SKIPPED, skip_reason=Message.SkipReason.CANCELLED)
        else:
            dispatches.filter(status__in=live).update(status=Dispatch.Status.PAUSED)
        _schedule_enable(campaign_id, enabled=False)


def campaign_resume(*, campaign_id: int) -> None:
    """Carry on where the pause stopped: paused dispatches go on sending (or wait for their
    winner), a recurring schedule is enabled again."""
    for dispatch in Dispatch.objects.filter(campaign_id=campaign_id, status=Dispatch.Status.PAUSED):
        if dispatch.frozen_at is None:
            Dispatch.objects.filter(pk=dispatch.pk).update(status=Dispatch.Status.FREEZING)
            task_send("campaigns.dispatch_freeze", dispatch.pk)
            continue
        pending = dispatch.messages.filter(status__in=[Message.Status.QUEUED, Message.Status.SENDING]).exists()
        status = Dispatch.Status.SENDING if pending else Dispatch.Status.TESTING
        Dispatch.objects.filter(pk=dispatch.pk).update(status=status)
        if status == Dispatch.Status.SENDING:
            drains_start(dispatch_id=dispatch.pk)
    _schedule_enable(campaign_id, enabled=True)


def _schedule_enable(campaign_id: int, *, enabled: bool) -> None:
    task_id = Campaign.objects.filter(pk=campaign_id).values_list("periodic_task_id", flat=True).first()
    if task_id:
        PeriodicTask.objects.filter(pk=task_id).update(enabled=enabled)


def dispatch_winner_release(*, dispatch_id: int) -> bool:
    """The test is over: the rest of the audience gets the winning variant."""
    from campaigns.experiments.winner import winner_choose

    with transaction.atomic():
        dispatch = Dispatch.objects.select_for_update().get(pk=dispatch_id)
        if dispatch.status != Dispatch.Status.TESTING:
            return False
        decision = winner_choose(dispatch_id=dispatch_id)
        released = Message.objects.filter(dispatch_id=dispatch_id, status=Message.Status.WAITING).update(
            status=Message.Status.QUEUED, variant_id=decision.variant_id
        )
        dispatch.status = Dispatch.Status.SENDING
        dispatch.winner_id = decision.variant_id
        dispatch.save(update_fields=["status", "winner"])
        if dispatch.campaign.coupon_pool_id:
            from campaigns.coupons.services import coupons_assign

            coupons_assign(dispatch_id=dispatch_id)
        campaign_event_record(
            campaign_id=dispatch.campaign_id,
            action=CampaignEvent.Action.WINNER_CHOSEN,
            variant=decision.variant_id,
            reason=str(decision.reason),
            sentence=str(decision.sentence),
            released=released,
        )
    drains_start(dispatch_id=dispatch_id)
    return True


def campaigns_due(*, now: dt.datetime | None = None) -> list[int]:
    """Start the "at a time" campaigns whose time has come."""
    from campaigns.audit import campaign_transition
    from campaigns.errors import CampaignError

    now = now or timezone.now()
    started = []
    due = Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, schedule_kind=Campaign.ScheduleKind.AT, send_at__lte=now
    )
    for campaign_id in due.values_list("pk", flat=True):
        try:
            campaign_transition(
                campaign_id=campaign_id,
                to_status=Campaign.Status.SENDING,
                action=CampaignEvent.Action.LAUNCHED,
                only_from={Campaign.Status.SCHEDULED},
            )
        except CampaignError:
            continue  # paused or cancelled a moment ago
        Campaign.objects.filter(pk=campaign_id).update(launched_at=now)
        dispatch_start(campaign_id=campaign_id)
        started.append(campaign_id)
    return started
