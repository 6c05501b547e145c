"""The sending tick (django-celery-beat, every few seconds): what keeps sends going when
a worker dies or the broker loses its queue, and what starts timed work.

The broker only carries "go and look" nudges; everything a tick needs is in the database,
so a Redis restart that empties the queues costs at most one tick of delay.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from campaigns.models import Dispatch, Message
from campaigns.sending.dispatch import campaigns_due, dispatch_winner_release, drains_start
from campaigns.sending.drain import leases_release
from campaigns.sending.triggers import triggers_poll
from jobs.queue import task_send

# A sending dispatch whose workers have not reported for this long gets new drains.
STALE_SENDING = dt.timedelta(seconds=60)
# A dispatch still freezing after this long is frozen again (the freeze is idempotent).
STALE_FREEZING = dt.timedelta(minutes=5)


@dataclass
class TickResult:
    started: list[int] = field(default_factory=list)
    refrozen: list[int] = field(default_factory=list)
    revived: list[int] = field(default_factory=list)
    winners: list[int] = field(default_factory=list)
    triggered: dict[int, int] = field(default_factory=dict)


def sending_tick(*, now: dt.datetime | None = None) -> TickResult:
    now = now or timezone.now()
    result = TickResult(started=campaigns_due(now=now))

    for dispatch_id in Dispatch.objects.filter(
        status=Dispatch.Status.FREEZING, heartbeat_at__lt=now - STALE_FREEZING
    ).values_list("pk", flat=True):
        Dispatch.objects.filter(pk=dispatch_id).update(heartbeat_at=now)
        task_send("campaigns.dispatch_freeze", dispatch_id)
        result.refrozen.append(dispatch_id)

    for dispatch_id in Dispatch.objects.filter(
        status=Dispatch.Status.SENDING, heartbeat_at__lt=now - STALE_SENDING
    ).values_list("pk", flat=True):
        leases_release(dispatch_id=dispatch_id)
        due = Message.objects.filter(dispatch_id=dispatch_id, status=Message.Status.QUEUED).exclude(not_before__gt=now)
        nothing_left = not Message.objects.filter(
            dispatch_id=dispatch_id, status__in=[Message.Status.QUEUED, Message.Status.SENDING]
        ).exists()
        if due.exists() or nothing_left:
            # Counted as a sign of life so the next tick does not pile up more drains.
            Dispatch.objects.filter(pk=dispatch_id).update(heartbeat_at=now)
            drains_start(dispatch_id=dispatch_id)
            result.revived.append(dispatch_id)

    for dispatch_id in Dispatch.objects.filter(status=Dispatch.Status.TESTING, winner_due_at__lte=now).values_list(
        "pk", flat=True
    ):
        if dispatch_winner_release(dispatch_id=dispatch_id):
            result.winners.append(dispatch_id)

    result.triggered = triggers_poll(now=now)
    return result
