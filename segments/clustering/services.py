"""Clustering runs: start one (validated, with a job for the progress bar), fit it on a
worker, save a cluster as a static segment, and place new customers in the clusters of
the applied run.

The *applied* run is the latest successful k-means run over all customers. When such a
run succeeds it becomes the applied one and its cluster numbers are written into
``CustomerFeatures.cluster`` (customers outside its population get NULL); from then on
``features.cluster = 2`` means "in cluster 2 of the applied run". ``clusters_assign_new``
places customers whose ``cluster`` is NULL (new customers after a feature refresh) in the
nearest centroid of the applied run, with the scaler stored in the run: no refit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audit_record
from jobs.bulk import rows_copy
from jobs.services import job_create, job_fail, job_progress, job_start, job_succeed
from segments.clustering import model
from segments.clustering.catalogue import CLUSTER_FEATURES, feature_label, traits_description
from segments.clustering.errors import ClusteringError
from segments.clustering.errors import ClusteringErrorCode as Code
from segments.clustering.selectors import (
    cluster_customers,
    cluster_feature_frame,
    clustering_population,
    clustering_run_applied,
)
from segments.membership import membership_sync
from segments.models import ClusteringRun, ClusterMember, CustomerFeatures, Segment, SegmentSizeSnapshot

logger = logging.getLogger(__name__)

CLUSTERING_JOB_KIND = "clustering"
MAX_SAMPLE_SIZE = 1_000_000
MEMBER_TABLE = ClusterMember._meta.db_table
FEATURES_TABLE = CustomerFeatures._meta.db_table


# --- starting a run ---------------------------------------------------------------------


def _validate_features(features: Sequence[str]) -> list[str]:
    if not features:
        raise ClusteringError(Code.NO_FEATURES, field="features")
    seen: set[str] = set()
    for name in features:
        if name not in CLUSTER_FEATURES:
            raise ClusteringError(Code.UNKNOWN_FEATURE, field="features", feature=name)
        if name in seen:
            raise ClusteringError(Code.DUPLICATE_FEATURE, field="features", feature=name)
        seen.add(name)
    return list(features)


def _validate_scope(*, algorithm: str, scope: str, segment_id: int | None, sample_size: int | None) -> None:
    if scope not in ClusteringRun.Scope.values:
        raise ClusteringError(Code.UNKNOWN_SCOPE, field="scope", scope=scope)
    if scope == ClusteringRun.Scope.SEGMENT:
        if segment_id is None:
            raise ClusteringError(Code.SEGMENT_REQUIRED, field="segment")
        if not Segment.objects.filter(pk=segment_id).exists():
            raise ClusteringError(Code.SEGMENT_NOT_FOUND, field="segment", segment_id=segment_id)
    if scope == ClusteringRun.Scope.SAMPLE:
        if sample_size is None:
            raise ClusteringError(Code.SAMPLE_SIZE_REQUIRED, field="sample_size")
        high = model.WARD_MAX_CUSTOMERS if algorithm == ClusteringRun.Algorithm.WARD else MAX_SAMPLE_SIZE
        if not 3 <= sample_size <= high:
            raise ClusteringError(Code.INVALID_SAMPLE_SIZE, field="sample_size", low=3, high=high, size=sample_size)


def _ward_size_check(*, features: list[str], include_non_buyers: bool, segment_id: int | None) -> None:
    """Refuse a Ward run over more than the limit before it is queued (the fit checks again:
    a segment can grow in between)."""
    count = clustering_population(
        features=features, include_non_buyers=include_non_buyers, segment_id=segment_id
    ).count()
    if count > model.WARD_MAX_CUSTOMERS:
        raise ClusteringError(Code.TOO_MANY_CUSTOMERS, field="scope", limit=model.WARD_MAX_CUSTOMERS, count=count)


def clustering_run_start(
    *,
    algorithm: str,
    features: Sequence[str],
    k: int | None = None,
    scope: str = ClusteringRun.Scope.ALL,
    segment_id: int | None = None,
    sample_size: int | None = None,
    include_non_buyers: bool = False,
    seed: int = 0,
    user=None,
) -> ClusteringRun:
    """Validate a clustering request, create the run and its job, and queue the fit once
    both rows are committed. Raises ClusteringError naming the field at fault."""
    if algorithm not in ClusteringRun.Algorithm.values:
        raise ClusteringError(Code.UNKNOWN_ALGORITHM, field="algorithm", algorithm=algorithm)
    features = _validate_features(features)
    if k is not None and not model.MIN_K <= k <= model.MAX_K:
        raise ClusteringError(Code.INVALID_K, field="k", low=model.MIN_K, high=model.MAX_K, k=k)
    _validate_scope(algorithm=algorithm, scope=scope, segment_id=segment_id, sample_size=sample_size)
    if scope != ClusteringRun.Scope.SEGMENT:
        segment_id = None
    if scope != ClusteringRun.Scope.SAMPLE:
        sample_size = None
    if algorithm == ClusteringRun.Algorithm.WARD and scope != ClusteringRun.Scope.SAMPLE:
        _ward_size_check(features=features, include_non_buyers=include_non_buyers, segment_id=segment_id)
    with transaction.atomic():
        run = ClusteringRun.objects.create(
            algorithm=algorithm,
            features=features,
            k_requested=k,
            scope=scope,
            segment_id=segment_id,
            sample_size=sample_size,
            include_non_buyers=include_non_buyers,
            seed=seed,
            created_by=user,
        )
        run.job = job_create(
            kind=CLUSTERING_JOB_KIND,
            title=_("Clustering #%(run)d: %(algorithm)s on %(features)s")
            % {
                "run": run.pk,
                "algorithm": run.get_algorithm_display(),
                "features": ", ".join(feature_label(name) for name in features),
            },
            params={"run_id": run.pk},
            user=user,
        )
        run.save(update_fields=["job"])
        audit_record(actor=user, action="clustering.start", target_type="clustering_run", target_id=run.pk)
        from segments.tasks import clustering_run_fit_task  # tasks import this module

        transaction.on_commit(lambda: clustering_run_fit_task.delay(run.pk))
    return run


# --- fitting ------------------------------------------------------------------------------


@dataclass
class _Clock:
    """Seconds per step, stored with the run (``timings``)."""

    seconds: dict[str, float]
    started: float = 0.0

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self.started, 3)
        self.started = now


def _load_population(run: ClusteringRun) -> pd.DataFrame:
    if run.scope == ClusteringRun.Scope.SEGMENT and run.segment_id is None:
        raise ClusteringError(Code.SEGMENT_NOT_FOUND, field="segment", segment_id="—")
    frame = cluster_feature_frame(
        features=run.features, include_non_buyers=run.include_non_buyers, segment_id=run.segment_id
    )
    if run.scope == ClusteringRun.Scope.SAMPLE and run.sample_size and len(frame) > run.sample_size:
        picked = np.sort(np.random.default_rng(run.seed).choice(len(frame), size=run.sample_size, replace=False))
        frame = frame.iloc[picked]
    return frame


def _fit(run: ClusteringRun, matrix: np.ndarray, progress: model.Progress) -> tuple[model.Partition, dict[int, float]]:
    if run.algorithm == ClusteringRun.Algorithm.WARD:
        return model.ward_fit(matrix, k=run.k_requested, seed=run.seed, progress=progress)
    if run.k_requested is None:
        choice = model.kmeans_choose_k(matrix, seed=run.seed, progress=progress)
        return model.kmeans_fit(matrix, k=choice.k, seed=run.seed, init=choice.centers), choice.scores
    return model.kmeans_fit(matrix, k=run.k_requested, seed=run.seed), {}


def clustering_run_fit(*, run_id: int) -> ClusteringRun | None:
    """Fit a queued run: load the features, scale, choose k, fit, describe the clusters,
    store every customer's cluster and — for k-means over all customers — apply the run.

    Safe to run twice: a finished (or deleted) run is left alone, and when two deliveries
    of the same run fit at once (same seed, same result) only the first to finish writes.
    A refusal that is about the data (too many customers for Ward, too few distinct ones)
    fails the run with its reason and does not raise."""
    claimed = ClusteringRun.objects.filter(
        pk=run_id, status__in=[ClusteringRun.Status.QUEUED, ClusteringRun.Status.RUNNING]
    ).update(status=ClusteringRun.Status.RUNNING, started_at=timezone.now())
    run = ClusteringRun.objects.filter(pk=run_id).first()
    if run is None:
        logger.warning("clustering run %s no longer exists", run_id)
        return None
    if not claimed:
        return run
    job_id = run.job_id

    def progress(percent: float, message: str | None = None) -> None:
        if job_id is not None:
            job_progress(job_id=job_id, done=int(percent), message=message)

    if job_id is not None:
        job_start(job_id=job_id, total=100)
    clock = _Clock(seconds={}, started=time.perf_counter())
    try:
        frame = _load_population(run)
        clock.lap("load")
        progress(15, _("%(count)d customers loaded") % {"count": len(frame)})
        specs = [CLUSTER_FEATURES[name] for name in run.features]
        raw = frame.to_numpy(dtype=np.float64)
        scaler = model.scaler_fit(
            raw, features=run.features, log=[s.log for s in specs], null_rules=[s.null_rule for s in specs]
        )
        matrix = scaler.transform(raw)
        clock.lap("scale")
        partition, scores = _fit(run, matrix, lambda share, step: progress(15 + 65 * share))
        clock.lap("fit")
        progress(80, _("describing the clusters"))
        profiles = model.cluster_profiles(raw, matrix, partition.labels, k=partition.k, features=run.features)
        silhouette = model.silhouette_on_sample(matrix, partition.labels, seed=run.seed)
        clock.lap("profile")
        progress(90, _("writing the clusters"))
        finished = _run_finish(
            run,
            customer_ids=frame.index.to_numpy(dtype=np.int64),
            labels=partition.labels,
            results={
                "k_used": partition.k,
                "silhouette_scores": {str(k): score for k, score in scores.items()},
                "silhouette": silhouette,
                "customers": len(frame),
                "scaler": scaler.as_dict(),
                "centroids": partition.centroids.tolist(),
                "profiles": [profile.as_dict() for profile in profiles],
            },
            clock=clock,
        )
    except ClusteringError as refusal:
        _run_fail(run, error=refusal.as_dict(), message=refusal.message)
        run.refresh_from_db()
        return run
    except Exception as error:  # the run and its job must not stay "running" forever
        _run_fail(run, error={}, message=str(error))
        raise
    run.refresh_from_db()
    if finished and job_id is not None:
        job_succeed(
            job_id=job_id,
            result={"summary": {"customers": run.customers, "clusters": run.k_used,
                                "silhouette": round(silhouette, 3)}, "run_id": run.pk},
            message=_("%(count)d customers in %(k)d clusters") % {"count": run.customers, "k": run.k_used},
        )  # fmt: skip
    return run


def _run_fail(run: ClusteringRun, *, error: dict, message: str) -> None:
    """Mark a running run failed (not one another delivery has finished meanwhile)."""
    failed = ClusteringRun.objects.filter(pk=run.pk, status=ClusteringRun.Status.RUNNING).update(
        status=ClusteringRun.Status.FAILED, error=error | {"message": message}, finished_at=timezone.now()
    )
    if failed and run.job_id is not None:
        job_fail(job_id=run.job_id, message=message)


def _applies(run: ClusteringRun) -> bool:
    return run.algorithm == ClusteringRun.Algorithm.KMEANS and run.scope == ClusteringRun.Scope.ALL


def _run_finish(run: ClusteringRun, *, customer_ids: np.ndarray, labels: np.ndarray, results: dict,
                clock: _Clock) -> bool:  # fmt: skip
    """Store the results and the members (and apply the run) in one transaction; False if
    another delivery of the task finished the run first."""
    with transaction.atomic():
        finished = ClusteringRun.objects.filter(pk=run.pk, status=ClusteringRun.Status.RUNNING).update(
            status=ClusteringRun.Status.SUCCEEDED, finished_at=timezone.now(), **results
        )
        if not finished:
            return False
        clusters = labels.astype(np.int64) + 1
        _members_write(run_id=run.pk, customer_ids=customer_ids, clusters=clusters)
        clock.lap("write_members")
        if _applies(run):
            _run_apply(run_id=run.pk)
            clock.lap("write_features")
        ClusteringRun.objects.filter(pk=run.pk).update(timings=clock.seconds)
    return True


def _members_write(*, run_id: int, customer_ids: np.ndarray, clusters: np.ndarray) -> None:
    frame = pd.DataFrame({"run_id": np.full(len(customer_ids), run_id, dtype=np.int64),
                          "customer_id": customer_ids, "cluster": clusters})  # fmt: skip
    rows_copy(MEMBER_TABLE, ["run_id", "customer_id", "cluster"], frame)


def _null_safe_differs() -> str:
    return "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"


def _run_apply(*, run_id: int) -> None:
    """Make the run the applied one and copy its members' clusters into the feature table:
    one UPDATE … FROM the run's member rows (loaded by COPY just before), one UPDATE that
    clears the cluster of customers outside the run. Callers hold a transaction."""
    ClusteringRun.objects.filter(applied=True).exclude(pk=run_id).update(applied=False)
    ClusteringRun.objects.filter(pk=run_id).update(applied=True, applied_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {FEATURES_TABLE} AS f SET cluster = m.cluster FROM {MEMBER_TABLE} AS m "
            f"WHERE m.run_id = %s AND m.customer_id = f.customer_id AND f.cluster {_null_safe_differs()} m.cluster",
            [run_id],
        )
        cursor.execute(
            f"UPDATE {FEATURES_TABLE} SET cluster = NULL WHERE cluster IS NOT NULL AND NOT EXISTS ("
            f"SELECT 1 FROM {MEMBER_TABLE} AS m WHERE m.run_id = %s AND m.customer_id = {FEATURES_TABLE}.customer_id)",
            [run_id],
        )


# --- using a run ------------------------------------------------------------------------


def cluster_description(*, run: ClusteringRun, cluster: int) -> str:
    """ "recent, frequent, high spend": the cluster's traits in the active language."""
    return traits_description(run.profiles[cluster - 1]["traits"])


