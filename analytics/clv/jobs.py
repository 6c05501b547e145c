"""Starting a lifetime-value fit from the page or the API: the fit's row and its Job, then
the worker task queued by name once both are committed.

The task itself lives in segments (``segments.clv_jobs.clv_fit_run``) because scoring
writes the feature table, and analytics may not import segments; by task name, the
Analytics page can start it all the same.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.clv.model import TIME_UNIT_DAYS, ClvError
from analytics.models import ClvFit
from jobs.queue import task_send
from jobs.services import job_create

CLV_JOB_KIND = "clv_fit"
CLV_FIT_TASK = "segments.clv_fit"
DEFAULT_HOLDOUT_WEEKS = 26


class ClvFitRequestError(ClvError):
    """A start request that cannot be fitted as asked, naming the field at fault."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def clv_day_moment(day: dt.date) -> dt.datetime:
    """``ClvFit`` keeps its days as date-times: midnight of the day in the shop's zone."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def clv_moment_day(moment: dt.datetime) -> dt.date:
    """The day a ``ClvFit`` date-time stands for (the inverse of ``clv_day_moment``)."""
    return timezone.localtime(moment, timezone.get_current_timezone()).date()


def clv_fit_request_check(*, calibration_end: dt.date, holdout_end: dt.date | None, time_unit: str) -> None:
    """Refuse what ``clv_fit`` would refuse, before a row and a job exist for it."""
    if time_unit not in TIME_UNIT_DAYS:
        raise ClvFitRequestError(
            _("Unknown time unit %(unit)s: use one of %(units)s.")
            % {"unit": time_unit, "units": ", ".join(TIME_UNIT_DAYS)},
            field="time_unit",
        )
    if holdout_end is not None and holdout_end <= calibration_end:
        raise ClvFitRequestError(
            _("The holdout period must end after the calibration end (%(day)s).") % {"day": calibration_end},
            field="holdout_end",
        )


def clv_fit_start(
    *,
    calibration_end: dt.date,
    holdout_end: dt.date | None = None,
    time_unit: str = "week",
    score: bool = True,
    user=None,
) -> ClvFit:
    """Validate, record the fit (parameters still empty) with a Job for its progress bar,
    and queue ``segments.clv_fit`` after the commit so the worker finds both rows."""
    clv_fit_request_check(calibration_end=calibration_end, holdout_end=holdout_end, time_unit=time_unit)
    with transaction.atomic():
        job = job_create(
            kind=CLV_JOB_KIND,
            title=_("Lifetime value: fit BG/NBD and Gamma-Gamma"),
            params={
                "calibration_end": calibration_end.isoformat(),
                "holdout_end": holdout_end.isoformat() if holdout_end else None,
                "time_unit": time_unit,
                "score": score,
            },
            user=user,
        )
        fit = ClvFit.objects.create(
            calibration_end=clv_day_moment(calibration_end),
            holdout_end=clv_day_moment(holdout_end) if holdout_end else None,
            time_unit=time_unit,
            job=job,
            created_by=user if getattr(user, "pk", None) else None,
        )
        transaction.on_commit(lambda: task_send(CLV_FIT_TASK, fit_id=fit.pk))
    return fit
