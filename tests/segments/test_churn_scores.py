"""Churn risks written into the feature table: the model's own probabilities, per range,
with customers outside the population cleared."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from analytics.churn.dataset import churn_features, churn_labels
from analytics.churn.model import churn_models_compare, churn_risk
from segments.churn_scores import features_churn_score
from segments.feature_scores import feature_scores_write
from segments.models import CustomerFeatures
from segments.services import features_refresh_full
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
AS_OF = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


@pytest.fixture
def shop():
    rng = np.random.default_rng(8)
    for i in range(40):
        customer = CustomerFactory(external_id=f"S{i:02d}", signed_up_at=AS_OF - dt.timedelta(days=500))
        for _ in range(int(rng.integers(0, 6))):
            OrderFactory(customer=customer, total=Decimal(int(rng.integers(10, 200))),
                         ordered_at=AS_OF - dt.timedelta(days=int(rng.integers(1, 480))))  # fmt: skip
    CustomerFactory(external_id="LATE", signed_up_at=AS_OF + dt.timedelta(days=3))
    features_refresh_full(as_of=AS_OF)


def fitted_pipeline():
    cutoff = AS_OF - dt.timedelta(days=120)
    X = churn_features(as_of=cutoff)
    y = churn_labels(as_of=cutoff, horizon_days=90, customer_ids=X.index).to_numpy()
    return churn_models_compare(X, y, X, y, names=("logistic_regression",)).pipelines["logistic_regression"]


def risks() -> dict[str, float | None]:
    return dict(CustomerFeatures.objects.values_list("customer__external_id", "churn_risk"))


def test_scores_are_the_models_probabilities_and_late_sign_ups_get_none(shop):
    pipeline = fitted_pipeline()
    features = churn_features(as_of=AS_OF)
    expected = dict(zip(features.index, churn_risk(pipeline, features), strict=True))

    changed = features_churn_score(pipeline=pipeline, as_of=AS_OF)

    written = dict(CustomerFeatures.objects.values_list("customer_id", "churn_risk"))
    assert changed == len(expected) == 40
    for customer_id, risk in expected.items():
        assert written[customer_id] == pytest.approx(risk)
    assert risks()["LATE"] is None
    assert features_churn_score(pipeline=pipeline, as_of=AS_OF) == 0  # nothing changes the second time


def test_a_range_touches_only_its_customers(shop):
    ids = sorted(CustomerFeatures.objects.values_list("customer_id", flat=True))
    CustomerFeatures.objects.update(churn_risk=0.5)
    feature_scores_write(
        scores=pd.DataFrame({"customer_id": ids[:5], "churn_risk": [0.1, 0.2, np.nan, 0.4, 0.9]}),
        columns=["churn_risk"],
        id_range=(ids[0], ids[9]),
    )
    written = dict(CustomerFeatures.objects.values_list("customer_id", "churn_risk"))
    assert [written[i] for i in ids[:5]] == [0.1, 0.2, None, 0.4, 0.9]
    assert [written[i] for i in ids[5:10]] == [None] * 5  # in the range, not scored: cleared
    assert {written[i] for i in ids[10:]} == {0.5}  # outside the range: untouched


def test_missing_columns_are_refused(shop):
    with pytest.raises(ValueError, match="churn_risk"):
        feature_scores_write(scores=pd.DataFrame({"customer_id": [1]}), columns=["churn_risk"])
