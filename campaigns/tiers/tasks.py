"""Celery tasks of campaigns.tiers: thin callers of its services."""

from typing import Any

from celery import shared_task

from campaigns.tiers.services import tiers_recalculate_run


@shared_task(name="campaigns.tiers_recalculate")
def tiers_recalculate_task(job_id: str | None = None) -> dict[str, Any] | None:
    """Recalculate every customer's member tier (nightly from django-celery-beat, or on
    demand with the job the page or the API created). Safe to run twice: the second run
    finds nothing changed, and a redelivered job that already finished is skipped."""
    result = tiers_recalculate_run(job_id=job_id)
    return result.as_dict() if result is not None else None
