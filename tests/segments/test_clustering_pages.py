"""Clustering pages: the link from the segments list, the form, a run's page with its
profiles and charts, saving a cluster, progress while a run is unfinished, permissions."""

import json
import re

import pytest

from segments.clustering import model
from segments.clustering.services import clustering_run_start
from segments.models import ClusteringRun, ClusterMember, Segment
from tests.segments.clustering_data import RFM, rfm_groups

pytestmark = pytest.mark.django_db


@pytest.fixture
def post_now(marketer_client, django_capture_on_commit_callbacks):
    def post(url, data):
        """Post, let the queued fit run (as after a real request), then open the redirect."""
        with django_capture_on_commit_callbacks(execute=True):
            response = marketer_client.post(url, data)
        assert response.status_code == 302, response.content.decode()
        return marketer_client.get(response["Location"])

    return post


def test_the_segments_page_links_to_clustering(marketer_client):
    page = marketer_client.get("/segments/").content.decode()
    assert 'href="/segments/clustering/"' in page


def test_start_a_run_from_the_form_and_read_its_clusters(marketer_client, post_now):
    rfm_groups()
    form = marketer_client.get("/segments/clustering/").content.decode()
    assert 'value="recency_days"' in form and 'value="view_count_30d"' in form
    assert "Days since last order" in form

    response = post_now("/segments/clustering/", {"features": RFM, "algorithm": "kmeans", "k": "", "scope": "all"})

    run = ClusteringRun.objects.get()
    assert response.request["PATH_INFO"] == f"/segments/clustering/{run.pk}/"
    page = response.content.decode()
    assert "recent, frequent, high spend" in page and "lapsed, rare buyers, low spend" in page
    assert 'data-testid="run-k">3' in page
    assert 'value="Cluster 1: recent, frequent, high spend"' in page  # the editable segment name
    charts = json.loads(re.search(r'id="clustering-chart-data" type="application/json">(.*?)</script>', page)[1])
    assert charts["sizes"] == [24, 16, 10]
    assert [point["k"] for point in charts["silhouette"]] == list(range(2, 9))
    assert len(charts["z"]) == 3 and len(charts["z"][0]) == 3
    assert "chart-4.6.1.umd.min.js" in page and "cdn" not in page.lower()


def test_save_a_cluster_from_its_button(marketer_client, post_now):
    groups = rfm_groups()
    run = clustering_run_start(algorithm="kmeans", features=RFM, k=3)
    from segments.clustering.services import clustering_run_fit

    clustering_run_fit(run_id=run.pk)
    response = marketer_client.post(
        f"/segments/clustering/{run.pk}/clusters/1/segment/", {"name": "Best customers"}, follow=True
    )
    segment = Segment.objects.get(name="Best customers")
    assert response.redirect_chain[-1][0] == f"/segments/{segment.pk}/"
    assert "24 customers are in the new segment." in response.content.decode()
    assert segment.size == len(groups["loyal"])


def test_a_refused_request_shows_the_reason_on_the_form(marketer_client, monkeypatch):
    monkeypatch.setattr(model, "WARD_MAX_CUSTOMERS", 30)
    rfm_groups()
    response = marketer_client.post("/segments/clustering/", {"features": RFM, "algorithm": "ward", "scope": "all"})
    assert response.status_code == 400
    assert "at most 30 customers; this scope has 50" in response.content.decode()
    nothing = marketer_client.post("/segments/clustering/", {"algorithm": "kmeans", "scope": "all"})
    assert nothing.status_code == 400 and "This field is required." in nothing.content.decode()
    assert not ClusteringRun.objects.exists()


def test_an_unfinished_run_shows_the_progress_bar_and_the_list_polls(marketer_client):
    rfm_groups()
    run = clustering_run_start(algorithm="kmeans", features=RFM)  # queued: no worker ran it
    page = marketer_client.get(f"/segments/clustering/{run.pk}/").content.decode()
    assert "data-reload-when-finished" in page
    assert f'hx-get="/jobs/{run.job_id}/progress/"' in page
    listing = marketer_client.get("/segments/clustering/", headers={"HX-Request": "true"}).content.decode()
    assert listing.lstrip().startswith('<div id="clustering-runs" hx-get="/segments/clustering/"')
    assert "<html" not in listing


def test_place_new_customers_from_the_page(marketer_client, post_now):
    rfm_groups()
    post_now("/segments/clustering/", {"features": RFM, "algorithm": "kmeans", "k": "2", "scope": "all"})
    page = marketer_client.get("/segments/clustering/").content.decode()
    assert 'data-testid="applied-run"' in page
    response = marketer_client.post("/segments/clustering/assign/", follow=True)
    assert "0 new customers placed in the clusters of run" in response.content.decode()


def test_viewers_see_runs_but_cannot_start_or_save(client, viewer):
    rfm_groups()
    run = clustering_run_start(algorithm="kmeans", features=RFM, k=2)
    from segments.clustering.services import clustering_run_fit

    clustering_run_fit(run_id=run.pk)
    client.force_login(viewer)
    index = client.get("/segments/clustering/")
    assert index.status_code == 200 and 'data-testid="clustering-form"' not in index.content.decode()
    detail = client.get(f"/segments/clustering/{run.pk}/").content.decode()
    assert 'data-testid="cluster-profiles"' in detail and "save-cluster-1" not in detail
    assert client.post("/segments/clustering/", {"features": RFM, "algorithm": "kmeans"}).status_code == 403
    assert client.post(f"/segments/clustering/{run.pk}/clusters/1/segment/").status_code == 403
    assert client.post("/segments/clustering/assign/").status_code == 403


def test_the_admin_deletes_a_run_with_its_members_after_a_confirmation_with_counts(client, admin_user):
    rfm_groups()
    run = clustering_run_start(algorithm="kmeans", features=RFM, k=2)
    from segments.clustering.services import clustering_run_fit

    clustering_run_fit(run_id=run.pk)
    client.force_login(admin_user)
    confirm = client.get(f"/admin/segments/clusteringrun/{run.pk}/delete/")
    assert confirm.status_code == 200
    assert "<li>Cluster members: 50</li>" in confirm.content.decode()
    response = client.post(f"/admin/segments/clusteringrun/{run.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ClusteringRun.objects.exists() and not ClusterMember.objects.exists()
