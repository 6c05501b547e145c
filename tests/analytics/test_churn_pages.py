"""The churn page and API: both figures (best model and recency baseline) shown, training
and choosing by role."""

import pytest
from rest_framework.test import APIClient

from analytics.churn.model import MODEL_NAMES
from analytics.churn.services import churn_train_start
from analytics.models import ChurnModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(demo_reviews, marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        version = churn_train_start(user=marketer)
    version.refresh_from_db()
    return version


def test_page_shows_each_model_and_the_baseline(client, viewer, trained):
    client.force_login(viewer)
    page = client.get("/analytics/churn/").content.decode()
    for row in trained.evaluations:
        assert f'data-testid="churn-row-{row["name"]}"' in page
        assert f"{row['roc_auc']:.3f}" in page
    assert 'data-testid="churn-row-recency_only"' in page
    assert f"{trained.baseline['roc_auc']:.3f}" in page
    assert 'data-testid="churn-confusion"' in page
    assert 'data-testid="churn-train"' not in page  # viewers read only


def test_marketer_picks_another_model(client, marketer, trained, django_capture_on_commit_callbacks):
    other = next(name for name in MODEL_NAMES if name != trained.chosen)
    client.force_login(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/analytics/churn/{trained.pk}/choose/", {"model": other}, follow=True)
    assert answer.status_code == 200
    trained.refresh_from_db()
    assert trained.chosen == other


def test_viewer_cannot_train_or_choose(client, viewer, trained):
    client.force_login(viewer)
    assert client.post("/analytics/churn/train/", {"horizon_days": 90}).status_code == 403
    assert client.post(f"/analytics/churn/{trained.pk}/choose/", {"model": "decision_tree"}).status_code == 403


def test_api_lists_trains_and_chooses(api_client, trained, django_capture_on_commit_callbacks):
    listed = api_client.get("/api/churn/models/").json()
    assert listed[0]["id"] == trained.pk
    assert [row["name"] for row in listed[0]["evaluations"]] == list(MODEL_NAMES)
    assert listed[0]["baseline"]["name"] == "recency_only"

    answer = api_client.patch(f"/api/churn/models/{trained.pk}/", {"chosen": "decision_tree"}, format="json")
    assert answer.status_code == 200 and answer.json()["chosen"] == "decision_tree"
    assert api_client.patch(f"/api/churn/models/{trained.pk}/", {"chosen": "oracle"}, format="json").status_code == 400

    with django_capture_on_commit_callbacks(execute=True):
        started = api_client.post("/api/churn/models/", {"horizon_days": 60}, format="json")
    assert started.status_code == 201 and started.json()["horizon_days"] == 60
    assert ChurnModel.objects.get(pk=started.json()["id"]).status == ChurnModel.Status.SUCCEEDED
    assert api_client.post("/api/churn/models/", {"horizon_days": 2}, format="json").status_code == 400


def test_viewer_api_reads_but_cannot_train(viewer, trained):
    client = APIClient()
    client.force_authenticate(user=viewer)
    assert client.get(f"/api/churn/models/{trained.pk}/").status_code == 200
    assert client.post("/api/churn/models/", {}, format="json").status_code == 403
