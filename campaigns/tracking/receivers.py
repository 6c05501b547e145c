"""Delivery and tracking reports from ESPs through django-anymail's webhooks.

Anymail verifies each ESP's webhook (basic auth / the ESP's signature, configured in the
``ANYMAIL`` setting) and sends its ``tracking`` signal with a normalised event; this
receiver maps the events about a campaign message to the tracking services:

- ``bounced`` → bounce, hard unless the reason is ``timed_out`` / ``other`` or the MTA
  answered with a 4xx (temporary) code; ``rejected`` for an invalid or bounced address →
  hard bounce; ``deferred`` is a delay, not a failure, and is ignored;
- ``complained`` → complaint; ``unsubscribed`` → unsubscribe.

Opens and clicks counted by the ESP are ignored: Precis counts its own (pixel and click
links), and counting both would double them. The message is found by the metadata the
email channel sends (``precis_message_id``), else by the ESP's message id
(``Message.provider_id``), else by our Message-ID header when the ESP reports that.

The ESP webhook URLs are anymail's, under /api/campaigns/webhooks/anymail/: for example
/api/campaigns/webhooks/anymail/mailgun/tracking/.
"""

import logging
import re

from anymail.signals import AnymailTrackingEvent, EventType, tracking
from django.dispatch import receiver

from campaigns.channels.email import METADATA_KEY, message_id_from_header
from campaigns.models import Message
from campaigns.tracking.services import bounce_record, complaint_record, unsubscribe_record

logger = logging.getLogger(__name__)
HARD_REJECT_REASONS = {"bounced", "invalid"}
SOFT_BOUNCE_REASONS = {"timed_out", "other"}
TEMPORARY_SMTP_ANSWER = re.compile(r"^\s*(smtp;\s*)?(4\d\d\b|4\.\d{1,3}\.\d{1,3}\b)", re.IGNORECASE)


def bounce_hard(event: AnymailTrackingEvent) -> bool:
    if event.event_type == EventType.REJECTED:
        return True
    if event.reject_reason in SOFT_BOUNCE_REASONS:
        return False
    return not TEMPORARY_SMTP_ANSWER.match(event.mta_response or "")


def message_for_event(event: AnymailTrackingEvent) -> Message | None:
    messages = Message.objects.select_related("campaign")
    metadata = event.metadata or {}
    ours = str(metadata.get(METADATA_KEY, "") or "")
    if ours.isdigit():
        message = messages.filter(pk=int(ours)).first()
        if message is not None:
            return message
    provider_id = str(event.message_id or "")
    if not provider_id:
        return None
    message = messages.filter(provider_id=provider_id).order_by("-id").first()
    if message is None:
        message_id = message_id_from_header(provider_id)
        message = messages.filter(pk=message_id).first() if message_id else None
    return message


@receiver(tracking, dispatch_uid="precis.campaigns.tracking.anymail")
def anymail_tracking_receive(sender, event: AnymailTrackingEvent, esp_name: str = "", **kwargs) -> None:
    kind = event.event_type
    if kind not in (EventType.BOUNCED, EventType.REJECTED, EventType.COMPLAINED, EventType.UNSUBSCRIBED):
        return
    if kind == EventType.REJECTED and event.reject_reason not in HARD_REJECT_REASONS:
        return
    message = message_for_event(event)
    if message is None:
        logger.info("anymail %s event for an unknown message %r", kind, event.message_id)
        return
    details = {
        "source": f"anymail:{esp_name}",
        "event_id": event.event_id or "",
        "reject_reason": event.reject_reason or "",
        "description": (event.description or "")[:500],
        "mta_response": (event.mta_response or "")[:500],
    }
    if kind in (EventType.BOUNCED, EventType.REJECTED):
        bounce_record(message=message, hard=bounce_hard(event), at=event.timestamp, details=details)
    elif kind == EventType.COMPLAINED:
        complaint_record(message=message, at=event.timestamp, details=details)
    else:
        unsubscribe_record(message=message, at=event.timestamp, details=details)
