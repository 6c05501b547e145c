"""Writes to the sending policy (quiet hours and the frequency cap)."""

import datetime as dt

from django.db import transaction

from campaigns.errors import CampaignError, CampaignErrorCode
from campaigns.models import SendingPolicy
from campaigns.sending.policy import sending_policy


@transaction.atomic
def sending_policy_update(
    *,
    quiet_hours_enabled: bool,
    quiet_start: dt.time,
    quiet_end: dt.time,
    frequency_cap_messages: int,
    frequency_cap_days: int,
) -> SendingPolicy:
    """Quiet hours may wrap midnight (21:00–09:00); equal start and end would mean no
    quiet hours at all, which is what the switch is for."""
    if quiet_hours_enabled and quiet_start == quiet_end:
        raise CampaignError(CampaignErrorCode.INVALID, field="quiet_end", label="quiet_end",
                            reason="quiet hours must start and end at different times")  # fmt: skip
    if not 0 <= frequency_cap_messages <= 1000:
        raise CampaignError(CampaignErrorCode.OUT_OF_RANGE, field="frequency_cap_messages",
                            label="frequency_cap_messages", low=0, high=1000)  # fmt: skip
    if not 1 <= frequency_cap_days <= 365:
        raise CampaignError(CampaignErrorCode.OUT_OF_RANGE, field="frequency_cap_days",
                            label="frequency_cap_days", low=1, high=365)  # fmt: skip
    policy = sending_policy()
    policy.quiet_hours_enabled = quiet_hours_enabled
    policy.quiet_start = quiet_start
    policy.quiet_end = quiet_end
    policy.frequency_cap_messages = frequency_cap_messages
    policy.frequency_cap_days = frequency_cap_days
    policy.save()
    return policy