def cluster_default_name(*, run: ClusteringRun, cluster: int) -> str:
    return _("Cluster %(number)d: %(description)s") % {
        "number": cluster,
        "description": cluster_description(run=run, cluster=cluster),
    }


@transaction.atomic
def cluster_segment_create(*, run_id: int, cluster: int, name: str = "", user=None) -> Segment:
    """A static segment holding the customers the run fitted into ``cluster`` (1-based),
    written with one INSERT … SELECT. An empty name becomes "Cluster N: <description>"."""
    run = ClusteringRun.objects.get(pk=run_id)
    if run.status != ClusteringRun.Status.SUCCEEDED:
        raise ClusteringError(Code.RUN_NOT_FINISHED, field="run")
    if not 1 <= cluster <= (run.k_used or 0):
        raise ClusteringError(Code.UNKNOWN_CLUSTER, field="cluster", k=run.k_used or 0, cluster=cluster)
    name = (name or "").strip() or cluster_default_name(run=run, cluster=cluster)
    description = _("Cluster %(number)d of clustering run #%(run)d (%(algorithm)s on %(features)s).") % {
        "number": cluster,
        "run": run.pk,
        "algorithm": run.get_algorithm_display(),
        "features": ", ".join(run.features),
    }
    segment = Segment.objects.create(name=name[:200], description=description, kind=Segment.Kind.STATIC,
                                     created_by=user)  # fmt: skip
    now = timezone.now()
    size, _left = membership_sync(segment_id=segment.pk, audience=cluster_customers(run_id=run.pk, cluster=cluster),
                                  now=now)  # fmt: skip
    Segment.objects.filter(pk=segment.pk).update(size=size, refreshed_at=now)
    SegmentSizeSnapshot.objects.create(segment=segment, at=now, size=size, entered=size, left=0)
    audit_record(actor=user, action="segment.from_cluster", target_type="segment", target_id=segment.pk,
                 run=run.pk, cluster=cluster)  # fmt: skip
    segment.refresh_from_db()
    return segment


