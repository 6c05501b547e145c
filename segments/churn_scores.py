"""Churn risk in the feature table: the active churn model scores customers range by range
from their point-in-time features (analytics), and the risks land in ``churn_risk``.

Scoring is ``as_of`` the latest order (an imported history that ended long ago is scored
as of its own end, like the model's test period)."""

import datetime as dt
import time
from dataclasses import dataclass

import pandas as pd
from django.db import connection
from django.db.models import Max, Min
from django.utils.translation import gettext as _
from sklearn.pipeline import Pipeline

from analytics.churn.alerts import alert_threshold, alert_top_spend_share, churn_alerts_record, churn_crossings
from analytics.churn.dataset import churn_data_end, churn_features
from analytics.churn.model import churn_risk
from analytics.churn.services import churn_active_pipeline
from customers.models import Customer
from jobs.services import job_create, job_fail, job_progress, job_start, job_succeed
from segments.feature_scores import FEATURES_TABLE, feature_scores_write

SCORE_RANGE_SIZE = 100_000  # customers per staged UPDATE


@dataclass(frozen=True)
class ChurnScoring:
    model_id: int | None
    as_of: dt.datetime | None
    ranges: int
    changed: int
    seconds: float
    alerts: int = 0  # customers whose risk crossed the alert threshold (early warning)


def features_churn_score(*, pipeline: Pipeline, as_of: dt.datetime, id_range: tuple[int, int] | None = None) -> int:
    """Score the customers of ``id_range`` (inclusive; all when None) as of ``as_of`` and
    write their churn risk; customers signed up after ``as_of`` get none. Returns the rows
    changed."""
    features = churn_features(as_of=as_of, id_range=id_range)
    scores = pd.DataFrame({"customer_id": features.index.to_numpy(), "churn_risk": churn_risk(pipeline, features)})
    return feature_scores_write(scores=scores, columns=["churn_risk"], id_range=id_range)


def _with_previous(scores: pd.DataFrame) -> pd.DataFrame:
    """The new risks beside the ones they replace and the customers' all-time spend."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT customer_id, churn_risk, monetary FROM {FEATURES_TABLE}")
        rows = cursor.fetchall()
    current = pd.DataFrame(rows, columns=["customer_id", "previous_risk", "monetary"])
    current["monetary"] = pd.to_numeric(current["monetary"], errors="coerce").astype(float)
    current["previous_risk"] = pd.to_numeric(current["previous_risk"], errors="coerce").astype(float)
    merged = scores.rename(columns={"churn_risk": "risk"}).merge(current, on="customer_id", how="inner")
    return merged[["customer_id", "previous_risk", "risk", "monetary"]]


def churn_score_all(*, range_size: int = SCORE_RANGE_SIZE, job_id=None) -> ChurnScoring:
    """Score every customer with the active model (nothing without one): the features of
    all customers in one set-based read (a full pass per table beats many index-range
    passes), one vectorised prediction, then the risks written range by range, each range
    one staged UPDATE. Safe to run twice: the second run changes no row."""
    started = time.perf_counter()
    active = churn_active_pipeline()
    if active is None:
        return ChurnScoring(model_id=None, as_of=None, ranges=0, changed=0, seconds=0.0)
    version, pipeline = active
    as_of = churn_data_end()
    try:
        if job_id is not None:
            job_start(job_id=job_id, total=100)
            job_progress(job_id=job_id, done=5, message=_("reading the customers' features"))
        features = churn_features(as_of=as_of) if as_of is not None else None
        scores = pd.DataFrame(
            {"customer_id": features.index.to_numpy(), "churn_risk": churn_risk(pipeline, features)}
            if features is not None and len(features)
            else {"customer_id": [], "churn_risk": []}
        )
        bounds = Customer.objects.aggregate(low=Min("id"), high=Max("id"))
        ranges = (
            [(low, min(low + range_size - 1, bounds["high"])) for low in range(bounds["low"], bounds["high"] + 1,
                                                                                range_size)]
            if bounds["low"] is not None else []
        )  # fmt: skip
        crossings = churn_crossings(_with_previous(scores), threshold=alert_threshold(),
                                    top_spend_share=alert_top_spend_share())  # fmt: skip
        ids = scores["customer_id"].to_numpy()
        changed = 0
        for done, (low, high) in enumerate(ranges, start=1):
            chunk = scores[(ids >= low) & (ids <= high)]
            changed += feature_scores_write(scores=chunk, columns=["churn_risk"], id_range=(low, high))
            if job_id is not None:
                message = _("customers up to id %(id)d scored") % {"id": high}
                job_progress(job_id=job_id, done=40 + int(60 * done / len(ranges)), message=message)
        alerts = churn_alerts_record(crossings=crossings, model_id=version.pk)
    except Exception as error:
        if job_id is not None:
            job_fail(job_id=job_id, message=str(error))
        raise
    result = ChurnScoring(model_id=version.pk, as_of=as_of, ranges=len(ranges), changed=changed, alerts=alerts,
                          seconds=round(time.perf_counter() - started, 2))  # fmt: skip
    if job_id is not None:
        job_succeed(job_id=job_id, result={"summary": {"changed": changed, "model": version.chosen}},
                    message=_("%(count)d churn risks changed") % {"count": changed})  # fmt: skip
    return result


def churn_score_job() -> str:
    return str(job_create(kind="churn_score", title=_("Churn risk: score every customer")).pk)
