"""The lifetime-value job: fit BG/NBD + Gamma-Gamma, keep the figures and the holdout
check on the ``analytics.ClvFit`` row, and score every customer into the feature table.

It lives in segments because scoring writes ``CustomerFeatures``; the models, the fit's
row and the start (``analytics.clv.jobs.clv_fit_start``, used by the Analytics page and
the API, which queue the task ``segments.clv_fit`` by name) are analytics'.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from django.db.models import Avg, Case, Count, F, FloatField, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import Floor, Least
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from analytics.clv import jobs as analytics_clv_jobs
from analytics.clv.jobs import clv_moment_day
from analytics.clv.model import DEFAULT_HORIZON_DAYS, ClvError
from analytics.clv.selectors import clv_transactions
from analytics.clv.services import ClvFit as FittedModels
from analytics.clv.services import clv_fit, clv_scores
from analytics.models import ClvFit
from jobs.models import Job
from jobs.services import job_fail, job_progress, job_start, job_succeed
from segments.clv_scores import features_clv_update
from segments.models import CustomerFeatures

ALIVE_BUCKETS = 10  # P(alive) histogram: tenths


def clv_fit_start(
    *,
    calibration_end: dt.date,
    holdout_end: dt.date | None = None,
    time_unit: str = "week",
    score: bool = True,
    user=None,
) -> ClvFit:
    """Validate, record the fit and its Job, queue ``clv_fit_run`` once committed. The same
    start the Analytics page uses (it cannot import this module), so there is one."""
    return analytics_clv_jobs.clv_fit_start(
        calibration_end=calibration_end, holdout_end=holdout_end, time_unit=time_unit, score=score, user=user
    )


def _finite(value: Any) -> Any:
    """JSON columns take no NaN / infinity (PostgreSQL's jsonb refuses them): null instead."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def clv_fit_parameters(*, fitted: FittedModels, scores: pd.DataFrame, as_of: dt.date, horizon_days: float) -> dict:
    """What the page and the API show of a fit: ``fit_clv --json``'s figures, then what the
    plain-words reading needs (mean value per purchase, share of customers likely active)."""
    gamma_gamma = fitted.gamma_gamma
    alive = scores["probability_alive"]
    return _finite(
        fitted.parameters()
        | {
            "repeat_customers": fitted.repeat_customers,
            "gamma_gamma_log_likelihood": gamma_gamma.log_likelihood if gamma_gamma else None,
            "mean_value": gamma_gamma.mean_value if gamma_gamma else None,
            "frequency_value_correlation": fitted.frequency_value_correlation,
            "as_of": as_of.isoformat(),
            "horizon_days": horizon_days,
            "probability_alive_mean": float(alive.mean()) if len(alive) else None,
            "alive_share": float((alive >= 0.5).mean()) if len(alive) else None,
        }
    )


def clv_holdout_summary(*, fitted: FittedModels) -> dict:
    """The holdout check without the per-customer table: totals, mean absolute error and
    predicted vs actual repeat purchases by calibration repeat purchases (0 .. 6, 7+)."""
    holdout = fitted.holdout
    if holdout is None:
        return {}
    return _finite(
        {
            "holdout_end": fitted.holdout_end.isoformat(),
            "length": holdout.length,
            "time_unit": fitted.time_unit,
            "customers": holdout.customers,
            "predicted_total": holdout.predicted_total,
            "actual_total": holdout.actual_total,
            "relative_error": holdout.relative_error_total,
            "mean_absolute_error": holdout.mean_absolute_error,
            "by_frequency": [
                {
                    "frequency": bucket.frequency,
                    "customers": bucket.customers,
                    "predicted_mean": bucket.predicted_mean,
                    "actual_mean": bucket.actual_mean,
                    "predicted_total": bucket.predicted_mean * bucket.customers,
                    "actual_total": round(bucket.actual_mean * bucket.customers),
                }
                for bucket in holdout.by_frequency
            ],
        }
    )


def _clv_edges(largest: float) -> list[float]:
    """Bucket edges 1-2-5 from a thousandth of the largest CLV's decade up to it: spend is
    skewed, so equal-width buckets would put nearly everyone in the first one."""
    if largest <= 0:
        return []
    decade = math.floor(math.log10(largest))
    edges = [m * 10.0**e for e in range(decade - 3, decade + 1) for m in (1, 2, 5)]
    return [edge for edge in edges if edge <= largest]


def features_clv_distribution() -> dict:
    """P(alive) and CLV over the customers of the feature table, as histograms counted in
    SQL (one aggregate, two grouped counts): stored with the job, so the Analytics page can
    show it without reading segments' table."""
    scored = CustomerFeatures.objects.filter(probability_alive__isnull=False)
    figures = scored.aggregate(
        customers=Count("pk"),
        alive=Count("pk", filter=Q(probability_alive__gte=0.5)),
        probability_alive_mean=Avg("probability_alive"),
        clv_customers=Count("clv"),
        clv_mean=Avg("clv"),
        clv_total=Sum("clv"),
        clv_largest=Max("clv"),
    )
    tenth = Least(
        Floor(F("probability_alive") * Value(float(ALIVE_BUCKETS))),
        Value(float(ALIVE_BUCKETS - 1)),
        output_field=FloatField(),
    )
    alive_rows = scored.annotate(bucket=tenth).values("bucket").annotate(customers=Count("pk"))
    alive_counts = {int(row["bucket"]): row["customers"] for row in alive_rows}
    edges = _clv_edges(float(figures["clv_largest"] or 0))
    clv_counts: dict[int, int] = {}
    if figures["clv_customers"]:
        bucket = Case(
            *(When(clv__lt=edge, then=Value(position)) for position, edge in enumerate(edges)),
            default=Value(len(edges)),
            output_field=IntegerField(),
        )
        clv_counts = dict(
            scored.filter(clv__isnull=False)
            .annotate(bucket=bucket)
            .values("bucket")
            .annotate(customers=Count("pk"))
            .values_list("bucket", "customers")
        )
    lows = [None, *edges]
    return _finite(
        {
            "customers": figures["customers"],
            "alive_share": figures["alive"] / figures["customers"] if figures["customers"] else None,
            "probability_alive_mean": figures["probability_alive_mean"],
            "clv_mean": float(figures["clv_mean"]) if figures["clv_mean"] is not None else None,
            "clv_total": float(figures["clv_total"]) if figures["clv_total"] is not None else None,
            "probability_alive": [
                {"low": b / ALIVE_BUCKETS, "high": (b + 1) / ALIVE_BUCKETS, "customers": alive_counts.get(b, 0)}
                for b in range(ALIVE_BUCKETS)
            ],
            "clv": [
                {"low": lows[position], "high": edges[position] if position < len(edges) else None,
                 "customers": clv_counts.get(position, 0)}
                for position in range(len(edges) + 1)
            ]
            if figures["clv_customers"]
            else [],
        }
    )  # fmt: skip


def _fit_fail(*, fit_id: int, job_id, message: str) -> None:
    ClvFit.objects.filter(pk=fit_id).update(error=message)
    if job_id is not None:
        job_fail(job_id=job_id, message=message)


def clv_fit_run(*, fit_id: int, horizon_days: float = DEFAULT_HORIZON_DAYS) -> ClvFit:
    """What the worker runs for a recorded fit: read the placed orders once, fit both models
    on the calibration period (with the holdout check when the row has a holdout end), store
    the figures on the row, score every customer as of the last observed day (the holdout
    end, else the calibration end) and, when asked, write the scores into the feature table.
    Progress on the Job; a fit the data does not allow marks the row and the Job failed with
    the reason. Running it again after success does nothing (a redelivered task)."""
    record = ClvFit.objects.select_related("job").get(pk=fit_id)
    job = record.job
    if job is not None and job.status == Job.Status.SUCCEEDED:
        return record
    job_id = job.pk if job is not None else None
    score = bool(job.params.get("score", True)) if job is not None else True

    def progress(done: int, message: str) -> None:
        if job_id is not None:
            job_progress(job_id=job_id, done=done, message=message)

    calibration_end = clv_moment_day(record.calibration_end)
    holdout_end = clv_moment_day(record.holdout_end) if record.holdout_end else None
    as_of = holdout_end or calibration_end
    if job_id is not None:
        job_start(job_id=job_id, total=100)
    try:
        progress(5, _("Reading the placed orders"))
        transactions = clv_transactions(until=as_of)
        if not (transactions["date"] <= pd.Timestamp(calibration_end)).any():
            raise ClvError(
                _("No placed order on or before the calibration end (%(day)s): choose a later calibration end.")
                % {"day": calibration_end.isoformat()}
            )
        progress(15, _("Fitting BG/NBD and Gamma-Gamma"))
        fitted = clv_fit(
            calibration_end=calibration_end,
            time_unit=record.time_unit,
            holdout_end=holdout_end,
            transactions=transactions,
        )
        progress(60, _("Scoring customers"))
        scores = clv_scores(fit=fitted, as_of=as_of, horizon=dt.timedelta(days=horizon_days), transactions=transactions)
        parameters = clv_fit_parameters(fitted=fitted, scores=scores, as_of=as_of, horizon_days=horizon_days)
        holdout = clv_holdout_summary(fitted=fitted)
        ClvFit.objects.filter(pk=fit_id).update(
            customers=fitted.customers, parameters=parameters, holdout=holdout, scored=0, error=""
        )
        changed, distribution = 0, {}
        if score:
            progress(75, _("Writing the scores into the feature table"))
            changed = features_clv_update(scores=scores)
            ClvFit.objects.filter(pk=fit_id).update(scored=len(scores))
            distribution = features_clv_distribution()
    except ClvError as error:
        _fit_fail(fit_id=fit_id, job_id=job_id, message=_("The fit failed: %(reason)s") % {"reason": error})
        return ClvFit.objects.select_related("job").get(pk=fit_id)
    except Exception as error:
        _fit_fail(fit_id=fit_id, job_id=job_id, message=_("The fit failed: %(reason)s") % {"reason": error})
        raise
    if job_id is not None:
        summary = {
            gettext_noop("customers"): fitted.customers,
            gettext_noop("customers scored"): len(scores) if score else 0,
            gettext_noop("feature rows changed"): changed,
        }
        if holdout:
            summary[gettext_noop("repeat purchases in the holdout (predicted / actual)")] = (
                f"{holdout['predicted_total']:,.1f} / {holdout['actual_total']:,}"
            )
        job_succeed(
            job_id=job_id,
            result={"fit_id": fit_id, "summary": summary, "distribution": distribution},
            message=_("Fit #%(fit)d: %(customers)d customers, %(scored)d scored")
            % {"fit": fit_id, "customers": fitted.customers, "scored": len(scores) if score else 0},
        )
    return ClvFit.objects.select_related("job").get(pk=fit_id)