@dataclass(frozen=True)
class AssignResult:
    run_id: int
    assigned: int


def clusters_assign_new() -> AssignResult:
    """Place every customer of the applied run's population whose ``cluster`` is NULL in
    the nearest cluster of that run (its stored scaler and centroids; no refit). Only NULL
    rows are written, so running it twice, or while a refresh adds customers, is safe.
    Raises ClusteringError(no_applied_run) when no run is applied."""
    run = clustering_run_applied()
    if run is None:
        raise ClusteringError(Code.NO_APPLIED_RUN)
    frame = cluster_feature_frame(features=run.features, include_non_buyers=run.include_non_buyers,
                                  unassigned_only=True)  # fmt: skip
    if frame.empty:
        return AssignResult(run_id=run.pk, assigned=0)
    scaler = model.Scaler.from_dict(run.scaler)
    labels = model.nearest_centroid(scaler.transform(frame.to_numpy(dtype=np.float64)), np.asarray(run.centroids))
    stage = pd.DataFrame({"customer_id": frame.index.to_numpy(dtype=np.int64), "cluster": labels + 1})
    with transaction.atomic():
        # Lock the run: a run being applied meanwhile waits, or this waits for it and stops.
        if not ClusteringRun.objects.select_for_update().filter(pk=run.pk, applied=True).exists():
            return AssignResult(run_id=run.pk, assigned=0)
        assigned = _assign_staged(stage)
    logger.info("clustering run %s: %s new customers placed", run.pk, assigned)
    return AssignResult(run_id=run.pk, assigned=assigned)


ASSIGN_STAGE = "clustering_assign_stage"


def _assign_staged(stage: pd.DataFrame) -> int:
    """COPY (PostgreSQL) or insert (SQLite) the labels into a temporary table, then one
    UPDATE … FROM that touches only rows whose cluster is still NULL."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {ASSIGN_STAGE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {ASSIGN_STAGE} (customer_id bigint PRIMARY KEY, cluster smallint)")
    rows_copy(ASSIGN_STAGE, ["customer_id", "cluster"], stage)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {ASSIGN_STAGE}")
        cursor.execute(
            f"UPDATE {FEATURES_TABLE} AS f SET cluster = s.cluster FROM {ASSIGN_STAGE} AS s "
            f"WHERE s.customer_id = f.customer_id AND f.cluster IS NULL"
        )
        assigned = max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE {ASSIGN_STAGE}")
    return assigned
