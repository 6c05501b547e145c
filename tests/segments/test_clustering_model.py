"""Clustering computations on plain arrays, each checked against an independent answer:
known blobs, SciPy's own Ward linkage, brute-force distances, hand-computed scaling."""

import numpy as np
import pytest
from django.db import models
from scipy.cluster.hierarchy import cut_tree, linkage
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from segments.clustering import model
from segments.clustering.catalogue import CLUSTER_FEATURES, traits_description
from segments.clustering.errors import ClusteringError, ClusteringErrorCode
from segments.clustering.model import NullRule
from segments.models import CustomerFeatures


def blobs(sizes, *, dims=3, seed=1, spread=0.4):
    """Well-separated groups of the given sizes and their true labels."""
    centers = np.random.default_rng(seed).uniform(-20, 20, size=(len(sizes), dims))
    points, truth = make_blobs(n_samples=list(sizes), centers=centers, cluster_std=spread, random_state=seed)
    return points, truth


@pytest.mark.parametrize("true_k", [3, 4, 6])
def test_silhouette_chooses_the_true_number_of_blobs(true_k):
    points, _truth = blobs([150 + 20 * i for i in range(true_k)], seed=true_k)
    choice = model.kmeans_choose_k(points)
    assert choice.k == true_k
    assert set(choice.scores) == set(model.AUTO_K)
    assert max(choice.scores, key=choice.scores.get) == true_k


def test_kmeans_recovers_the_blobs_and_numbers_clusters_by_size(monkeypatch):
    monkeypatch.setattr(model, "FIT_SAMPLE", 300)  # fit k on a sample, then all rows from its centres
    points, truth = blobs([500, 120, 300, 80], seed=5)
    choice = model.kmeans_choose_k(points, seed=3)
    partition = model.kmeans_fit(points, k=choice.k, seed=3, init=choice.centers)
    assert partition.k == 4
    assert adjusted_rand_score(truth, partition.labels) == 1.0
    assert np.bincount(partition.labels).tolist() == [500, 300, 120, 80]
    for cluster in range(4):  # centroids are the means of their members
        np.testing.assert_allclose(partition.centroids[cluster], points[partition.labels == cluster].mean(axis=0))


def test_kmeans_with_a_given_k_is_deterministic():
    points, truth = blobs([200, 200, 200], seed=8)
    first = model.kmeans_fit(points, k=3, seed=11)
    second = model.kmeans_fit(points, k=3, seed=11)
    assert np.array_equal(first.labels, second.labels)
    assert adjusted_rand_score(truth, first.labels) == 1.0


def test_identical_customers_cannot_make_more_clusters_than_they_differ():
    points = np.repeat([[1.0, 2.0], [3.0, 4.0]], 50, axis=0)
    with pytest.raises(ClusteringError) as refused:
        model.kmeans_fit(points, k=3)
    assert refused.value.code == ClusteringErrorCode.TOO_FEW_DISTINCT
    assert "Only 2 customers differ" in refused.value.message
    assert model.kmeans_choose_k(points).k == 2  # only k = 2 is possible
    with pytest.raises(ClusteringError):
        model.kmeans_choose_k(np.ones((10, 2)))


def test_scaler_fills_logs_and_standardises_like_the_formula():
    recency = [3.0, np.nan, 40.0, 10.0]  # NULL = no orders: longer ago than anyone (40 + 1)
    spend = [100.0, 0.0, 2500.0, 35.5]
    share = [0.5, np.nan, 0.0, 1.0]  # NULL = no orders: 0
    values = np.column_stack([recency, spend, share])
    scaler = model.scaler_fit(
        values,
        features=["recency_days", "monetary", "coupon_order_share"],
        log=[True, True, False],
        null_rules=[NullRule.MAX_PLUS_ONE, NullRule.ZERO, NullRule.ZERO],
    )
    assert scaler.fill == (41.0, 0.0, 0.0)
    expected = np.column_stack([np.log1p([3.0, 41.0, 40.0, 10.0]), np.log1p(spend), [0.5, 0.0, 0.0, 1.0]])
    expected = (expected - expected.mean(axis=0)) / expected.std(axis=0)
    np.testing.assert_allclose(scaler.transform(values), expected)
    restored = model.Scaler.from_dict(scaler.as_dict())
    np.testing.assert_allclose(restored.transform(values), expected)


def test_scaler_keeps_a_constant_column_at_zero_and_refuses_unfillable_nulls():
    values = np.array([[5.0, 1.0], [5.0, 2.0], [5.0, 3.0]])
    scaler = model.scaler_fit(values, features=["a", "b"], log=[False, False],
                              null_rules=[NullRule.ZERO, NullRule.EXCLUDE])  # fmt: skip
    assert scaler.std[0] == 1.0
    assert np.all(scaler.transform(values)[:, 0] == 0.0)
    with pytest.raises(ValueError, match="b has NULL values"):
        scaler.transform(np.array([[5.0, np.nan]]))


