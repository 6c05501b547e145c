"""Clustering over the REST API: start, list, read, save a cluster, place new customers."""

import numpy as np
import pytest
from rest_framework.test import APIClient

from segments.models import ClusteringRun, ClusterMember, CustomerFeatures, SegmentMembership
from tests.segments.clustering_data import RFM, feature_rows, rfm_groups, rfm_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(api_client, django_capture_on_commit_callbacks):
    def start(payload: dict):
        with django_capture_on_commit_callbacks(execute=True):
            return api_client.post("/api/segments/clustering/runs/", payload, format="json")

    return start


def test_start_read_and_list_a_run(api_client, started):
    rfm_groups()
    response = started({"algorithm": "kmeans", "features": RFM})
    assert response.status_code == 202
    assert response.json()["status"] == "queued"  # the worker fits it after the request
    run_id = response.json()["id"]

    detail = api_client.get(f"/api/segments/clustering/runs/{run_id}/").json()
    assert detail["status"] == "succeeded" and detail["progress"] == 100
    assert detail["k_used"] == 3 and detail["applied"] is True
    assert set(detail["silhouette_scores"]) == {str(k) for k in range(2, 9)}
    first = detail["profiles"][0]
    assert (first["number"], first["size"]) == (1, 24)
    assert first["description"] == "recent, frequent, high spend"
    assert first["traits"][0] == {"feature": "recency_days", "direction": "low"}
    assert set(first["means"]) == set(RFM)
    assert len(detail["centroids"]) == 3 and detail["scaler"]["features"] == RFM

    listing = api_client.get("/api/segments/clustering/runs/").json()
    assert [run["id"] for run in listing] == [run_id]
    assert "profiles" not in listing[0]


def test_bad_requests_name_the_field(started, monkeypatch):
    rfm_groups()
    unknown = started({"features": ["recency_days", "shoe_size"]})
    assert unknown.status_code == 400 and "features" in unknown.json()
    assert "shoe_size" in str(unknown.json()["features"])
    bad_k = started({"features": RFM, "k": 50})
    assert bad_k.status_code == 400 and "k" in bad_k.json()

    from segments.clustering import model

    monkeypatch.setattr(model, "WARD_MAX_CUSTOMERS", 30)
    too_many = started({"algorithm": "ward", "features": RFM})
    assert too_many.status_code == 400
    (error,) = too_many.json()["errors"]
    assert (error["field"], error["code"]) == ("scope", "too_many_customers")
    assert "at most 30 customers; this scope has 50" in error["message"]
    no_segment = started({"features": RFM, "scope": "segment"}).json()["errors"][0]
    assert (no_segment["field"], no_segment["code"]) == ("segment", "segment_required")
    assert not ClusteringRun.objects.exists()


def test_save_a_cluster_as_a_segment(api_client, started):
    groups = rfm_groups()
    run_id = started({"features": RFM, "k": 3}).json()["id"]

    response = api_client.post(f"/api/segments/clustering/runs/{run_id}/clusters/2/segment/", {}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Cluster 2: lapsed, rare buyers, low spend"
    assert body["kind"] == "static" and body["size"] == 16
    in_segment = SegmentMembership.objects.filter(segment_id=body["id"]).values_list("customer_id", flat=True)
    assert set(in_segment) == set(groups["lapsed"])
    assert set(in_segment) == set(
        ClusterMember.objects.filter(run_id=run_id, cluster=2).values_list("customer_id", flat=True)
    )
    named = api_client.post(f"/api/segments/clustering/runs/{run_id}/clusters/3/segment/", {"name": "Middle"})
    assert named.status_code == 201 and named.json()["name"] == "Middle"
    missing = api_client.post(f"/api/segments/clustering/runs/{run_id}/clusters/9/segment/", {}, format="json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["code"] == "unknown_cluster"
    assert api_client.post("/api/segments/clustering/runs/999/clusters/1/segment/", {}).status_code == 404


def test_assign_new_customers(api_client, started):
    refused = api_client.post("/api/segments/clustering/assign/")
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "no_applied_run"

    rfm_groups()
    run_id = started({"features": RFM, "k": 3}).json()["id"]
    (newcomer,) = feature_rows([rfm_row("lapsed", np.random.default_rng(3))])

    response = api_client.post("/api/segments/clustering/assign/")

    assert response.status_code == 200
    assert response.json() == {"run_id": run_id, "assigned": 1}
    assert CustomerFeatures.objects.get(customer_id=newcomer).cluster == 2


def test_viewers_read_but_cannot_start_save_or_assign(viewer, started):
    rfm_groups()
    run_id = started({"features": RFM, "k": 2}).json()["id"]
    client = APIClient()
    client.force_authenticate(user=viewer)
    assert client.get("/api/segments/clustering/runs/").status_code == 200
    assert client.get(f"/api/segments/clustering/runs/{run_id}/").status_code == 200
    assert client.post("/api/segments/clustering/runs/", {"features": RFM}, format="json").status_code == 403
    assert client.post(f"/api/segments/clustering/runs/{run_id}/clusters/1/segment/", {}).status_code == 403
    assert client.post("/api/segments/clustering/assign/").status_code == 403
    assert APIClient().get("/api/segments/clustering/runs/").status_code in (401, 403)
