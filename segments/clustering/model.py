"""Customer clustering as plain computation over NumPy arrays (no Django models): testable
with made-up arrays and timed without a database.

The steps, each a function below:

1. ``scaler_fit`` / ``Scaler.transform`` turn feature values into the matrix the models
   see: NULLs filled by the feature's ``NullRule``, skewed non-negative columns log-scaled
   (``log1p``), every column standardised to mean 0 and standard deviation 1 over the
   customers being clustered. The scaler's numbers are stored with the run so that new
   customers are placed in exactly the same space later.
2. ``kmeans_choose_k`` fits k-means for k = 2..8 on a sample and keeps the k with the best
   silhouette (computed on a smaller sample: silhouette costs n² distances).
3. ``kmeans_fit`` runs k-means over all rows, started from the sample fit's centres with one
   initialisation (Lloyd's algorithm on the full data, so the result is a true k-means
   solution of all customers, not of the sample). ``ward_fit`` builds the Ward tree of up to
   20,000 rows and cuts it at k (chosen by silhouette in the same way when not given).
4. ``cluster_profiles`` describes each cluster: size, share, mean of each feature in its
   own units, the standardised mean, and up to three traits (feature, high/low) for the
   features whose standardised mean lies at least ``TRAIT_THRESHOLD`` from 0.
5. ``nearest_centroid`` places rows in the nearest cluster without refitting.

Clusters are numbered by size: label 0 (shown as "Cluster 1") is the largest.
Everything is deterministic for a given seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from segments.clustering.errors import ClusteringError
from segments.clustering.errors import ClusteringErrorCode as Code

AUTO_K = tuple(range(2, 9))  # candidates when the marketer does not give k
MIN_K, MAX_K = 2, 20  # a k the marketer gives
FIT_SAMPLE = 20_000  # rows the candidate k-means fits see
SILHOUETTE_SAMPLE = 5_000  # rows silhouette is computed on (its cost grows with n²)
WARD_MAX_CUSTOMERS = 20_000
TRAIT_THRESHOLD = 0.5  # |standardised cluster mean| from which a feature describes a cluster
MAX_TRAITS = 3  # words in a cluster's description, strongest first chosen
ASSIGN_CHUNK = 200_000  # rows per distance block in nearest_centroid

Progress = Callable[[float, str], None]
"""Called with the share of the step done (0..1) and what is being done."""


def _no_progress(share: float, step: str) -> None:
    return None


class NullRule(StrEnum):
    """What a NULL in a feature column means when clustering."""

    ZERO = "zero"  # none: average order value and coupon share of customers without orders
    MAX_PLUS_ONE = "max_plus_one"  # longer ago than anyone: recency of customers without orders
    EXCLUDE = "exclude"  # unknown (no rating, not scored yet): such customers are not clustered


def signed_log1p(values: np.ndarray) -> np.ndarray:
    """log1p for non-negative values; mirrored for the rare negative one (a refund-only
    customer's spend), so the transform is defined everywhere and keeps the order."""
    return np.sign(values) * np.log1p(np.abs(values))


@dataclass(frozen=True)
class Scaler:
    """How raw feature values become the standardised matrix; stored with every run."""

    features: tuple[str, ...]
    log: tuple[bool, ...]
    fill: tuple[float | None, ...]  # replaces NULL; None: rows with NULL are never given to the scaler
    mean: tuple[float, ...]  # after filling and log-scaling
    std: tuple[float, ...]  # population std; 1.0 for a constant column (it then adds nothing)

    def transform(self, values: np.ndarray) -> np.ndarray:
        scaled = self.fill_and_log(values)
        return (scaled - np.asarray(self.mean)) / np.asarray(self.std)

    def fill_and_log(self, values: np.ndarray) -> np.ndarray:
        matrix = np.array(values, dtype=np.float64, ndmin=2, copy=True)
        if matrix.shape[1] != len(self.features):
            raise ValueError(f"expected {len(self.features)} feature columns, got {matrix.shape[1]}")
        for column, fill in enumerate(self.fill):
            missing = np.isnan(matrix[:, column])
            if missing.any():
                if fill is None:
                    raise ValueError(f"{self.features[column]} has NULL values, which this scaler does not fill")
                matrix[missing, column] = fill
        logged = np.asarray(self.log, dtype=bool)
        if logged.any():
            matrix[:, logged] = signed_log1p(matrix[:, logged])
        return matrix

    def as_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "log": list(self.log),
            "fill": list(self.fill),
            "mean": list(self.mean),
            "std": list(self.std),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scaler:
        return cls(
            features=tuple(data["features"]),
            log=tuple(bool(flag) for flag in data["log"]),
            fill=tuple(None if value is None else float(value) for value in data["fill"]),
            mean=tuple(float(value) for value in data["mean"]),
            std=tuple(float(value) for value in data["std"]),
        )


def scaler_fit(
    values: np.ndarray, *, features: Sequence[str], log: Sequence[bool], null_rules: Sequence[NullRule]
) -> Scaler:
    """The fills, means and standard deviations of these rows (one column per feature)."""
    matrix = np.array(values, dtype=np.float64, ndmin=2)
    fills: list[float | None] = []
    for column, rule in enumerate(null_rules):
        present = matrix[:, column][~np.isnan(matrix[:, column])]
        if rule == NullRule.ZERO:
            fills.append(0.0)
        elif rule == NullRule.MAX_PLUS_ONE:
            fills.append(float(present.max()) + 1.0 if present.size else 0.0)
        else:
            fills.append(None)
    partial = Scaler(tuple(features), tuple(bool(flag) for flag in log), tuple(fills), (0.0,) * len(fills),
                     (1.0,) * len(fills))  # fmt: skip
    scaled = partial.fill_and_log(matrix)
    mean = scaled.mean(axis=0) if len(scaled) else np.zeros(len(fills))
    std = scaled.std(axis=0) if len(scaled) else np.ones(len(fills))
    std = np.where(np.isfinite(std) & (std > 1e-12), std, 1.0)
    return Scaler(partial.features, partial.log, partial.fill, tuple(map(float, mean)), tuple(map(float, std)))


@dataclass(frozen=True)
class Partition:
    labels: np.ndarray  # 0..k-1 per row; 0 is the largest cluster
    centroids: np.ndarray  # (k, features) in the standardised space

    @property
    def k(self) -> int:
        return len(self.centroids)


@dataclass(frozen=True)
class KChoice:
    k: int
    scores: dict[int, float]  # silhouette by candidate k
    centers: np.ndarray  # the sample fit's centres for k: the start of the full fit


def _sample(count: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted row positions of a uniform sample without replacement (all rows if fewer)."""
    if count <= size:
        return np.arange(count)
    return np.sort(rng.choice(count, size=size, replace=False))


def _distinct_rows(matrix: np.ndarray) -> int:
    return int(np.unique(matrix, axis=0).shape[0]) if len(matrix) else 0


def _require_rows(matrix: np.ndarray) -> None:
    if len(matrix) < 3:
        raise ClusteringError(Code.TOO_FEW_CUSTOMERS, needed=3, count=len(matrix))


def _candidates(k_values: Sequence[int], *, rows: int, distinct: int) -> list[int]:
    """Silhouette is defined for 2 <= k <= rows - 1; more clusters than distinct rows would
    split identical customers."""
    usable = [k for k in k_values if 2 <= k <= min(rows - 1, distinct)]
    if not usable:
        raise ClusteringError(Code.TOO_FEW_DISTINCT, distinct=distinct, k=min(k_values))
    return usable


def _silhouette(matrix: np.ndarray, labels: np.ndarray) -> float:
    if len(np.unique(labels)) < 2:
        return -1.0
    with threadpool_limits(limits=1):
        return float(silhouette_score(matrix, labels))


def _small_kmeans(matrix: np.ndarray, *, k: int, seed: int, n_init: int) -> KMeans:
    """k-means on a sample, on one thread: for a few thousand rows, thread start-up and
    synchronisation cost more than the work (about 10× on a busy 2-core machine)."""
    with threadpool_limits(limits=1):
        return _kmeans(matrix, k=k, seed=seed, n_init=n_init)


def _kmeans(matrix: np.ndarray, *, k: int, seed: int, init: np.ndarray | str = "k-means++", n_init: int = 1) -> KMeans:
    with warnings.catch_warnings():
        # Identical rows can leave fewer distinct centres than k; callers check the
        # number of distinct rows first, so the warning says nothing new.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return KMeans(n_clusters=k, init=init, n_init=n_init, random_state=seed).fit(matrix)


def kmeans_choose_k(
    matrix: np.ndarray, *, k_values: Sequence[int] = AUTO_K, seed: int = 0, progress: Progress = _no_progress
) -> KChoice:
    """The k with the best silhouette: k-means on up to ``FIT_SAMPLE`` rows for each k,
    silhouette on ``SILHOUETTE_SAMPLE`` of them. Ties go to the smaller k."""
    _require_rows(matrix)
    rng = np.random.default_rng(seed)
    fit_rows = matrix[_sample(len(matrix), FIT_SAMPLE, rng)]
    candidates = _candidates(k_values, rows=len(fit_rows), distinct=_distinct_rows(fit_rows))
    scored_rows = _sample(len(fit_rows), SILHOUETTE_SAMPLE, rng)
    scores: dict[int, float] = {}
    centers: dict[int, np.ndarray] = {}
    for done, k in enumerate(candidates):
        model = _small_kmeans(fit_rows, k=k, seed=seed, n_init=3)
        scores[k] = _silhouette(fit_rows[scored_rows], model.labels_[scored_rows])
        centers[k] = model.cluster_centers_
        progress((done + 1) / len(candidates), f"k={k}")
    best = max(candidates, key=lambda k: (scores[k], -k))
    return KChoice(k=best, scores=scores, centers=centers[best])


def _relabel_by_size(labels: np.ndarray, centroids: np.ndarray) -> Partition:
    k = len(centroids)
    sizes = np.bincount(labels, minlength=k)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return Partition(labels=rank[labels], centroids=np.asarray(centroids)[order])


def cluster_means(matrix: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """(k, features) mean of each cluster's rows."""
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sums = np.stack([np.bincount(labels, weights=matrix[:, j], minlength=k) for j in range(matrix.shape[1])], axis=1)
    return sums / np.maximum(counts, 1.0)[:, None]


def kmeans_fit(matrix: np.ndarray, *, k: int, seed: int = 0, init: np.ndarray | None = None) -> Partition:
    """k-means over every row. Without ``init`` the start comes from a k-means++ fit with
    four initialisations on up to ``FIT_SAMPLE`` rows; the full fit then runs once from it."""
    _require_rows(matrix)
    if not MIN_K <= k <= MAX_K:
        raise ClusteringError(Code.INVALID_K, field="k", low=MIN_K, high=MAX_K, k=k)
    if init is None:
        fit_rows = matrix[_sample(len(matrix), FIT_SAMPLE, np.random.default_rng(seed))]
        if _distinct_rows(fit_rows) < k and _distinct_rows(matrix) < k:
            raise ClusteringError(Code.TOO_FEW_DISTINCT, distinct=_distinct_rows(matrix), k=k)
        init = _small_kmeans(fit_rows, k=k, seed=seed, n_init=4).cluster_centers_
    model = _kmeans(matrix, k=k, seed=seed, init=np.asarray(init, dtype=np.float64))
    labels = model.labels_.astype(np.int64)
    if len(np.unique(labels)) < k:
        raise ClusteringError(Code.TOO_FEW_DISTINCT, distinct=_distinct_rows(matrix), k=k)
    return _relabel_by_size(labels, model.cluster_centers_)


# --- Ward -------------------------------------------------------------------------------


def ward_tree(matrix: np.ndarray, *, progress: Progress = _no_progress) -> np.ndarray:
    """The Ward dendrogram in SciPy's linkage format ((n-1) × 4: merged ids, distance, size).

    Nearest-neighbour chain over cluster centroids: memory grows with n (SciPy's
    ``linkage`` keeps all n²/2 distances: 1.6 GB and about two minutes for 20,000 rows),
    and each step is one vectorised distance computation. The Ward distance of clusters
    a and b is sqrt(2·|a|·|b| / (|a| + |b|)) · ‖centroid a − centroid b‖, as in SciPy;
    Ward is reducible, so the merges sorted by distance form the same tree SciPy builds.
    """
    count = len(matrix)
    centers = np.array(matrix, dtype=np.float64, copy=True)
    sizes = np.ones(count)
    norms = np.einsum("ij,ij->i", centers, centers)
    slot_point = np.arange(count)  # the original row each slot stands for
    alive = np.ones(count, dtype=bool)
    living = count
    merges = np.empty((max(count - 1, 0), 4))
    chain: list[int] = []
    done = 0
    while done < count - 1:
        if living * 2 < len(slot_point) and len(slot_point) > 256:  # drop merged slots
            keep = np.flatnonzero(alive)
            new_slot = np.full(len(slot_point), -1)
            new_slot[keep] = np.arange(len(keep))
            chain = [int(new_slot[slot]) for slot in chain]
            centers, sizes, norms, slot_point = centers[keep], sizes[keep], norms[keep], slot_point[keep]
            alive = np.ones(len(keep), dtype=bool)
        if not chain:
            chain.append(int(np.flatnonzero(alive)[0]))
        a = chain[-1]
        squared = np.maximum(norms - 2.0 * (centers @ centers[a]) + norms[a], 0.0)
        cost = sizes * sizes[a] / (sizes + sizes[a]) * squared
        cost[~alive] = np.inf
        cost[a] = np.inf
        b = int(np.argmin(cost))
        if len(chain) > 1 and cost[chain[-2]] <= cost[b]:
            b = chain[-2]  # ties go back down the chain, or it could cycle
        if len(chain) > 1 and b == chain[-2]:
            chain.pop()
            chain.pop()
            keep_slot, gone_slot = (a, b) if slot_point[a] < slot_point[b] else (b, a)
            merged = sizes[a] + sizes[b]
            merges[done] = (slot_point[keep_slot], slot_point[gone_slot], np.sqrt(2.0 * cost[b]), merged)
            centers[keep_slot] = (sizes[a] * centers[a] + sizes[b] * centers[b]) / merged
            norms[keep_slot] = centers[keep_slot] @ centers[keep_slot]
            sizes[keep_slot] = merged
            alive[gone_slot] = False
            living -= 1
            done += 1
            if done % 2000 == 0:
                progress(done / (count - 1), "ward")
        else:
            chain.append(b)
    return _linkage_from_merges(merges, count)


def _linkage_from_merges(merges: np.ndarray, count: int) -> np.ndarray:
    """Sort the chain's merges by distance and name clusters as SciPy does (row i of the
    result creates cluster count + i)."""
    ordered = merges[np.argsort(merges[:, 2], kind="stable")]
    parent = np.arange(2 * count - 1)
    cluster_of = np.arange(count)  # root point -> current cluster id

    def root(point: int) -> int:
        while parent[point] != point:
            parent[point] = parent[parent[point]]
            point = parent[point]
        return point

    linkage = np.empty_like(ordered)
    for row, (first, second, distance, size) in enumerate(ordered):
        left, right = root(int(first)), root(int(second))
        ids = sorted((cluster_of[left], cluster_of[right]))
        linkage[row] = (ids[0], ids[1], distance, size)
        parent[right] = left
        cluster_of[left] = count + row
    return linkage


def ward_cut(linkage: np.ndarray, k: int) -> np.ndarray:
    """Labels 0..k-1 of the rows after the first n-k merges (exactly k clusters, also
    when merge distances tie, unlike a distance threshold). Vectorised pointer jumping."""
    count = len(linkage) + 1
    parent = np.arange(2 * count - 1)
    applied = linkage[: count - k]
    new_ids = count + np.arange(len(applied))
    parent[applied[:, 0].astype(np.int64)] = new_ids
    parent[applied[:, 1].astype(np.int64)] = new_ids
    while True:
        jumped = parent[parent]
        if np.array_equal(jumped, parent):
            break
        parent = jumped
    _, labels = np.unique(parent[:count], return_inverse=True)
    return labels.astype(np.int64)


def ward_fit(
    matrix: np.ndarray,
    *,
    k: int | None = None,
    k_values: Sequence[int] = AUTO_K,
    seed: int = 0,
    progress: Progress = _no_progress,
) -> tuple[Partition, dict[int, float]]:
    """Ward clustering of at most ``WARD_MAX_CUSTOMERS`` rows; with ``k`` None the cut with
    the best silhouette among ``k_values`` (on up to ``SILHOUETTE_SAMPLE`` rows). Returns the
    partition (centroids = cluster means) and the silhouette by k (empty when k was given)."""
    if len(matrix) > WARD_MAX_CUSTOMERS:
        raise ClusteringError(Code.TOO_MANY_CUSTOMERS, limit=WARD_MAX_CUSTOMERS, count=len(matrix))
    _require_rows(matrix)
    distinct = _distinct_rows(matrix)
    if k is not None:
        if not MIN_K <= k <= MAX_K:
            raise ClusteringError(Code.INVALID_K, field="k", low=MIN_K, high=MAX_K, k=k)
        if distinct < k:
            raise ClusteringError(Code.TOO_FEW_DISTINCT, distinct=distinct, k=k)
    candidates = [k] if k is not None else _candidates(k_values, rows=len(matrix), distinct=distinct)
    linkage = ward_tree(matrix, progress=lambda share, step: progress(0.9 * share, step))
    scores: dict[int, float] = {}
    if k is None:
        scored_rows = _sample(len(matrix), SILHOUETTE_SAMPLE, np.random.default_rng(seed))
        for candidate in candidates:
            labels = ward_cut(linkage, candidate)
            scores[candidate] = _silhouette(matrix[scored_rows], labels[scored_rows])
        k = max(candidates, key=lambda candidate: (scores[candidate], -candidate))
    labels = ward_cut(linkage, k)
    progress(1.0, "ward")
    return _relabel_by_size(labels, cluster_means(matrix, labels, k)), scores


def silhouette_on_sample(matrix: np.ndarray, labels: np.ndarray, *, seed: int = 0) -> float:
    """The partition's silhouette on up to ``SILHOUETTE_SAMPLE`` rows: the run's quality figure
    (about 0.25 and below: weak structure; 0.5 and above: clearly separated groups)."""
    rows = _sample(len(matrix), SILHOUETTE_SAMPLE, np.random.default_rng(seed))
    return _silhouette(matrix[rows], labels[rows])


# --- profiles and assignment --------------------------------------------------------------


@dataclass(frozen=True)
class ClusterProfile:
    number: int  # 1-based, the largest cluster is 1
    size: int
    share: float  # of the clustered customers
    means: dict[str, float | None]  # in each feature's own units, over members with a value
    z: dict[str, float]  # standardised mean: 0 = all clustered customers, 1 = one std above
    traits: list[tuple[str, str]] = field(default_factory=list)  # (feature, "high" | "low")

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "size": self.size,
            "share": self.share,
            "means": self.means,
            "z": self.z,
            "traits": [list(trait) for trait in self.traits],
        }


def cluster_traits(
    z: dict[str, float], *, threshold: float = TRAIT_THRESHOLD, limit: int = MAX_TRAITS
) -> list[tuple[str, str]]:
    """The features that set a cluster apart: |z| >= threshold, the ``limit`` strongest,
    listed in the order the features were chosen."""
    order = {name: position for position, name in enumerate(z)}
    strong = [(name, value) for name, value in z.items() if abs(value) >= threshold]
    strongest = sorted(strong, key=lambda item: -abs(item[1]))[:limit]
    return [(name, "high" if value > 0 else "low") for name, value in sorted(strongest, key=lambda i: order[i[0]])]


def cluster_profiles(
    raw: np.ndarray, standardised: np.ndarray, labels: np.ndarray, *, k: int, features: Sequence[str]
) -> list[ClusterProfile]:
    """Size, share, means (NULLs left out), standardised means and traits per cluster."""
    counts = np.bincount(labels, minlength=k)
    total = max(int(counts.sum()), 1)
    present = ~np.isnan(raw)
    raw_sums = np.stack(
        [
            np.bincount(labels, weights=np.where(present[:, j], raw[:, j], 0.0), minlength=k)
            for j in range(len(features))
        ],
        axis=1,
    )
    raw_counts = np.stack(
        [np.bincount(labels, weights=present[:, j], minlength=k) for j in range(len(features))], axis=1
    )
    z_means = cluster_means(standardised, labels, k)
    profiles = []
    for cluster in range(k):
        means = {
            name: (float(raw_sums[cluster, j] / raw_counts[cluster, j]) if raw_counts[cluster, j] else None)
            for j, name in enumerate(features)
        }
        z = {name: float(z_means[cluster, j]) for j, name in enumerate(features)}
        profiles.append(
            ClusterProfile(
                number=cluster + 1,
                size=int(counts[cluster]),
                share=float(counts[cluster] / total),
                means=means,
                z=z,
                traits=cluster_traits(z),
            )
        )
    return profiles


def nearest_centroid(matrix: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid (Euclidean) per row; ties go to the lower index."""
    centroids = np.asarray(centroids, dtype=np.float64)
    centroid_norms = np.einsum("ij,ij->i", centroids, centroids)
    labels = np.empty(len(matrix), dtype=np.int64)
    for start in range(0, len(matrix), ASSIGN_CHUNK):
        block = np.asarray(matrix[start : start + ASSIGN_CHUNK], dtype=np.float64)
        # |x - c|² = |x|² - 2x·c + |c|²; |x|² is the same for every centroid of a row.
        labels[start : start + len(block)] = np.argmin(centroid_norms - 2.0 * block @ centroids.T, axis=1)
    return labels
