"""The campaign state machine and its audit trail.

Every change of a campaign's status goes through ``campaign_transition``: it checks the
move is allowed from the status the row has *in the database* (locked), so a pause from
the UI and a worker finishing the send cannot both win, and it writes the CampaignEvent.
"""

from typing import Any

from django.db import transaction

from campaigns.errors import CampaignError, CampaignErrorCode
from campaigns.models import Campaign, CampaignEvent

Status = Campaign.Status

# Which statuses each status may move to.
ALLOWED_MOVES: dict[str, set[str]] = {
    Status.DRAFT: {Status.SCHEDULED, Status.SENDING, Status.CANCELLED},
    Status.SCHEDULED: {Status.SENDING, Status.PAUSED, Status.CANCELLED, Status.DRAFT},
    Status.SENDING: {Status.SENT, Status.SCHEDULED, Status.PAUSED, Status.CANCELLED},
    Status.PAUSED: {Status.SCHEDULED, Status.SENDING, Status.CANCELLED},
    Status.SENT: set(),
    Status.CANCELLED: set(),
}


def campaign_event_record(
    *, campaign_id: int, action: str, actor=None, from_status: str = "", to_status: str = "", **details: Any
) -> CampaignEvent:
    return CampaignEvent.objects.create(
        campaign_id=campaign_id,
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        from_status=from_status,
        to_status=to_status,
        details=details,
    )


@transaction.atomic
def campaign_transition(
    *, campaign_id: int, to_status: str, action: str, actor=None, only_from: set[str] | None = None, **details: Any
) -> Campaign:
    """Move the campaign to ``to_status`` or raise CampaignError(not_allowed).

    ``only_from`` narrows the allowed starting statuses further (a worker finishing a send
    only moves a campaign that is still ``sending``).
    """
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    allowed = ALLOWED_MOVES[campaign.status]
    if to_status not in allowed or (only_from is not None and campaign.status not in only_from):
        raise CampaignError(
            CampaignErrorCode.NOT_ALLOWED, field="status", current=campaign.get_status_display(), target=to_status
        )
    from_status = campaign.status
    campaign.status = to_status
    campaign.save(update_fields=["status", "updated_at"])
    campaign_event_record(
        campaign_id=campaign_id, action=action, actor=actor, from_status=from_status, to_status=to_status, **details
    )
    return campaign
