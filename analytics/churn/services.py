"""Churn model versions: train and compare on a time split, choose the model in use.

Training reads two snapshots of the shop: features as of an earlier cutoff with labels from
the H days after it (the training set), and features as of the next cutoff, H days later,
with labels from the H days after that (the test set), which end at the latest order. So
every figure is measured on a period the models never saw. Scoring customers (the feature
table) is the segments app's part; analytics queues it by task name.
"""

import datetime as dt
import logging
import time
from collections.abc import Callable

import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from sklearn.metrics import roc_auc_score

from analytics.churn.dataset import churn_data_end, churn_features, churn_labels
from analytics.churn.model import MODEL_NAMES, ChurnComparison, churn_models_compare
from analytics.models import ChurnModel
from analytics.pipelines import pipeline_dump, pipeline_load
from jobs.queue import task_send
from jobs.services import job_create, job_fail, job_progress, job_start, job_succeed

logger = logging.getLogger(__name__)

TRAIN_JOB_KIND = "churn_train"
SCORE_TASK = "segments.churn_score"  # segments writes the feature table
MIN_HORIZON_DAYS, MAX_HORIZON_DAYS = 7, 365


class ChurnTrainingError(ValueError):
    """A training request that cannot work on this data (the message says why)."""


def churn_cutoffs(*, horizon_days: int, end: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """(training cutoff, test cutoff): the test period is the last H days of data, the
    training period the H days before it."""
    end = end or churn_data_end()
    if end is None:
        raise ChurnTrainingError(_("There are no orders yet: a churn model learns from purchases."))
    test_cutoff = end - dt.timedelta(days=horizon_days)
    return test_cutoff - dt.timedelta(days=horizon_days), test_cutoff


def recency_baseline(*, features, labels: np.ndarray) -> dict[str, float]:
    """The figure a model must beat: ranking customers by days since their last order
    (never ordered = longest ago)."""
    recency = features["recency_days"].to_numpy(dtype=np.float64)
    recency = np.where(np.isnan(recency), np.nanmax(recency, initial=0.0) + 1.0, recency)
    both = len(np.unique(labels)) == 2
    return {"name": "recency_only", "roc_auc": float(roc_auc_score(labels, recency)) if both else float("nan")}


def churn_train_start(*, horizon_days: int = 90, user=None) -> ChurnModel:
    """Create the version and its job; the training is queued once both are committed."""
    if not MIN_HORIZON_DAYS <= horizon_days <= MAX_HORIZON_DAYS:
        raise ChurnTrainingError(
            _("The horizon must be between %(low)d and %(high)d days.") % {"low": MIN_HORIZON_DAYS,
                                                                          "high": MAX_HORIZON_DAYS}
        )  # fmt: skip
    with transaction.atomic():
        job = job_create(kind=TRAIN_JOB_KIND, title=_("Churn models: train, compare and score"),
                         params={"horizon_days": horizon_days}, user=user)  # fmt: skip
        version = ChurnModel.objects.create(horizon_days=horizon_days, created_by=user, job=job)
        from analytics.tasks import churn_train_task  # the tasks module imports this one

        transaction.on_commit(lambda: churn_train_task.delay(version.pk))
    return version


def _claim(model_id: int) -> ChurnModel | None:
    claimed = ChurnModel.objects.filter(
        pk=model_id, status__in=[ChurnModel.Status.QUEUED, ChurnModel.Status.RUNNING]
    ).update(status=ChurnModel.Status.RUNNING)
    return ChurnModel.objects.filter(pk=model_id).first() if claimed else None


def churn_train_run(*, model_id: int, score: bool = True,
                    progress: Callable[[float, str], None] | None = None) -> ChurnModel | None:  # fmt: skip
    """Train the four candidates, store their figures next to the recency baseline, make
    the best one (by ROC AUC) the active model and queue scoring. Safe to run twice: a
    finished version is left alone."""
    version = _claim(model_id)
    if version is None:
        return ChurnModel.objects.filter(pk=model_id).first()
    job_id = version.job_id

    def report(share: float, message: str) -> None:
        if job_id is not None:
            job_progress(job_id=job_id, done=int(100 * share), message=message)
        if progress is not None:
            progress(share, message)

    if job_id is not None:
        job_start(job_id=job_id, total=100)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        train_cutoff, test_cutoff = churn_cutoffs(horizon_days=version.horizon_days)
        report(0.02, _("reading the customers as of %(day)s") % {"day": f"{train_cutoff:%Y-%m-%d}"})
        train_X = churn_features(as_of=train_cutoff)
        train_y = churn_labels(as_of=train_cutoff, horizon_days=version.horizon_days, customer_ids=train_X.index)
        report(0.2, _("reading the customers as of %(day)s") % {"day": f"{test_cutoff:%Y-%m-%d}"})
        test_X = churn_features(as_of=test_cutoff)
        test_y = churn_labels(as_of=test_cutoff, horizon_days=version.horizon_days, customer_ids=test_X.index)
        timings["read"] = round(time.perf_counter() - started, 2)
        if train_y.nunique() < 2 or test_y.nunique() < 2:
            raise ChurnTrainingError(
                _("Every customer churned, or none did, in one of the periods: there is nothing to learn. "
                  "Try another horizon or import more history.")
            )  # fmt: skip
        comparison: ChurnComparison = churn_models_compare(
            train_X, train_y.to_numpy(), test_X, test_y.to_numpy(),
            progress=lambda share, name: report(0.4 + 0.55 * share, _("fitting %(model)s") % {"model": name}),
        )  # fmt: skip
        timings["fit"] = round(time.perf_counter() - started - timings["read"], 2)
        baseline = recency_baseline(features=test_X, labels=test_y.to_numpy())
    except ChurnTrainingError as refusal:
        _fail(version, str(refusal))
        return ChurnModel.objects.get(pk=version.pk)
    except Exception as error:  # the version and its job must not stay "running"
        _fail(version, str(error))
        raise
    with transaction.atomic():
        ChurnModel.objects.filter(active=True).update(active=False)
        ChurnModel.objects.filter(pk=version.pk).update(
            status=ChurnModel.Status.SUCCEEDED, finished_at=timezone.now(), train_cutoff=train_cutoff,
            test_cutoff=test_cutoff, evaluations=[e.as_dict() for e in comparison.evaluations], baseline=baseline,
            chosen=comparison.best.name, pipelines=pipeline_dump(comparison.pipelines), active=True,
            timings=timings,
        )  # fmt: skip
    version.refresh_from_db()
    if job_id is not None:
        job_succeed(
            job_id=job_id,
            result={"model_id": version.pk, "summary": {"model": version.chosen,
                                                        "auc": round(comparison.best.roc_auc, 3)}},
            message=_("%(model)s: ROC AUC %(auc).3f (recency only: %(baseline).3f)")
            % {"model": version.chosen, "auc": comparison.best.roc_auc, "baseline": baseline["roc_auc"]},
        )  # fmt: skip
    if score:
        churn_scoring_queue()
    return version


def _fail(version: ChurnModel, message: str) -> None:
    ChurnModel.objects.filter(pk=version.pk).update(
        status=ChurnModel.Status.FAILED, error=message, finished_at=timezone.now()
    )
    if version.job_id is not None:
        job_fail(job_id=version.job_id, message=message)


def churn_model_choose(*, model_id: int, name: str, score: bool = True) -> ChurnModel:
    """Use another candidate (or another trained version) for scoring from now on."""
    if name not in MODEL_NAMES:
        raise ChurnTrainingError(_("Unknown model %(name)s.") % {"name": name})
    with transaction.atomic():
        version = ChurnModel.objects.select_for_update().get(pk=model_id)
        if version.status != ChurnModel.Status.SUCCEEDED:
            raise ChurnTrainingError(_("Only a finished training can be used."))
        ChurnModel.objects.filter(active=True).exclude(pk=model_id).update(active=False)
        version.chosen, version.active = name, True
        version.save(update_fields=["chosen", "active"])
    if score:
        churn_scoring_queue()
    return version


def churn_scoring_queue() -> None:
    """Ask a worker to score every customer with the active model (segments' task)."""
    transaction.on_commit(lambda: task_send(SCORE_TASK))


def churn_active_pipeline() -> tuple[ChurnModel, object] | None:
    """The active version and the fitted pipeline of its chosen model."""
    version = ChurnModel.objects.filter(active=True, status=ChurnModel.Status.SUCCEEDED).first()
    if version is None or not version.pipelines:
        return None
    return version, pipeline_load(version.pipelines)[version.chosen]
