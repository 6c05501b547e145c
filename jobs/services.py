"""Job lifecycle. Progress writes are single UPDATEs outside the caller's transaction
work, so the UI sees them while the job is still running."""

from typing import Any

from django.db.models import F
from django.utils import timezone

from jobs.models import Job


def job_create(*, kind: str, title: str, params: dict[str, Any] | None = None, user=None) -> Job:
    return Job.objects.create(kind=kind, title=title, params=params or {}, created_by=user)


def job_start(*, job_id, total: int | None = None) -> None:
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), progress_total=total, progress_done=0
    )


def job_progress(
    *, job_id, done: int | None = None, advance: int = 0, total: int | None = None, message: str | None = None
) -> None:
    changes: dict[str, Any] = {}
    if done is not None:
        changes["progress_done"] = done
    elif advance:
        changes["progress_done"] = F("progress_done") + advance
    if total is not None:
        changes["progress_total"] = total
    if message is not None:
        changes["message"] = message
    if changes:
        Job.objects.filter(pk=job_id).update(**changes)


def job_succeed(*, job_id, result: dict[str, Any], message: str = "") -> None:
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED, result=result, message=message, finished_at=timezone.now()
    )


def job_fail(*, job_id, message: str, result: dict[str, Any] | None = None) -> None:
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.FAILED, message=message, result=result or {}, finished_at=timezone.now()
    )
