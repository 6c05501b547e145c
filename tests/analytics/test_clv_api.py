"""The lifetime-value API: anyone with the analytics view permission reads the fits; analysts,
marketers and admins start one (run eagerly here), viewers cannot."""

import pytest
from rest_framework.test import APIClient

from accounts.roles import Role
from analytics.clv.services import clv_fit
from analytics.models import ClvFit
from tests.segments.test_clv_jobs import CALIBRATION_END, HOLDOUT_END, JSON_KEYS, make_clv_shop

pytestmark = pytest.mark.django_db

REQUEST = {"calibration_end": CALIBRATION_END.isoformat(), "holdout_end": HOLDOUT_END.isoformat(), "time_unit": "week"}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_viewer_reads_but_cannot_start(viewer):
    client = client_for(viewer)
    assert client.get("/api/clv/fits/").json() == []
    assert client.post("/api/clv/fits/", REQUEST, format="json").status_code == 403
    assert not ClvFit.objects.exists()
    assert client.get("/api/clv/fits/999/").status_code == 404
    assert APIClient().get("/api/clv/fits/").status_code in (401, 403)


@pytest.mark.parametrize("role", [Role.MARKETER, Role.ANALYST, Role.ADMIN])
def test_start_runs_the_fit(make_user, viewer, role, django_capture_on_commit_callbacks):
    make_clv_shop(customers=120, seed=4)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(make_user(role)).post("/api/clv/fits/", REQUEST, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["calibration_end"] == "2024-09-30" and created["holdout_end"] == "2024-12-31"

    read = client_for(viewer).get(f"/api/clv/fits/{created['id']}/").json()
    assert read["status"] == "succeeded" and read["error"] == ""
    direct = clv_fit(calibration_end=CALIBRATION_END, time_unit="week", holdout_end=HOLDOUT_END)
    assert {key: read["parameters"][key] for key in JSON_KEYS} == pytest.approx(direct.parameters(), rel=1e-9)
    assert read["holdout"]["actual_total"] == direct.holdout.actual_total
    assert [row["frequency"] for row in read["holdout"]["by_frequency"]] == [
        bucket.frequency for bucket in direct.holdout.by_frequency
    ]
    assert read["scored"] > 0
    listed = client_for(viewer).get("/api/clv/fits/").json()
    assert [fit["id"] for fit in listed] == [created["id"]]


def test_start_validates_the_dates(marketer):
    client = client_for(marketer)
    response = client.post("/api/clv/fits/", {**REQUEST, "holdout_end": "2024-09-01"}, format="json")
    assert response.status_code == 400
    assert "holdout_end" in response.json()
    response = client.post("/api/clv/fits/", {**REQUEST, "time_unit": "fortnight"}, format="json")
    assert response.status_code == 400 and "time_unit" in response.json()
    assert not ClvFit.objects.exists()


def test_schema_lists_the_clv_endpoints(admin_user):
    schema = client_for(admin_user).get("/api/schema/", {"format": "json"}).json()
    assert {"/api/clv/fits/", "/api/clv/fits/{fit_id}/"} <= set(schema["paths"])
