"""Recommendations, pure computation over arrays (no Django models): the implicit-feedback
matrix, item-item cosine similarity, top-N scoring with a popularity fallback, FP-growth
with association rules, and the hit-rate / precision evaluation on a time split.

Customers and products are row / column *indexes* here (0..n-1); the services map them to
database ids. Everything that touches every customer is a sparse product or a NumPy call
over a block of customers, never a Python loop over customers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

# Implicit feedback: how much one event says about a customer's taste. A purchase says the
# most, a favourite more than a cart add, a cart add more than a view. Weights add up over
# repeated events (three views = 3) with no time decay: a refit on the same data gives the
# same result whenever it runs, and the figures on the page are for exactly these weights.
EVENT_WEIGHTS: dict[str, float] = {"purchase": 5.0, "favorite": 3.0, "add_to_cart": 2.0, "view": 1.0}
DEFAULT_NEIGHBOURS = 50
DEFAULT_TOP_N = 10
SOURCE_SIMILAR = "similar"
SOURCE_POPULAR = "popular"
SCORE_CELLS_PER_BLOCK = 4_000_000  # dense scores held at once (customers × products), ~16 MB float32


def interaction_matrix(customer: np.ndarray, product: np.ndarray, weight: np.ndarray, *, customers: int,
                       products: int) -> sparse.csr_matrix:  # fmt: skip
    """Customers × products, the summed weights of every (customer, product) interaction."""
    matrix = sparse.coo_matrix(
        (np.asarray(weight, dtype=np.float32), (np.asarray(customer), np.asarray(product))),
        shape=(customers, products),
    ).tocsr()
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


def top_k_per_row(matrix: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
    """Keep the k largest entries of each row (ties: the smaller column first), vectorised."""
    matrix = matrix.tocsr()
    matrix.sort_indices()
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((matrix.indices, -matrix.data, rows))
    rank = np.arange(order.size) - matrix.indptr[rows[order]]
    keep = order[rank < k]
    return sparse.csr_matrix(
        (matrix.data[keep], (rows[keep], matrix.indices[keep])), shape=matrix.shape, dtype=matrix.dtype
    )


def item_similarity(matrix: sparse.csr_matrix, *, neighbours: int = DEFAULT_NEIGHBOURS) -> sparse.csr_matrix:
    """Products × products cosine similarity of the products' customer columns, diagonal 0,
    row j holding only j's ``neighbours`` most similar products."""
    columns = matrix.tocsc().astype(np.float64)
    norms = np.sqrt(np.asarray(columns.multiply(columns).sum(axis=0)).ravel())
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    normalised = columns @ sparse.diags(inverse)
    similarity = (normalised.T @ normalised).tocsr()
    similarity.setdiag(0.0)
    similarity.eliminate_zeros()
    return top_k_per_row(similarity, neighbours).astype(np.float32)


def popularity(bought: sparse.csr_matrix, interactions: sparse.csr_matrix) -> np.ndarray:
    """Per product a popularity in [0, 1): distinct buyers, ties broken by the total
    interaction weight (so products nobody bought yet still rank among themselves)."""
    buyers = np.asarray((bought > 0).sum(axis=0), dtype=np.float64).ravel()
    weight = np.asarray(interactions.sum(axis=0), dtype=np.float64).ravel()
    raw = buyers + weight / (weight.max() + 1.0 if weight.size else 1.0)
    return raw / (raw.max() + 1.0 if raw.size else 1.0)


@dataclass(frozen=True)
class TopN:
    """Flat arrays, one entry per recommendation, ordered by customer then rank (1..N)."""

    customer: np.ndarray  # row index into the interaction matrix
    product: np.ndarray  # column index
    rank: np.ndarray
    score: np.ndarray  # similarity score for "similar", popularity (0..1) for "popular"
    source: np.ndarray  # SOURCE_SIMILAR or SOURCE_POPULAR