def test_ward_tree_matches_scipy():
    points = np.random.default_rng(4).normal(size=(300, 4))
    ours = model.ward_tree(points)
    reference = linkage(points, method="ward")
    np.testing.assert_allclose(ours[:, 2], reference[:, 2])
    np.testing.assert_array_equal(ours[:, 3], reference[:, 3])
    for k in range(2, 9):
        assert adjusted_rand_score(cut_tree(reference, n_clusters=k).ravel(), model.ward_cut(ours, k)) == 1.0


def test_ward_recovers_blobs_and_chooses_k():
    points, truth = blobs([90, 60, 40], seed=12)
    partition, scores = model.ward_fit(points)
    assert partition.k == 3 and max(scores, key=scores.get) == 3
    assert adjusted_rand_score(truth, partition.labels) == 1.0
    assert np.bincount(partition.labels).tolist() == [90, 60, 40]
    np.testing.assert_allclose(partition.centroids[2], points[partition.labels == 2].mean(axis=0))
    given, no_scores = model.ward_fit(points, k=2)
    assert given.k == 2 and no_scores == {}


def test_ward_refuses_more_than_twenty_thousand_customers():
    with pytest.raises(ClusteringError) as refused:
        model.ward_fit(np.zeros((20_001, 1)))
    assert refused.value.code == ClusteringErrorCode.TOO_MANY_CUSTOMERS
    assert refused.value.params == {"limit": 20_000, "count": 20_001}
    assert "at most 20000 customers; this scope has 20001" in refused.value.message


def test_nearest_centroid_matches_brute_force(monkeypatch):
    monkeypatch.setattr(model, "ASSIGN_CHUNK", 70)  # several distance blocks
    rng = np.random.default_rng(9)
    points, centroids = rng.normal(size=(500, 5)), rng.normal(size=(6, 5))
    brute = np.linalg.norm(points[:, None, :] - centroids[None, :, :], axis=2).argmin(axis=1)
    np.testing.assert_array_equal(model.nearest_centroid(points, centroids), brute)


def test_profiles_give_sizes_means_in_own_units_and_words():
    # Cluster 0: recent, frequent, high spend. Cluster 1: lapsed, rare, low spend, with one
    # customer without orders (NULL recency).
    raw = np.array(
        [[2, 12, 900], [4, 10, 1100], [3, 11, 1000], [300, 1, 20], [280, 1, 40], [np.nan, 0, 0], [310, 1, 25]],
        dtype=float,
    )
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    features = ["recency_days", "frequency", "monetary"]
    scaler = model.scaler_fit(raw, features=features, log=[True, True, True],
                              null_rules=[NullRule.MAX_PLUS_ONE, NullRule.ZERO, NullRule.ZERO])  # fmt: skip
    standardised = scaler.transform(raw)
    first, second = model.cluster_profiles(raw, standardised, labels, k=2, features=features)

    assert (first.number, first.size, second.number, second.size) == (1, 3, 2, 4)
    assert first.share == pytest.approx(3 / 7)
    assert first.means == {"recency_days": 3.0, "frequency": 11.0, "monetary": 1000.0}
    assert second.means["recency_days"] == pytest.approx((300 + 280 + 310) / 3)  # the NULL is left out
    assert second.means["monetary"] == pytest.approx(85 / 4)
    for j, name in enumerate(features):
        assert first.z[name] == pytest.approx(standardised[:3, j].mean())
    # ... but the model saw it as longer ago than anyone: max + 1 = 311 days
    assert standardised[5, 0] == pytest.approx((np.log1p(311) - scaler.mean[0]) / scaler.std[0])
    assert first.traits == [("recency_days", "low"), ("frequency", "high"), ("monetary", "high")]
    assert traits_description(first.traits) == "recent, frequent, high spend"
    assert traits_description(second.traits) == "lapsed, rare buyers, low spend"


def test_traits_keep_the_three_strongest_beyond_the_threshold_in_feature_order():
    z = {"frequency": 0.49, "monetary": -0.5, "recency_days": 2.0, "coupon_order_share": 1.0, "avg_order_value": -3.0}
    traits = model.cluster_traits(z)
    assert traits == [("recency_days", "high"), ("coupon_order_share", "high"), ("avg_order_value", "low")]
    assert traits_description(traits) == "lapsed, coupon lovers, small baskets"
    assert model.cluster_traits({"frequency": 0.2, "monetary": -0.3}) == []
    assert traits_description([]) == "typical"


def test_every_catalogue_feature_is_a_numeric_feature_column_with_two_words():
    for name, spec in CLUSTER_FEATURES.items():
        field = CustomerFeatures._meta.get_field(name)
        assert isinstance(field, models.IntegerField | models.FloatField | models.DecimalField), name
        assert str(spec.low_word) and str(spec.high_word) and str(spec.low_word) != str(spec.high_word)
        assert spec.null_rule != NullRule.ZERO or not field.null or name in {"avg_order_value", "coupon_order_share"}
    assert "cluster" not in CLUSTER_FEATURES and "r_score" not in CLUSTER_FEATURES
    assert str(CLUSTER_FEATURES["view_count_30d"].high_word) == "browse a lot (last 30 days)"
