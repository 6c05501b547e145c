"""The recommender's pure computation against hand computations: dense NumPy cosine and
scores, plain-Python basket counts for FP-growth, plain-Python hit rate and precision."""

import itertools
import math

import numpy as np
import pytest
from scipy import sparse

from analytics.recommendations import model

# 5 customers × 6 products; customer 4 has no interactions (cold).
DENSE = np.array(
    [
        [5, 1, 0, 0, 2, 0],
        [0, 3, 5, 0, 0, 1],
        [5, 0, 1, 2, 0, 0],
        [0, 0, 0, 5, 3, 1],
        [0, 0, 0, 0, 0, 0],
    ],
    dtype=float,
)
BOUGHT = (DENSE == 5).astype(float)


def hand_cosine(dense: np.ndarray) -> np.ndarray:
    products = dense.shape[1]
    similarity = np.zeros((products, products))
    for i in range(products):
        for j in range(products):
            if i == j:
                continue
            a, b = dense[:, i], dense[:, j]
            norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(x * x for x in b))
            similarity[i, j] = sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0
    return similarity


def hand_top_k(similarity: np.ndarray, k: int) -> np.ndarray:
    kept = np.zeros_like(similarity)
    for row in range(similarity.shape[0]):
        order = sorted((j for j in range(similarity.shape[1]) if similarity[row, j] > 0),
                       key=lambda j: (-similarity[row, j], j))[:k]  # fmt: skip
        kept[row, order] = similarity[row, order]
    return kept


def test_interaction_matrix_sums_repeated_events():
    matrix = model.interaction_matrix(np.array([0, 0, 1]), np.array([2, 2, 0]), np.array([1.0, 2.0, 5.0]),
                                      customers=2, products=3)  # fmt: skip
    assert matrix.toarray().tolist() == [[0, 0, 3], [5, 0, 0]]


@pytest.mark.parametrize("k", [2, 10])
def test_item_similarity_is_the_hand_cosine_with_top_k(k):
    similarity = model.item_similarity(sparse.csr_matrix(DENSE), neighbours=k).toarray()
    np.testing.assert_allclose(similarity, hand_top_k(hand_cosine(DENSE), k), rtol=1e-6)
    assert np.all(np.diag(similarity) == 0)


def test_scores_and_top_n_equal_the_hand_computation():
    k = 3
    interactions = sparse.csr_matrix(DENSE)
    similarity = model.item_similarity(interactions, neighbours=k)
    popular = model.popularity(sparse.csr_matrix(BOUGHT), interactions)
    top = model.recommend(interactions, similarity, sparse.csr_matrix(BOUGHT), popular, n=4)
    kept = hand_top_k(hand_cosine(DENSE), k)
    for customer in range(4):
        # score(u, j) = sum over j's neighbours i of w(u, i) * sim(j, i)
        scores = {j: sum(DENSE[customer, i] * kept[j, i] for i in range(6)) for j in range(6)}
        candidates = [j for j in range(6) if scores[j] > 0 and BOUGHT[customer, j] == 0]
        expected = sorted(candidates, key=lambda j: (-scores[j], j))[:4]
        mine = top.customer == customer
        similar = mine & (top.source == model.SOURCE_SIMILAR)
        assert top.product[similar].tolist() == expected
        np.testing.assert_allclose(top.score[similar], [scores[j] for j in expected], rtol=1e-5)
        assert top.rank[mine].tolist() == list(range(1, int(mine.sum()) + 1))
        assert not set(top.product[mine]) & set(np.flatnonzero(BOUGHT[customer]))


def test_already_bought_products_are_never_recommended():
    interactions = sparse.csr_matrix(DENSE)
    bought = sparse.csr_matrix(BOUGHT)
    top = model.recommend(interactions, model.item_similarity(interactions), bought,
                          model.popularity(bought, interactions), n=6)  # fmt: skip
    pairs = set(zip(top.customer.tolist(), top.product.tolist(), strict=True))
    assert not pairs & {(int(c), int(p)) for c, p in zip(*np.nonzero(BOUGHT), strict=True)}
    # everyone gets every product they did not buy (CF first, popular to fill)
    for customer in range(5):
        assert sorted(top.product[top.customer == customer]) == [p for p in range(6) if BOUGHT[customer, p] == 0]


def test_cold_customers_get_the_most_popular_products():
    interactions = sparse.csr_matrix(DENSE)
    bought = sparse.csr_matrix(BOUGHT)
    top = model.recommend(interactions, model.item_similarity(interactions), bought,
                          model.popularity(bought, interactions), n=3, rows=np.array([4]))  # fmt: skip
    buyers = BOUGHT.sum(axis=0)  # product 0: 2 buyers, 2: 1, 3: 1; ties by interaction weight (3: 7 > 2: 6)
    weight = DENSE.sum(axis=0)
    expected = sorted(range(6), key=lambda p: (-buyers[p], -weight[p], p))[:3]
    assert top.product.tolist() == expected == [0, 3, 2]
    assert set(top.source) == {model.SOURCE_POPULAR}


