"""Celery tasks of the feature refresh: thin callers of segments.services.

``features_refresh`` coordinates: it creates the run and its ranges, then fans out one
``features_refresh_range`` task per customer-id range as a group, so workers on any
number of machines share the run. The score thresholds are computed before the fan-out,
so no chord (and no result backend) is needed: the range task that closes the run's last
open range, recorded in the database, marks the run and its job succeeded. Every task is
safe to run twice; with acks_late a range lost with its worker is delivered again.
"""

import datetime as dt

from celery import group, shared_task

from jobs.services import job_create
from segments.clustering.errors import ClusteringError
from segments.clustering.services import clustering_run_fit, clusters_assign_new
from segments.models import FeatureRefresh, Segment
from segments.services import (
    DEFAULT_RANGE_SIZE,
    features_refresh_fail,
    features_refresh_finish,
    features_refresh_range,
    features_refresh_start,
    segment_refresh,
)


@shared_task(name="segments.features_refresh")
def features_refresh(
    mode: str = FeatureRefresh.Mode.FULL,
    as_of: str | None = None,
    range_size: int = DEFAULT_RANGE_SIZE,
    job_id: str | None = None,
) -> int:
    """Start a refresh run (the nightly schedule calls this with no arguments)."""
    if job_id is None:
        job_id = str(job_create(kind="features_refresh", title=f"Customer features: {mode} refresh").pk)
    refresh = features_refresh_start(
        mode=mode,
        as_of=dt.datetime.fromisoformat(as_of) if as_of else None,
        range_size=range_size,
        job_id=job_id,
    )
    ranges = list(refresh.ranges.order_by("low").values_list("low", "high"))
    if not ranges:
        features_refresh_finish(refresh_id=refresh.pk)
        return refresh.pk
    group(
        features_refresh_range_task.si(refresh.pk, refresh.as_of.isoformat(), low, high) for low, high in ranges
    ).apply_async()
    return refresh.pk


@shared_task(name="segments.features_refresh_range")
def features_refresh_range_task(refresh_id: int | None, as_of: str, low: int, high: int) -> int:
    """Refresh customers [low, high) as of ``as_of``; the last range closes the run."""
    try:
        result = features_refresh_range(
            as_of=dt.datetime.fromisoformat(as_of), low=low, high=high, refresh_id=refresh_id
        )
    except Exception as error:
        if refresh_id is not None:
            features_refresh_fail(refresh_id=refresh_id, message=f"range [{low}, {high}): {error}")
        raise
    if result.last_range:  # the run just succeeded: place its new customers in clusters
        clusters_assign_new_task.delay()
    return result.customers


@shared_task(name="segments.segment_refresh")
def segment_refresh_task(segment_id: int) -> None:
    """Re-evaluate one segment; safe to run twice (the second run finds nothing changed)."""
    segment_refresh(segment_id=segment_id)


@shared_task(name="segments.segments_refresh_dynamic")
def segments_refresh_dynamic() -> None:
    """Queue a refresh of every dynamic segment (scheduled after the nightly features)."""
    for segment_id in Segment.objects.filter(kind=Segment.Kind.DYNAMIC).values_list("pk", flat=True):
        segment_refresh_task.delay(segment_id)


@shared_task(name="segments.clustering_run_fit")
def clustering_run_fit_task(run_id: int) -> None:
    """Fit a queued clustering run (safe to run twice: see clustering_run_fit)."""
    clustering_run_fit(run_id=run_id)


@shared_task(name="segments.clusters_assign_new")
def clusters_assign_new_task() -> int:
    """Place customers without a cluster in the applied run's clusters; queued when a
    feature refresh succeeds. Without an applied run there is nothing to do."""
    try:
        return clusters_assign_new().assigned
    except ClusteringError:
        return 0


@shared_task(name="segments.features_sentiment_update")
def features_sentiment_update_task() -> int:
    """Copy customers' average text sentiment into the feature table; queued by analytics
    after texts are scored (by this name). Safe to run twice."""
    from segments.sentiment_scores import features_sentiment_update

    return features_sentiment_update()


@shared_task(name="segments.churn_score")
def churn_score_task(job_id: str | None = None) -> int:
    """Score every customer with the active churn model (queued by analytics after a
    training or a change of model, and nightly). Safe to run twice."""
    from segments.churn_scores import churn_score_all, churn_score_job

    return churn_score_all(job_id=job_id or churn_score_job()).changed


@shared_task(name="segments.clv_fit")
def clv_fit_task(fit_id: int) -> int:
    """Fit, check and score a recorded lifetime-value fit (queued by name by
    analytics.clv.jobs.clv_fit_start). Safe to run twice: a succeeded fit is left alone."""
    from segments.clv_jobs import clv_fit_run

    return clv_fit_run(fit_id=fit_id).pk


@shared_task(name="segments.features_recommendation_update")
def features_recommendation_update_task() -> int:
    """Copy each customer's top recommended product's category into the feature table;
    queued by analytics after a recommendation fit (by this name). Safe to run twice."""
    from segments.recommendation_scores import features_recommendation_update

    return features_recommendation_update()
