"""Celery tasks of campaigns.experiments: thin callers (the lead imports them in campaigns/tasks.py
and schedules the hourly attribution)."""

from celery import shared_task

from campaigns.conversions import conversions_attribute, conversions_attribute_recent


@shared_task(name="campaigns.conversions_attribute_recent")
def conversions_attribute_recent_task(days: int = 30) -> int:
    """Credit new conversions of the campaigns sent within ``days`` days. Safe to run twice."""
    return conversions_attribute_recent(days=days)


@shared_task(name="campaigns.conversions_attribute")
def conversions_attribute_task(campaign_id: int) -> int:
    """Credit new conversions of one campaign. Safe to run twice."""
    return conversions_attribute(campaign_id=campaign_id)
