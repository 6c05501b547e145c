"""Churn early warning: crossings of the threshold among the most valuable customers,
recorded once a day by scoring, listed on a page and in the API, enrolled through the hook."""

import numpy as np
import pandas as pd
import pytest

from analytics.churn import alerts as alerts_module
from analytics.churn.alerts import (
    EnrollmentUnavailable,
    RetentionTarget,
    churn_alerts_enroll,
    churn_crossings,
    churn_enrollment_register,
)
from analytics.churn.services import churn_train_start
from analytics.models import ChurnAlert
from segments.churn_scores import churn_score_all
from segments.models import CustomerFeatures
from segments.services import features_refresh_full

pytestmark = pytest.mark.django_db


def test_crossings_are_rises_to_the_threshold_among_top_spenders():
    scored = pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        "previous_risk": [0.2, 0.8, np.nan, 0.69, 0.1, 0.1, 0.1, 0.1, 0.1, 0.5],
        "risk":          [0.9, 0.95, 0.75, 0.7, 0.3, 0.9, 0.9, 0.9, 0.9, 0.71],
        "monetary":      [900, 800, 700, 600, 500, 0, 40, 30, 20, 10],
    })  # fmt: skip
    everyone = churn_crossings(scored, threshold=0.7, top_spend_share=1.0)
    # rose from below (or from nothing) to >= 0.7; customer 2 was already above, 5 stays below
    assert list(everyone["customer_id"]) == [1, 3, 4, 6, 7, 8, 9, 10]
    top = churn_crossings(scored, threshold=0.7, top_spend_share=0.4)
    # the top 40 % by spend are customers 1–4 (spend >= the 60th percentile, 540)
    assert list(top["customer_id"]) == [1, 3, 4]


@pytest.fixture
def scored_shop(demo_reviews, marketer, django_capture_on_commit_callbacks, settings):
    settings.PRECIS_CHURN_ALERT_THRESHOLD = 0.6
    settings.PRECIS_CHURN_ALERT_TOP_SPEND_SHARE = 0.5
    features_refresh_full()
    with django_capture_on_commit_callbacks(execute=True):
        churn_train_start(user=marketer)  # scores every customer after training
    return ChurnAlert.objects.all()


def test_scoring_records_each_crossing_once(scored_shop):
    features = pd.DataFrame(
        CustomerFeatures.objects.exclude(churn_risk=None).values("customer_id", "churn_risk", "monetary")
    )
    features["monetary"] = features["monetary"].astype(float)
    cut = np.quantile(features["monetary"], 0.5)
    expected = set(features[(features["churn_risk"] >= 0.6) & (features["monetary"] >= cut)
                            & (features["monetary"] > 0)]["customer_id"])  # fmt: skip
    assert set(scored_shop.values_list("customer_id", flat=True)) == expected
    assert len(expected) > 0
    assert all(alert.previous_risk is None for alert in scored_shop)  # first scoring: no risk before

    CustomerFeatures.objects.update(churn_risk=0.0)  # everyone "safe" again, the same day
    again = churn_score_all()
    assert again.alerts == 0  # one alert per customer and day
    assert ChurnAlert.objects.count() == len(expected)


def test_page_and_api_list_the_alerts(client, api_client, viewer, scored_shop):
    client.force_login(viewer)
    page = client.get("/analytics/churn/alerts/").content.decode()
    first = scored_shop.order_by("-risk").first()
    assert first.customer.external_id in page
    assert 'data-testid="enroll"' not in page  # no campaign registered, and viewers cannot enroll
    rows = api_client.get("/api/churn/alerts/?days=1").json()
    assert {row["customer"] for row in rows} == {a.customer.external_id for a in scored_shop}
    assert api_client.get("/api/churn/alerts/?days=0").status_code == 400


def test_enrollment_goes_through_the_registered_hook(scored_shop, monkeypatch):
    # monkeypatch restores whatever the campaigns app registered at start-up afterwards.
    monkeypatch.setattr(alerts_module, "_targets", None)
    monkeypatch.setattr(alerts_module, "_handler", None)
    with pytest.raises(EnrollmentUnavailable):
        churn_alerts_enroll(alert_ids=[scored_shop.first().pk], target="winback")

    received = []
    churn_enrollment_register(targets=lambda: [RetentionTarget("winback", "Win-back")],
                              handler=lambda target, ids: received.append((target, list(ids))) or len(ids))  # fmt: skip
    picked = list(scored_shop.order_by("pk")[:2])
    assert churn_alerts_enroll(alert_ids=[a.pk for a in picked], target="winback") == 2
    assert received == [("winback", sorted(a.customer_id for a in picked))]
    assert set(ChurnAlert.objects.exclude(enrolled_in="").values_list("pk", flat=True)) == {a.pk for a in picked}
    assert churn_alerts_enroll(alert_ids=[a.pk for a in picked], target="winback") == 0  # once only