def baskets_fixture():
    return [
        {1, 2, 3},
        {1, 2},
        {1, 3},
        {2, 3, 4},
        {1, 2, 3, 4},
        {4},
        {2, 4},
        {1, 2, 4},
        {5},
        {1, 5},
    ]


def count(baskets, items):
    return sum(1 for basket in baskets if set(items) <= basket)


def test_fp_growth_finds_every_frequent_itemset_with_its_count():
    baskets = baskets_fixture()
    found = model.frequent_itemsets(baskets, n_baskets=len(baskets), min_support=0.3, max_len=3)
    products = sorted(set().union(*baskets))
    expected = {}
    for size in (1, 2, 3):
        for items in itertools.combinations(products, size):
            n = count(baskets, items)
            if n >= 3:
                expected[frozenset(items)] = n
    assert found == expected


def test_fp_growth_with_item_counts_and_only_multi_product_baskets():
    baskets = baskets_fixture()
    item_counts = {item: count(baskets, [item]) for item in range(1, 6)}
    multi = [basket for basket in baskets if len(basket) >= 2]
    found = model.frequent_itemsets(multi, n_baskets=len(baskets), min_support=0.2, max_len=3, item_counts=item_counts)
    assert found == model.frequent_itemsets(baskets, n_baskets=len(baskets), min_support=0.2, max_len=3)
    assert found[frozenset([4])] == 5 and found[frozenset([1, 2, 4])] == 2


def test_rules_support_confidence_and_lift_equal_plain_counts():
    baskets = baskets_fixture()
    n = len(baskets)
    found = model.frequent_itemsets(baskets, n_baskets=n, min_support=0.2, max_len=3)
    rules = model.association_rules(found, n_baskets=n, min_confidence=0.0, min_lift=0.0)
    by_rule = {(row.antecedent, row.consequent): row for row in rules.itertuples()}
    for antecedent, consequent in [((1,), 2), ((2,), 4), ((1, 2), 3), ((3,), 1), ((2, 4), 1)]:
        both = count(baskets, [*antecedent, consequent])
        row = by_rule[(antecedent, consequent)]
        assert row.baskets == both
        assert row.support == pytest.approx(both / n)
        assert row.confidence == pytest.approx(both / count(baskets, antecedent))
        assert row.lift == pytest.approx((both / count(baskets, antecedent)) / (count(baskets, [consequent]) / n))
    assert list(rules["lift"]) == sorted(rules["lift"], reverse=True)
    strict = model.association_rules(found, n_baskets=n, min_confidence=0.7, min_lift=1.1)
    assert all(strict["confidence"] >= 0.7) and all(strict["lift"] >= 1.1) and len(strict) < len(rules)


def test_hit_rate_and_precision_equal_a_plain_computation():
    recommended = {0: [3, 1, 4], 1: [0, 2], 2: [5, 4, 3], 3: [1]}
    bought_after = {0: {4, 5}, 1: {1}, 2: {3, 4}, 4: {2}}  # customer 3 bought nothing; 4 got no list
    customers, products, k = 5, 6, 2
    top = model.TopN(
        customer=np.array([c for c, items in recommended.items() for _ in items]),
        product=np.array([p for items in recommended.values() for p in items]),
        rank=np.array([r + 1 for items in recommended.values() for r in range(len(items))]),
        score=np.zeros(9),
        source=np.array(["similar"] * 9, dtype=object),
    )
    test = sparse.lil_matrix((customers, products))
    for customer, items in bought_after.items():
        for item in items:
            test[customer, item] = 1
    result = model.evaluate(top, test.tocsr(), k=k)
    hits = {c: len(set(recommended.get(c, [])[:k]) & items) for c, items in bought_after.items()}
    assert result.customers == 4
    assert result.hit_rate == pytest.approx(sum(h > 0 for h in hits.values()) / 4)
    assert result.precision == pytest.approx(sum(h / k for h in hits.values()) / 4)
    # only customer 2 has a hit in the top 2 (customer 0's product 4 is third)
    assert result.hit_rate == 0.25 and result.precision == pytest.approx(0.5 / 4)


def test_top_k_per_row_keeps_the_largest_entries():
    matrix = sparse.csr_matrix(np.array([[0.1, 0.5, 0.3, 0.5], [0, 0, 0.2, 0]]))
    assert model.top_k_per_row(matrix, 2).toarray().tolist() == [[0, 0.5, 0, 0.5], [0, 0, 0.2, 0]]
