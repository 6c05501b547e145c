"""POST /api/sentiment/ and the read endpoints, with the role rules; the sentiment page."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.roles import Role
from analytics.models import ScoredText
from analytics.sentiment.model import LexiconScorer
from jobs.models import Job
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_score_happy_path(viewer):
    texts = ["物流很快，但是质量很差", "Great value for money, fast delivery.", ""]
    response = client_for(viewer).post("/api/sentiment/", {"texts": texts}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "lexicon" and body["model_id"] is None
    expected = LexiconScorer().score(texts)
    assert [r["label"] for r in body["results"]] == [e.label for e in expected]
    first = body["results"][0]
    assert first["language"] == "zh" and first["aspects"]["logistics"] > 0 > first["aspects"]["quality"]
    assert body["results"][2] == {"label": "neutral", "score": 0.0, "language": "en", "aspects": {}}


def test_more_than_1000_texts_is_refused_naming_the_field(viewer):
    response = client_for(viewer).post("/api/sentiment/", {"texts": ["ok"] * 1001}, format="json")
    assert response.status_code == 400
    assert "texts" in response.json()
    assert "1000" in response.json()["texts"][0]


@pytest.mark.parametrize("payload", [{"texts": []}, {}, {"texts": "just one string"}])
def test_empty_or_missing_texts_is_refused_naming_the_field(viewer, payload):
    response = client_for(viewer).post("/api/sentiment/", payload, format="json")
    assert response.status_code == 400 and "texts" in response.json()


def test_exactly_1000_texts_are_scored(viewer):
    response = client_for(viewer).post("/api/sentiment/", {"texts": ["很好"] * 1000}, format="json")
    assert response.status_code == 200 and len(response.json()["results"]) == 1000


def test_viewer_can_score_but_not_train(viewer):
    client = client_for(viewer)
    assert client.post("/api/sentiment/train/", {}, format="json").status_code == 403
    assert client.get("/api/sentiment/model/").status_code == 200


@pytest.mark.parametrize("role", [Role.MARKETER, Role.ANALYST, Role.ADMIN])
def test_marketers_analysts_and_admins_can_start_training(make_user, role, django_capture_on_commit_callbacks):
    ReviewFactory.create_batch(3)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(make_user(role)).post("/api/sentiment/train/", {}, format="json")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job_id"])
    job.refresh_from_db()
    # eager Celery ran the job: too few reviews, so a lexicon version, and the texts scored
    assert job.status == "succeeded"
    assert ScoredText.objects.count() == 3
    assert job.result["summary"]["reviews scored"] == 3 and job.result["summary"]["activated"] is True


def test_anonymous_is_refused():
    assert APIClient().post("/api/sentiment/", {"texts": ["ok"]}, format="json").status_code in (401, 403)


def test_model_and_trend_endpoints(viewer, django_capture_on_commit_callbacks, marketer):
    ReviewFactory.create_batch(4, text="质量很好")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(marketer).post("/api/sentiment/train/", {}, format="json")
    client = client_for(viewer)
    model = client.get("/api/sentiment/model/").json()
    assert model["kind"] == "lexicon" and model["active"] is True
    assert model["metrics"]["counts"] == {"positive": 4, "negative": 0}
    trend = client.get("/api/sentiment/trend/", {"by": "product", "period": "month"}).json()
    assert sum(row["texts"] for row in trend) == 4 and all(row["positive"] == row["texts"] for row in trend)
    assert client.get("/api/sentiment/trend/", {"by": "colour"}).status_code == 400
    aspects = client.get("/api/sentiment/aspects/", {"by": "all"}).json()
    assert aspects[0]["aspects"]["quality"]["mentions"] == 4


def test_sentiment_page_shows_figures_and_train_button_by_role(client, viewer, marketer):
    client.force_login(viewer)
    page = client.get(reverse("analytics:sentiment"))
    assert page.status_code == 200
    assert b'data-testid="sentiment-train"' not in page.content
    client.force_login(marketer)
    page = client.get(reverse("analytics:sentiment"))
    assert b'data-testid="sentiment-train"' in page.content
    tried = client.post(reverse("analytics:sentiment-try"), {"text": "物流很快，但是质量很差"}, HTTP_HX_REQUEST="true")
    assert tried.status_code == 200 and b'data-testid="sentiment-try-result"' in tried.content
    without_js = client.post(reverse("analytics:sentiment-try"), {"text": "Not worth the money"})
    assert without_js.status_code == 200 and "Negative" in without_js.content.decode()
    assert client.post(reverse("analytics:sentiment-try"), {"text": ""}).status_code == 400
    client.force_login(viewer)
    assert client.post(reverse("analytics:sentiment-train")).status_code == 403


def test_sentiment_page_after_training_on_demo_reviews(client, marketer, demo_reviews):
    from analytics.sentiment.services import sentiment_train_run

    version = sentiment_train_run()
    client.force_login(marketer)
    page = client.get(reverse("analytics:sentiment")).content.decode()
    assert f"Model #{version.pk}" in page
    assert 'data-testid="confusion"' in page and 'data-testid="external-sets"' in page
    assert "sentiment-trend-chart" in page
