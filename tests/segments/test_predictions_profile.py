"""The "Predictions" panel on the customer profile: each score from the feature table with
its meaning in plain words, and "not computed yet" where a model has not scored the customer."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from analytics.models import ChurnModel
from segments.models import CustomerFeatures
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
HAS_RECOMMENDATIONS = "recommended_category" in {field.name for field in CustomerFeatures._meta.fields}


def _panel(client, external_id: str) -> dict[str, str]:
    html = client.get(f"/customers/{external_id}/").content.decode()
    assert 'data-testid="customer-predictions"' in html
    lines = re.findall(r'data-testid="prediction-([a-z_]+)">(.*?)</dd>', html, flags=re.S)
    return {key: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", value)).strip() for key, value in lines}


def test_panel_shows_scores_with_their_meaning(marketer_client):
    customer = CustomerFactory(external_id="C-PRED")
    extra = {"recommended_category": "Tea"} if HAS_RECOMMENDATIONS else {}
    CustomerFeatures.objects.create(
        customer=customer, as_of=NOW, computed_at=NOW, churn_risk=0.723, probability_alive=0.31,
        expected_purchases=2.345, clv=Decimal("1234.50"), **extra,
    )  # fmt: skip
    panel = _panel(marketer_client, "C-PRED")
    assert panel["churn_risk"] == "72 %: likely not to buy in the next 90 days"
    assert panel["probability_alive"].startswith("31 %: probably no longer buying")
    assert panel["expected_purchases"] == "2.3: purchases (shopping days) expected in the next 52 weeks"
    assert panel["clv"] == "1,234.50: expected spend in the next 52 weeks, discounted at 10 % a year"
    if HAS_RECOMMENDATIONS:
        assert panel["recommended_category"].startswith("Tea: the category this customer is most likely to buy")

    # The active churn model's horizon is the one the risk is about.
    ChurnModel.objects.create(horizon_days=60, active=True)
    CustomerFeatures.objects.filter(customer=customer).update(churn_risk=0.2, probability_alive=0.9)
    panel = _panel(marketer_client, "C-PRED")
    assert panel["churn_risk"] == "20 %: likely to buy again in the next 60 days"
    assert panel["probability_alive"].startswith("90 %: probably still an active buyer")


def test_panel_says_not_computed_yet_for_missing_scores(marketer_client):
    customer = CustomerFactory(external_id="C-NULL")
    CustomerFeatures.objects.create(customer=customer, as_of=NOW, computed_at=NOW)
    panel = _panel(marketer_client, "C-NULL")
    assert set(panel) == {"churn_risk", "probability_alive", "expected_purchases", "clv", "recommended_category"}
    for key, text in panel.items():
        assert text.startswith("not computed yet ("), key
    assert "no purchase in the next 90 days" in panel["churn_risk"]


def test_no_panel_before_the_features_exist(marketer_client):
    CustomerFactory(external_id="C-NONE")
    html = marketer_client.get("/customers/C-NONE/").content.decode()
    assert 'data-testid="customer-predictions"' not in html
