"""The churn analysis page, its CSV downloads and its API through the test client: the
numbers are the hand computation's, viewers can read, nothing is shown as figures before
the first training, anonymous visitors are sent away."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from analytics.models import ChurnModel, ClvFit
from tests.reports.test_churn_report import (
    FIGURES,
    IMPORTANCE,
    NOW,
    hand_at_risk,
    hand_histogram,
    make_training,
    scored_shop,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=viewer)
    return client


@pytest.fixture
def scored(db) -> list[dict]:
    return scored_shop()


@pytest.fixture
def trained(db) -> ChurnModel:
    make_training(created_at=NOW - dt.timedelta(days=5), chosen="decision_tree")
    return make_training(created_at=NOW - dt.timedelta(days=1))


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_api_returns_every_part_like_the_hand_computation(viewer_api, scored, trained):
    body = viewer_api.get("/api/reports/churn/", {"threshold": 0.6, "value": "spend", "limit": 7}).json()
    assert body["training"]["id"] == trained.pk and body["training"]["chosen"] == "random_forest"
    assert body["training"]["active"] is True and body["training"]["horizon_days"] == 90
    names = [row["name"] for row in body["comparison"]]
    assert names == [*sorted(FIGURES, key=lambda name: -FIGURES[name][0]), "recency_only"]
    forest = body["comparison"][0]
    assert forest["chosen"] and forest["label"] == "Random forest"
    figures = [forest[key] for key in ("roc_auc", "accuracy", "precision", "recall", "f1")]
    assert figures == list(FIGURES["random_forest"])
    assert body["comparison"][-1]["baseline"] and body["comparison"][-1]["roc_auc"] == 0.65
    assert body["comparison"][-1]["accuracy"] is None
    assert body["drivers"] == IMPORTANCE

    assert [row["customers"] for row in body["distribution"]] == hand_histogram(scored, 10)
    assert body["scored_customers"] == 35
    ids, count, total = hand_at_risk(scored, threshold=0.6, value="spend", limit=7)
    at_risk = body["at_risk"]
    assert [row["customer_id"] for row in at_risk["top"]] == ids
    assert at_risk["customers"] == count and Decimal(at_risk["value_at_stake"]) == total
    assert at_risk["threshold"] == 0.6 and at_risk["value"] == "spend"


def test_api_bins_and_defaults(viewer_api, scored, settings):
    settings.PRECIS_CHURN_ALERT_THRESHOLD = 0.7
    ClvFit.objects.create(calibration_end=NOW, scored=10)
    body = viewer_api.get("/api/reports/churn/", {"bins": 4}).json()
    assert [row["customers"] for row in body["distribution"]] == hand_histogram(scored, 4)
    assert body["at_risk"]["threshold"] == 0.7 and body["at_risk"]["value"] == "clv"
    ids, count, total = hand_at_risk(scored, threshold=0.7, value="clv", limit=50)
    assert [row["customer_id"] for row in body["at_risk"]["top"]] == ids and body["at_risk"]["customers"] == count
    assert Decimal(body["at_risk"]["value_at_stake"]) == total


def test_api_before_any_training(viewer_api):
    body = viewer_api.get("/api/reports/churn/").json()
    assert body["training"] is None and body["comparison"] == [] and body["drivers"] == []
    assert body["scored_customers"] == 0 and body["at_risk"]["customers"] == 0 and body["at_risk"]["top"] == []


@pytest.mark.parametrize("query", [{"threshold": 1.5}, {"threshold": "x"}, {"value": "margin"}, {"limit": 0},
                                   {"limit": 5000}, {"bins": 0}])  # fmt: skip
def test_api_rejects_bad_parameters(viewer_api, query):
    assert viewer_api.get("/api/reports/churn/", query).status_code == 400


def test_api_needs_authentication_and_the_view_permission(make_user):
    assert APIClient().get("/api/reports/churn/").status_code in (401, 403)
    nobody = make_user(username="no-role")
    nobody.groups.clear()
    client = APIClient()
    client.force_authenticate(user=nobody)
    assert client.get("/api/reports/churn/").status_code == 403


def test_page_shows_models_histogram_at_risk_and_drivers(client, viewer, scored, trained):
    client.force_login(viewer)
    response = client.get(reverse("reports:churn"), {"threshold": "0.5", "value": "spend"})
    assert response.status_code == 200
    html = response.content.decode()
    for name in FIGURES:
        assert f'data-testid="model-{name}"' in html
    assert 'data-testid="model-recency_only"' in html and "0.650" in html
    assert 'id="churn-report-data"' in html and "chart-4.6.1.umd.min.js" in html
    assert 'data-testid="no-churn-model"' not in html
    context = response.context
    assert context["chart"]["distribution"]["customers"] == hand_histogram(scored, 10)
    assert context["chart"]["models"]["baseline"] == 0.65
    assert [row["feature"] for row in context["chart"]["drivers"]] == [row["feature"] for row in IMPORTANCE]
    ids, count, total = hand_at_risk(scored, threshold=0.5, value="spend", limit=50)
    assert [row["customer_id"] for row in context["at_risk"]["top"]] == ids
    assert f'data-testid="at-risk-count">{count}<' in html
    by_id = {row["id"]: row for row in scored}
    assert reverse("customers:profile", args=[by_id[ids[0]]["external_id"]]) in html
    assert f"{total:,.2f}" in html
    assert reverse("analytics:churn") in html
    assert reverse("reports:churn-csv", args=["at-risk"]) + "?threshold=0.5&amp;value=spend" in html


def test_page_says_when_no_model_was_trained(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("reports:churn"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="no-churn-model"' in html and 'data-testid="no-scores"' in html
    assert f'href="{reverse("analytics:churn")}"' in html
    assert 'data-testid="churn-drivers"' not in html


def test_page_mentions_a_newer_training_that_did_not_finish(client, viewer, trained):
    make_training(created_at=NOW, status=ChurnModel.Status.FAILED, active=False)
    client.force_login(viewer)
    html = client.get(reverse("reports:churn")).content.decode()
    assert 'data-testid="newer-training"' in html and f"Model comparison (training #{trained.pk})" in html


def test_htmx_filter_answers_the_at_risk_fragment(client, viewer, scored):
    client.force_login(viewer)
    query = {"threshold": "0.9", "value": "clv"}
    response = client.get(reverse("reports:churn"), query, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and 'data-testid="at-risk-table"' in html
    ids, count, _total = hand_at_risk(scored, threshold=0.9, value="clv", limit=50)
    assert [row["customer_id"] for row in response.context["at_risk"]["top"]] == ids
    assert f'data-testid="at-risk-count">{count}<' in html


def test_page_with_bad_filters_falls_back_to_the_defaults(client, viewer, scored, settings):
    settings.PRECIS_CHURN_ALERT_THRESHOLD = 0.7
    client.force_login(viewer)
    response = client.get(reverse("reports:churn"), {"threshold": "7", "value": "margin"})
    assert response.status_code == 200 and response.context["form"].errors
    assert response.context["at_risk"]["threshold"] == 0.7 and response.context["at_risk"]["value"] == "spend"


def test_csv_downloads_carry_the_numbers(client, viewer, scored, trained):
    client.force_login(viewer)
    models = _csv(client.get(reverse("reports:churn-csv", args=["models"])))
    assert models[0] == ["model", "baseline", "chosen", "roc_auc", "accuracy", "precision", "recall", "f1"]
    by_name = {row[0]: row for row in models[1:]}
    for name, figures in FIGURES.items():
        assert [float(cell) for cell in by_name[name][3:]] == pytest.approx(list(figures))
    assert by_name["random_forest"][2] == "1" and by_name["recency_only"][1:4] == ["1", "0", "0.650000"]
    assert by_name["recency_only"][4:] == ["", "", "", ""]

    distribution = _csv(client.get(reverse("reports:churn-csv", args=["distribution"])))
    assert distribution[0] == ["risk_from", "risk_to", "customers"]
    assert [int(row[2]) for row in distribution[1:]] == hand_histogram(scored, 10)

    drivers = _csv(client.get(reverse("reports:churn-csv", args=["drivers"])))
    assert [(row[0], float(row[1])) for row in drivers[1:]] == [(r["feature"], r["importance"]) for r in IMPORTANCE]

    at_risk = _csv(client.get(reverse("reports:churn-csv", args=["at-risk"]), {"threshold": "0.3", "value": "clv"}))
    ids, count, total = hand_at_risk(scored, threshold=0.3, value="clv", limit=50)
    by_id = {row["id"]: row for row in scored}
    assert at_risk[0] == ["customer_id", "name", "churn_risk", "spend", "clv"]
    assert [row[0] for row in at_risk[1:-1]] == [by_id[customer]["external_id"] for customer in ids]
    assert [row[3] for row in at_risk[1:-1]] == [f"{by_id[customer]['spend']:.2f}" for customer in ids]
    assert at_risk[-1][0] == "all" and f"{count} customers" in at_risk[-1][1]
    assert Decimal(at_risk[-1][4]) == total.quantize(Decimal("0.01")) and at_risk[-1][3] == ""
    assert client.get(reverse("reports:churn-csv", args=["other"])).status_code == 404


def test_csv_before_any_training_has_headers_only(client, viewer):
    client.force_login(viewer)
    assert len(_csv(client.get(reverse("reports:churn-csv", args=["models"])))) == 1
    assert len(_csv(client.get(reverse("reports:churn-csv", args=["drivers"])))) == 1


def test_page_and_downloads_redirect_anonymous_visitors(client):
    for url in (reverse("reports:churn"), reverse("reports:churn-csv", args=["models"])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_user_without_the_permission_is_refused(client, make_user):
    nobody = make_user(username="no-role")
    nobody.groups.clear()
    client.force_login(nobody)
    assert client.get(reverse("reports:churn")).status_code == 403
    assert client.get(reverse("reports:churn-csv", args=["models"])).status_code == 403
