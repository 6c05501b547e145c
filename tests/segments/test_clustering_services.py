"""Clustering runs against the database: loading, fitting as a job, applying, saving a
cluster as a segment, placing new customers, the Ward limit. Tasks run eagerly."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from jobs.models import Job
from segments.clustering import model
from segments.clustering.errors import ClusteringError, ClusteringErrorCode
from segments.clustering.selectors import cluster_feature_frame
from segments.clustering.services import (
    cluster_segment_create,
    clustering_run_fit,
    clustering_run_start,
    clusters_assign_new,
)
from segments.models import ClusteringRun, ClusterMember, CustomerFeatures, Segment, SegmentMembership
from segments.services import features_refresh_incremental, segment_create_from_list
from segments.tasks import features_refresh
from tests.factories import CustomerFactory, OrderFactory
from tests.segments.clustering_data import RFM, feature_rows, non_buyers, rfm_groups, rfm_row
from tests.segments.feature_data import AS_OF as SHOP_AS_OF
from tests.segments.feature_data import make_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_now(django_capture_on_commit_callbacks):
    """Start a run and let its (eager) task fit it when the transaction commits."""

    def start(**options) -> ClusteringRun:
        with django_capture_on_commit_callbacks(execute=True):
            run = clustering_run_start(**{"algorithm": "kmeans", "features": RFM, **options})
        run.refresh_from_db()
        return run

    return start


def members(run: ClusteringRun) -> dict[int, int]:
    return dict(ClusterMember.objects.filter(run=run).values_list("customer_id", "cluster"))


def features_cluster() -> dict[int, int | None]:
    return dict(CustomerFeatures.objects.values_list("customer_id", "cluster"))


def truth_and_labels(groups: dict[str, list[int]], labels: dict[int, int]) -> tuple[list[str], list[int]]:
    pairs = [(group, labels[customer]) for group, ids in groups.items() for customer in ids]
    return [group for group, _ in pairs], [label for _, label in pairs]


def test_kmeans_over_all_customers_finds_the_groups_and_becomes_the_applied_run(run_now, marketer):
    groups = rfm_groups()
    outsiders = non_buyers(4)
    CustomerFeatures.objects.filter(customer_id=outsiders[0]).update(cluster=7)  # stale label of an older run

    run = run_now(user=marketer)

    assert run.status == ClusteringRun.Status.SUCCEEDED and run.applied
    assert run.k_used == 3 and run.k_requested is None
    assert max(run.silhouette_scores, key=run.silhouette_scores.get) == "3"
    assert run.customers == 50  # customers without orders are not clustered by default
    truth, labels = truth_and_labels(groups, members(run))
    assert adjusted_rand_score(truth, labels) == 1.0
    # numbered by size: loyal (24) = 1, lapsed (16) = 2, middle (10) = 3
    assert {members(run)[groups["loyal"][0]], members(run)[groups["lapsed"][0]]} == {1, 2}
    assert members(run)[groups["loyal"][0]] == 1
    loyal, lapsed, middle = run.profiles
    assert (loyal["size"], lapsed["size"], middle["size"]) == (24, 16, 10)
    assert loyal["traits"] == [["recency_days", "low"], ["frequency", "high"], ["monetary", "high"]]
    assert lapsed["traits"] == [["recency_days", "high"], ["frequency", "low"], ["monetary", "low"]]
    loyal_rows = CustomerFeatures.objects.filter(customer_id__in=groups["loyal"])
    assert loyal["means"]["frequency"] == pytest.approx(np.mean([row.frequency for row in loyal_rows]))
    # the applied run's numbers are in the feature table; everyone else has none
    assert features_cluster() == {**members(run), **dict.fromkeys(outsiders)}
    job = Job.objects.get(pk=run.job_id)
    assert job.status == Job.Status.SUCCEEDED and job.percent == 100
    assert job.result["summary"]["clusters"] == 3
    assert {"load", "scale", "fit", "profile", "write_members", "write_features"} <= set(run.timings)


def test_a_new_run_over_all_customers_replaces_the_applied_one(run_now):
    rfm_groups()
    first = run_now(k=2)
    second = run_now(k=3)
    first.refresh_from_db()
    assert second.applied and not first.applied
    assert ClusteringRun.objects.filter(applied=True).count() == 1
    assert features_cluster() == members(second)
    assert set(members(first).values()) == {1, 2}  # the old run keeps its own members


def test_fitting_twice_changes_nothing(run_now):
    rfm_groups()
    run = run_now(k=3)
    before = (members(run), run.profiles, run.finished_at)
    again = clustering_run_fit(run_id=run.pk)
    assert (members(again), again.profiles, again.finished_at) == before
    assert ClusterMember.objects.filter(run=run).count() == 50


def test_save_a_cluster_as_a_static_segment(run_now, marketer):
    groups = rfm_groups()
    run = run_now(k=3)

    segment = cluster_segment_create(run_id=run.pk, cluster=1, user=marketer)

    assert segment.kind == Segment.Kind.STATIC
    assert segment.name == "Cluster 1: recent, frequent, high spend"
    expected = set(ClusterMember.objects.filter(run=run, cluster=1).values_list("customer_id", flat=True))
    assert expected == set(groups["loyal"])
    current = SegmentMembership.objects.filter(segment=segment, left_at__isnull=True)
    assert set(current.values_list("customer_id", flat=True)) == expected
    assert segment.size == len(expected) == 24
    named = cluster_segment_create(run_id=run.pk, cluster=2, name="  Win back  ")
    assert named.name == "Win back" and named.size == 16
    with pytest.raises(ClusteringError) as refused:
        cluster_segment_create(run_id=run.pk, cluster=4)
    assert (refused.value.code, refused.value.field) == (ClusteringErrorCode.UNKNOWN_CLUSTER, "cluster")
    assert "clusters 1 to 3, not 4" in refused.value.message


def test_new_customers_go_to_the_nearest_centroid_and_nobody_else_moves(run_now):
    groups = rfm_groups()
    run = run_now(k=3)
    moved = groups["middle"][0]
    CustomerFeatures.objects.filter(customer_id=moved).update(cluster=1)  # an existing label is left alone
    rng = np.random.default_rng(42)
    newcomers = feature_rows([rfm_row("loyal", rng), rfm_row("lapsed", rng), rfm_row("middle", rng)])
    newcomer_without_orders = non_buyers(1)[0]
    frame = cluster_feature_frame(features=RFM).loc[newcomers]

    result = clusters_assign_new()

    assert (result.run_id, result.assigned) == (run.pk, 3)
    clusters = features_cluster()
    # independent: log1p, standardise with the stored numbers, nearest centroid by brute force
    scaled = (np.log1p(frame.to_numpy()) - run.scaler["mean"]) / np.asarray(run.scaler["std"])
    distances = np.linalg.norm(scaled[:, None, :] - np.asarray(run.centroids)[None, :, :], axis=2)
    assert [clusters[c] for c in newcomers] == list(distances.argmin(axis=1) + 1)
    assert [clusters[c] for c in newcomers] == [1, 2, 3]  # the groups they resemble
    assert clusters[moved] == 1 and clusters[newcomer_without_orders] is None
    assert clusters_assign_new().assigned == 0  # nothing left to place


def test_assigning_without_an_applied_run_is_refused(run_now):
    rfm_groups()
    run_now(k=2, scope="sample", sample_size=20)  # a sample run is never applied
    with pytest.raises(ClusteringError) as refused:
        clusters_assign_new()
    assert refused.value.code == ClusteringErrorCode.NO_APPLIED_RUN


def test_ward_on_a_segment_leaves_the_feature_table_alone(run_now):
    groups = rfm_groups(per_group={"loyal": 12, "lapsed": 9, "middle": 6})
    chosen = groups["loyal"][:8] + groups["lapsed"][:6] + groups["middle"][:4]
    identifiers = list(CustomerFeatures.objects.filter(customer_id__in=chosen).values_list("customer__external_id",
                                                                                           flat=True))  # fmt: skip
    segment = segment_create_from_list(name="Chosen", identifiers=identifiers).segment

    run = run_now(algorithm="ward", scope="segment", segment_id=segment.pk)

    assert run.status == ClusteringRun.Status.SUCCEEDED and not run.applied
    assert run.customers == 18 and run.k_used == 3
    assert set(members(run)) == set(chosen)
    wanted = {group: [c for c in ids if c in chosen] for group, ids in groups.items()}
    assert adjusted_rand_score(*truth_and_labels(wanted, members(run))) == 1.0
    assert set(features_cluster().values()) == {None}


def test_ward_refuses_a_scope_over_the_limit_naming_limit_and_count(run_now, monkeypatch):
    monkeypatch.setattr(model, "WARD_MAX_CUSTOMERS", 40)
    rfm_groups()  # 50 buyers
    with pytest.raises(ClusteringError) as refused:
        run_now(algorithm="ward")
    assert (refused.value.code, refused.value.field) == (ClusteringErrorCode.TOO_MANY_CUSTOMERS, "scope")
    assert "at most 40 customers; this scope has 50" in refused.value.message
    assert not ClusteringRun.objects.exists()
    with pytest.raises(ClusteringError) as too_big_sample:
        run_now(algorithm="ward", scope="sample", sample_size=41)
    assert too_big_sample.value.field == "sample_size"


def test_a_segment_that_grew_past_the_limit_fails_the_run_with_the_reason(monkeypatch):
    monkeypatch.setattr(model, "WARD_MAX_CUSTOMERS", 20)
    groups = rfm_groups()
    external = dict(CustomerFeatures.objects.values_list("customer_id", "customer__external_id"))
    segment = segment_create_from_list(name="Growing", identifiers=[external[c] for c in groups["loyal"][:15]]).segment
    run = clustering_run_start(algorithm="ward", features=RFM, scope="segment", segment_id=segment.pk)
    # the segment grows before a worker picks the run up
    SegmentMembership.objects.bulk_create(
        [SegmentMembership(segment=segment, customer_id=c, entered_at=run.created_at) for c in groups["lapsed"][:10]]
    )

    run = clustering_run_fit(run_id=run.pk)

    assert run.status == ClusteringRun.Status.FAILED
    assert run.error["code"] == "too_many_customers"
    assert run.error_message.startswith("Hierarchical clustering handles at most 20 customers; this scope has 25.")
    job = Job.objects.get(pk=run.job_id)
    assert job.status == Job.Status.FAILED and "this scope has 25" in job.message


def test_a_sample_run_is_reproducible(run_now):
    rfm_groups()
    first = run_now(k=3, scope="sample", sample_size=20, seed=5)
    second = run_now(k=3, scope="sample", sample_size=20, seed=5)
    assert first.customers == second.customers == 20
    assert members(first) == members(second)
    assert not first.applied and not second.applied


def test_customers_without_orders_can_be_included(run_now):
    groups = rfm_groups()
    outsiders = non_buyers(6)
    run = run_now(k=4, include_non_buyers=True)
    assert run.customers == 56
    labels = members(run)
    assert len({labels[c] for c in outsiders}) == 1  # they form their own cluster ...
    assert {labels[c] for c in outsiders}.isdisjoint(labels[c] for ids in groups.values() for c in ids)
    # ... whose recency is unknown (left out of the mean) but was fitted as the longest + 1
    profile = run.profiles[labels[outsiders[0]] - 1]
    assert profile["means"]["recency_days"] is None and profile["means"]["frequency"] == 0
    longest = max(CustomerFeatures.objects.filter(frequency__gt=0).values_list("recency_days", flat=True))
    assert run.scaler["fill"][0] == longest + 1


@pytest.mark.parametrize(
    ("options", "field", "code"),
    [
        ({"features": []}, "features", ClusteringErrorCode.NO_FEATURES),
        ({"features": ["recency_days", "shoe_size"]}, "features", ClusteringErrorCode.UNKNOWN_FEATURE),
        ({"features": ["frequency", "frequency"]}, "features", ClusteringErrorCode.DUPLICATE_FEATURE),
        ({"algorithm": "dbscan"}, "algorithm", ClusteringErrorCode.UNKNOWN_ALGORITHM),
        ({"k": 1}, "k", ClusteringErrorCode.INVALID_K),
        ({"k": 21}, "k", ClusteringErrorCode.INVALID_K),
        ({"scope": "segment"}, "segment", ClusteringErrorCode.SEGMENT_REQUIRED),
        ({"scope": "segment", "segment_id": 999}, "segment", ClusteringErrorCode.SEGMENT_NOT_FOUND),
        ({"scope": "sample"}, "sample_size", ClusteringErrorCode.SAMPLE_SIZE_REQUIRED),
        ({"scope": "everyone"}, "scope", ClusteringErrorCode.UNKNOWN_SCOPE),
    ],
)
def test_bad_requests_name_the_field(options, field, code):
    with pytest.raises(ClusteringError) as refused:
        clustering_run_start(**{"algorithm": "kmeans", "features": RFM, **options})
    assert (refused.value.field, refused.value.code) == (field, code)
    assert "shoe_size is not a feature" in refused.value.message or code != ClusteringErrorCode.UNKNOWN_FEATURE


def test_the_feature_frame_is_one_row_per_clustered_customer_with_nulls_as_nan():
    buyers = feature_rows(
        [
            {"recency_days": 5, "frequency": 2, "monetary": "120.50", "avg_rating": 4.5},
            {"recency_days": 9, "frequency": 1, "monetary": "30.00", "avg_rating": None},
        ]
    )
    nobody = non_buyers(1)
    frame = cluster_feature_frame(features=["monetary", "recency_days"], include_non_buyers=True)
    assert frame.index.tolist() == [*buyers, *nobody]
    assert frame.loc[buyers[0]].tolist() == [120.5, 5.0]
    assert np.isnan(frame.loc[nobody[0], "recency_days"])
    rated = cluster_feature_frame(features=["monetary", "avg_rating"])  # no rating = not clustered
    assert rated.index.tolist() == [buyers[0]] and rated.loc[buyers[0], "avg_rating"] == 4.5


@pytest.mark.parametrize("path", ["celery task", "in process (manage.py refresh_features)"])
def test_a_feature_refresh_places_its_new_customers_in_the_applied_run(run_now, path):
    make_shop(customers=36, seed=4)
    features_refresh.delay(mode="full", as_of=SHOP_AS_OF.isoformat(), range_size=10).get()
    run = run_now(k=3)
    before = features_cluster()
    newcomer = CustomerFactory(external_id="NEW-1")
    OrderFactory(customer=newcomer, ordered_at=SHOP_AS_OF - dt.timedelta(days=3), total=Decimal("250.00"))

    if path == "celery task":
        features_refresh.delay(mode="incremental", as_of=SHOP_AS_OF.isoformat(), range_size=10).get()
    else:
        features_refresh_incremental(as_of=SHOP_AS_OF, range_size=10)

    after = features_cluster()
    row = cluster_feature_frame(features=RFM).loc[[newcomer.pk]].to_numpy()
    scaled = (np.log1p(row) - run.scaler["mean"]) / np.asarray(run.scaler["std"])
    nearest = np.linalg.norm(scaled - np.asarray(run.centroids), axis=1).argmin() + 1
    assert after[newcomer.pk] == nearest
    assert {customer: after[customer] for customer in before} == before


def test_a_run_with_too_few_customers_fails_with_the_reason(run_now):
    non_buyers(5)  # nobody with an order: nobody to cluster
    run = run_now()
    assert run.status == ClusteringRun.Status.FAILED
    assert run.error["code"] == "too_few_customers"
    assert run.error_message == "Clustering needs at least 3 customers; the scope has 0."
    assert Job.objects.get(pk=run.job_id).status == Job.Status.FAILED
    assert clustering_run_fit(run_id=run.pk).status == ClusteringRun.Status.FAILED  # left alone
