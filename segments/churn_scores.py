"""Churn risk in the feature table: the active churn model scores customers range by range
from their point-in-time features (analytics), and the risks land in ``churn_risk``."""

import datetime as dt

import pandas as pd
from sklearn.pipeline import Pipeline

from analytics.churn.dataset import churn_features
from analytics.churn.model import churn_risk
from segments.feature_scores import feature_scores_write


def features_churn_score(*, pipeline: Pipeline, as_of: dt.datetime, id_range: tuple[int, int] | None = None) -> int:
    """Score the customers of ``id_range`` (all when None) as of ``as_of`` and write their
    churn risk; customers signed up after ``as_of`` get none. Returns the rows changed."""
    features = churn_features(as_of=as_of, id_range=id_range)
    scores = pd.DataFrame({"customer_id": features.index.to_numpy(), "churn_risk": churn_risk(pipeline, features)})
    return feature_scores_write(scores=scores, columns=["churn_risk"], id_range=id_range)