def recommend(interactions: sparse.csr_matrix, similarity: sparse.csr_matrix, bought: sparse.csr_matrix,
              popular: np.ndarray, *, n: int = DEFAULT_TOP_N, rows: np.ndarray | None = None,
              use_similarity: bool = True) -> TopN:  # fmt: skip
    """Top-``n`` products for the customers ``rows`` (all when None).

    score(u, j) = Σ_i w(u, i) · sim(j, i) over j's neighbours i: the customer's interaction
    vector times the similarity matrix. Products the customer bought are never recommended.
    Slots the similar items do not fill (cold customers: all of them) go to the most
    popular products the customer has not bought. Computed in blocks of customers, dense
    within a block. ``use_similarity=False`` gives the popularity baseline."""
    customers, products = interactions.shape
    if products == 0 or n <= 0:
        empty = np.array([], dtype=np.int64)
        return TopN(empty, empty, empty, np.array([], dtype=np.float64), np.array([], dtype=object))
    rows = np.arange(customers) if rows is None else np.asarray(rows)
    n = min(n, products)
    block = max(1, SCORE_CELLS_PER_BLOCK // max(products, 1))
    similarity_t = similarity.T.tocsr()
    parts: list[tuple[np.ndarray, ...]] = []
    for start in range(0, rows.size, block):
        chunk = rows[start : start + block]
        if use_similarity:
            cf = (interactions[chunk] @ similarity_t).toarray().astype(np.float64)
        else:
            cf = np.zeros((chunk.size, products))
        # CF candidates rank above every popular one (2 + score > 1 > popularity).
        key = np.where(cf > 0, 2.0 + cf, np.broadcast_to(popular, cf.shape))
        owned = bought[chunk].tocoo()
        key[owned.row, owned.col] = -1.0
        if n < products:
            top = np.argpartition(-key, n - 1, axis=1)[:, :n]
        else:
            top = np.tile(np.arange(products), (chunk.size, 1))
        top_key = np.take_along_axis(key, top, axis=1)
        order = np.lexsort((top, -top_key), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        top_key = np.take_along_axis(top_key, order, axis=1)
        valid = top_key > 0
        local_row, position = np.nonzero(valid)
        product = top[local_row, position]
        keys = top_key[local_row, position]
        similar = keys >= 2.0
        rank = np.cumsum(valid, axis=1)[local_row, position]
        parts.append((chunk[local_row], product, rank, np.where(similar, keys - 2.0, keys), similar))
    if not parts:
        empty = np.array([], dtype=np.int64)
        return TopN(empty, empty, empty, np.array([], dtype=np.float64), np.array([], dtype=object))
    customer, product, rank, score, similar = (np.concatenate(column) for column in zip(*parts, strict=True))
    source = np.where(similar, SOURCE_SIMILAR, SOURCE_POPULAR).astype(object)
    return TopN(customer.astype(np.int64), product.astype(np.int64), rank.astype(np.int64), score, source)


# --- evaluation on a time split ---------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    customers: int  # test customers: bought a product after the cutoff they had not bought before
    hit_rate: float  # share of them with at least one such product in their top k
    precision: float  # mean over them of (such products in the top k) / k
    k: int

    def as_dict(self) -> dict:
        return {"customers": self.customers, "hit_rate": self.hit_rate, "precision": self.precision, "k": self.k}


def evaluate(top: TopN, test: sparse.csr_matrix, *, k: int = DEFAULT_TOP_N) -> Evaluation:
    """Hit rate@k and precision@k of ``top`` against ``test`` (customers × products, > 0
    where the customer bought the product after the cutoff and not before). Customers
    without test products do not count; a short list still divides by k."""
    tested = np.flatnonzero(np.diff(test.indptr) > 0)
    if tested.size == 0:
        return Evaluation(customers=0, hit_rate=0.0, precision=0.0, k=k)
    keep = top.rank <= k
    shown = sparse.csr_matrix((np.ones(int(keep.sum())), (top.customer[keep], top.product[keep])), shape=test.shape)
    shown.data[:] = 1.0
    hits = np.asarray(shown.multiply(test > 0).sum(axis=1)).ravel()[tested]
    return Evaluation(customers=int(tested.size), hit_rate=float(np.mean(hits > 0)),
                      precision=float(np.mean(hits / k)), k=k)  # fmt: skip


# --- FP-growth and association rules ------------------------------------------------------------


class _Node:
    __slots__ = ("item", "count", "parent", "children")

    def __init__(self, item: int | None, parent: _Node | None) -> None:
        self.item = item
        self.count = 0
        self.parent = parent
        self.children: dict[int, _Node] = {}


def _tree(paths: Iterable[tuple[tuple[int, ...], int]]) -> dict[int, list[_Node]]:
    """Insert weighted, already ordered paths; return the header table (item → its nodes)."""
    root = _Node(None, None)
    header: dict[int, list[_Node]] = {}
    for items, count in paths:
        node = root
        for item in items:
            child = node.children.get(item)
            if child is None:
                child = node.children[item] = _Node(item, node)
                header.setdefault(item, []).append(child)
            child.count += count
            node = child
    return header


def _mine(header: dict[int, list[_Node]], suffix: tuple[int, ...], min_count: int, max_len: int,
          found: dict[frozenset, int]) -> None:  # fmt: skip
    for item, nodes in header.items():
        support = sum(node.count for node in nodes)
        if support < min_count:
            continue
        itemset = (*suffix, item)
        found[frozenset(itemset)] = support
        if len(itemset) >= max_len:
            continue
        base: list[tuple[list[int], int]] = []
        counts: Counter = Counter()
        for node in nodes:
            path, parent = [], node.parent
            while parent is not None and parent.item is not None:
                path.append(parent.item)
                parent = parent.parent
            if path:
                base.append((path, node.count))
                for step in path:
                    counts[step] += node.count
        frequent = {step: c for step, c in counts.items() if c >= min_count}
        if not frequent:
            continue
        rank = {step: position for position, step in enumerate(sorted(frequent, key=lambda s: (-frequent[s], s)))}
        paths = [(tuple(sorted((s for s in path if s in rank), key=rank.__getitem__)), count) for path, count in base]
        _mine(_tree(p for p in paths if p[0]), itemset, min_count, max_len, found)


def frequent_itemsets(baskets: Sequence[Sequence[int]], *, n_baskets: int, min_support: float,
                      max_len: int = 3, item_counts: dict[int, int] | None = None) -> dict[frozenset, int]:  # fmt: skip
    """FP-growth (Han, Pei & Yin 2000): every itemset of at most ``max_len`` products found in
    at least ``min_support`` × ``n_baskets`` baskets, with its basket count.

    ``baskets`` are sets of product indexes. Identical baskets are inserted once with their
    count. ``item_counts`` (product → baskets containing it, over *all* baskets) lets the
    caller pass only the baskets of two or more products: single products' counts then come
    from it, and nothing a one-product basket holds is lost for larger itemsets."""
    min_count = max(1, math.ceil(min_support * n_baskets - 1e-9))
    baskets = [frozenset(basket) for basket in baskets]
    if item_counts is None:
        item_counts = Counter(item for basket in baskets for item in basket)
    frequent = {item: c for item, c in item_counts.items() if c >= min_count}
    rank = {item: position for position, item in enumerate(sorted(frequent, key=lambda i: (-frequent[i], i)))}
    unique = Counter(tuple(sorted((i for i in basket if i in rank), key=rank.__getitem__)) for basket in baskets)
    found: dict[frozenset, int] = {}
    if max_len >= 2:
        _mine(_tree((items, count) for items, count in unique.items() if len(items) >= 2), (), min_count, max_len,
              found)  # fmt: skip
    found = {itemset: count for itemset, count in found.items() if len(itemset) >= 2}
    found.update({frozenset([item]): count for item, count in frequent.items()})
    return found


RULE_COLUMNS = ["antecedent", "consequent", "baskets", "support", "confidence", "lift"]


def association_rules(itemsets: dict[frozenset, int], *, n_baskets: int, min_confidence: float = 0.1,
                      min_lift: float = 1.0) -> pd.DataFrame:  # fmt: skip
    """Rules antecedent → one consequent product from the frequent itemsets of two or more:
    support = baskets with all / all baskets, confidence = baskets with all / baskets with
    the antecedent, lift = confidence / share of baskets with the consequent. Antecedents
    are sorted tuples. Ordered by lift, then confidence."""
    rows = []
    for itemset, count in itemsets.items():
        if len(itemset) < 2:
            continue
        for consequent in itemset:
            antecedent = itemset - {consequent}
            antecedent_count = itemsets.get(antecedent)
            consequent_count = itemsets.get(frozenset([consequent]))
            if not antecedent_count or not consequent_count:
                continue
            confidence = count / antecedent_count
            lift = confidence / (consequent_count / n_baskets)
            if confidence >= min_confidence and lift >= min_lift:
                rows.append((tuple(sorted(antecedent)), consequent, count, count / n_baskets, confidence, lift))
    frame = pd.DataFrame(rows, columns=RULE_COLUMNS)
    return frame.sort_values(["lift", "confidence", "baskets"], ascending=False, kind="stable").reset_index(drop=True)
