"""What recipients did with a message: opens, clicks, unsubscribes, bounces and spam
complaints.

Every call adds a ``TrackingEvent`` (reports count every open and click) and sets the
message's matching timestamp the first time only (``opened_at`` … ``complained_at``, one
conditional UPDATE, so two concurrent first opens record one time). A click also counts
as an open when the pixel was blocked. Unsubscribes, hard bounces and complaints turn the
customer's consent for the message's channel off through
``customers.services.customer_consent_withdraw``; the sender re-checks consent before
every batch, so nothing more is sent to them. A webhook-channel message has no consent of
its own in the customer data: its unsubscribe is recorded on the message only.
"""

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.models import Message, TrackingEvent
from customers.services import CONSENT_FIELDS, customer_consent_withdraw

Kind = TrackingEvent.Kind


def _record(
    message: Message, *, kind: str, first_field: str, at: dt.datetime | None, url: str = "", details: dict | None = None
) -> bool:
    """Add the event and set ``first_field`` if it is still empty; True the first time."""
    at = at or timezone.now()
    first = bool(Message.objects.filter(pk=message.pk, **{f"{first_field}__isnull": True}).update(**{first_field: at}))
    if first:
        setattr(message, first_field, at)
    TrackingEvent.objects.create(message_id=message.pk, kind=kind, at=at, url=url[:2000], details=details or {})
    return first


def _consent_withdraw(message: Message, *, channel: str, at: dt.datetime) -> bool:
    if channel not in CONSENT_FIELDS:
        return False
    return customer_consent_withdraw(customer_id=message.customer_id, channel=channel, at=at)


def _channel(message: Message) -> str:
    return message.campaign.channel


@transaction.atomic
def tracking_open_record(*, message: Message, at: dt.datetime | None = None, details: dict | None = None) -> bool:
    """An open (the pixel was loaded, or an ESP reported one). True the first time."""
    return _record(message, kind=Kind.OPEN, first_field="opened_at", at=at, details=details)


@transaction.atomic
def tracking_click_record(
    *, message: Message, url: str, at: dt.datetime | None = None, details: dict | None = None
) -> bool:
    """A click on ``url``; also the first open when the pixel did not load. True the
    first time the message was clicked."""
    at = at or timezone.now()
    if Message.objects.filter(pk=message.pk, opened_at__isnull=True).update(opened_at=at):
        message.opened_at = at
    return _record(message, kind=Kind.CLICK, first_field="clicked_at", at=at, url=url, details=details)


@transaction.atomic
def unsubscribe_record(
    *, message: Message, at: dt.datetime | None = None, details: dict[str, Any] | None = None
) -> bool:
    """The recipient unsubscribed from the message's channel (link, one-click POST or an
    ESP's report). Idempotent apart from the added event; True the first time."""
    at = at or timezone.now()
    first = _record(message, kind=Kind.UNSUBSCRIBE, first_field="unsubscribed_at", at=at, details=details)
    _consent_withdraw(message, channel=_channel(message), at=at)
    return first


@transaction.atomic
def bounce_record(
    *, message: Message, hard: bool, at: dt.datetime | None = None, details: dict[str, Any] | None = None
) -> bool:
    """A bounce. A hard bounce (the address does not exist) turns the channel's consent
    off so the address is not tried again; a soft one is only recorded."""
    at = at or timezone.now()
    first = _record(
        message, kind=Kind.BOUNCE, first_field="bounced_at", at=at, details={"hard": hard, **(details or {})}
    )
    if hard:
        _consent_withdraw(message, channel=_channel(message), at=at)
    return first


@transaction.atomic
def complaint_record(*, message: Message, at: dt.datetime | None = None, details: dict[str, Any] | None = None) -> bool:
    """A spam complaint (feedback loop): consent for the channel goes off."""
    at = at or timezone.now()
    first = _record(message, kind=Kind.COMPLAINT, first_field="complained_at", at=at, details=details)
    _consent_withdraw(message, channel=_channel(message), at=at)
    return first
