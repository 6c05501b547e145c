"""A marketer finds clusters, reads them and saves one as a segment, in a real browser."""

from jobs.services import job_create
from segments.clustering.services import clustering_run_fit
from segments.models import ClusteringRun, Segment
from tests.segments.clustering_data import RFM, rfm_groups


def test_find_clusters_read_them_and_save_one(signed_in_page, live_server):
    page = signed_in_page
    groups = rfm_groups()
    page.goto(f"{live_server.url}/segments/")
    page.click("[data-testid=clustering-link]")
    for feature in RFM:
        page.check(f"input[name=features][value={feature}]")
    page.click("[data-testid=start-clustering]")  # the eager task fits the run before the redirect

    page.wait_for_selector("[data-testid=cluster-profiles]")
    assert page.locator("[data-testid=run-k]").inner_text().startswith("3")
    descriptions = page.locator("[data-testid=cluster-description]").all_inner_texts()
    assert descriptions[:2] == ["recent, frequent, high spend", "lapsed, rare buyers, low spend"]
    for chart in ("cluster-sizes-chart", "cluster-means-chart", "silhouette-chart"):
        page.wait_for_function(f"Chart.getChart('{chart}') !== undefined")
    assert page.evaluate("Chart.getChart('cluster-sizes-chart').data.datasets[0].data") == [24, 16, 10]

    page.fill("#cluster-name-1", "Champions by model")
    page.click("[data-testid=save-cluster-1]")
    page.wait_for_selector("[data-testid=segment-size]")
    assert page.locator("h1").inner_text().startswith("Champions by model")
    assert page.locator("[data-testid=segment-size]").inner_text() == str(len(groups["loyal"]))
    assert Segment.objects.get(name="Champions by model").kind == Segment.Kind.STATIC


def test_the_run_page_follows_the_progress_and_shows_the_clusters_when_done(signed_in_page, live_server):
    page = signed_in_page
    rfm_groups()
    job = job_create(kind="clustering", title="Clustering: k-means on recency, frequency, spend")
    run = ClusteringRun.objects.create(algorithm="kmeans", features=RFM, k_requested=3, job=job)  # not fitted yet

    page.goto(f"{live_server.url}/segments/clustering/{run.pk}/")
    page.wait_for_selector("[data-testid=run-progress] progress")
    assert page.locator("[data-testid=run-status]").inner_text() == "Queued"

    clustering_run_fit(run_id=run.pk)  # a worker finishes it; the page polls, then reloads

    page.wait_for_selector("[data-testid=cluster-profiles]")
    assert page.locator("[data-testid=run-status]").inner_text() == "Succeeded"
    assert page.locator("[data-testid=run-applied]").is_visible()
