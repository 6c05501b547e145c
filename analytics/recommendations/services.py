"""Fitting the recommender and storing what it recommends.

``recommendations_fit`` reads the shop's data once (three grouped queries), measures CF
and the popularity baseline on a time split, refits on all data, mines the association
rules, writes every customer's top-N and the rules set-based (COPY on PostgreSQL, bulk
INSERT on SQLite), activates the run and drops older runs' rows. The feature table's
``recommended_category`` belongs to segments: it is asked for by task name afterwards.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from celery import current_app
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from scipy import sparse

from analytics.models import ProductAssociation, ProductRecommendation, RecommendationRun
from analytics.recommendations import model
from analytics.recommendations import selectors as data
from customers.models import Customer
from jobs.bulk import rows_copy
from jobs.models import Job
from jobs.services import job_create, job_fail, job_progress, job_start, job_succeed

logger = logging.getLogger(__name__)

FIT_JOB_KIND = "recommendations_fit"
FEATURES_TASK = "segments.features_recommendation_update"
DEFAULT_TEST_DAYS = 30
DEFAULT_MIN_SUPPORT = 0.0005
DEFAULT_MIN_CONFIDENCE = 0.05
DEFAULT_MIN_LIFT = 1.0
DEFAULT_MAX_RULE_LENGTH = 3
MIN_RULE_BASKETS = 3
MAX_RULES = 5_000

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ShopData:
    """The shop's interactions as matrices over customer / product indexes."""

    customer_ids: np.ndarray  # row → Customer.pk
    product_ids: np.ndarray  # column → Product.pk
    interactions: sparse.csr_matrix  # all weights (browsing + 5 per purchased order)
    bought: sparse.csr_matrix  # orders per (customer, product), all time
    train_interactions: sparse.csr_matrix  # the same before the cutoff
    train_bought: sparse.csr_matrix
    test: sparse.csr_matrix  # bought after the cutoff and not before


def shop_data_load(*, cutoff: dt.datetime) -> ShopData:
    """Read the interactions once and build the matrices (rows: every customer)."""
    customer_ids = np.asarray(Customer.objects.order_by("pk").values_list("pk", flat=True), dtype=np.int64)
    product_ids = data.product_catalogue()["product_id"].to_numpy()
    browsing = data.browsing_interactions(cutoff=cutoff)
    bought = data.purchases(cutoff=cutoff)
    shape = (customer_ids.size, product_ids.size)

    def index(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        rows = np.searchsorted(customer_ids, frame["customer_id"].to_numpy())
        columns = np.searchsorted(product_ids, frame["product_id"].to_numpy())
        return rows, columns

    def matrix(rows: np.ndarray, columns: np.ndarray, values: np.ndarray) -> sparse.csr_matrix:
        return model.interaction_matrix(rows, columns, values, customers=shape[0], products=shape[1])

    b_rows, b_cols = index(browsing)
    p_rows, p_cols = index(bought)
    purchase = model.EVENT_WEIGHTS["purchase"]
    orders = bought["orders"].to_numpy(np.float64)
    train_orders = bought["train_orders"].to_numpy(np.float64)
    rows, columns = np.concatenate([b_rows, p_rows]), np.concatenate([b_cols, p_cols])
    interactions = matrix(rows, columns, np.concatenate([browsing["weight"].to_numpy(), purchase * orders]))
    train_interactions = matrix(
        rows, columns, np.concatenate([browsing["train_weight"].to_numpy(), purchase * train_orders])
    )
    new_after = (orders > train_orders) & (train_orders == 0)
    return ShopData(
        customer_ids=customer_ids,
        product_ids=product_ids,
        interactions=interactions,
        bought=matrix(p_rows, p_cols, orders),
        train_interactions=train_interactions,
        train_bought=matrix(p_rows, p_cols, train_orders),
        test=matrix(p_rows[new_after], p_cols[new_after], np.ones(int(new_after.sum()))),
    )


def recommendations_evaluate(shop: ShopData, *, neighbours: int, k: int = model.DEFAULT_TOP_N) -> dict:
    """Hit rate@k and precision@k of item-based CF and of popularity, trained before the
    cutoff and tested on the products each customer first bought after it."""
    tested = np.flatnonzero(np.diff(shop.test.indptr) > 0)
    similarity = model.item_similarity(shop.train_interactions, neighbours=neighbours)
    popular = model.popularity(shop.train_bought, shop.train_interactions)
    figures = {}
    for name, use_similarity in (("cf", True), ("popularity", False)):
        top = model.recommend(shop.train_interactions, similarity, shop.train_bought, popular, n=k, rows=tested,
                              use_similarity=use_similarity)  # fmt: skip
        figures[name] = model.evaluate(top, shop.test, k=k).as_dict()
    return figures


def rules_mine(*, min_support: float, min_confidence: float, min_lift: float, max_len: int) -> pd.DataFrame:
    """Association rules over the placed orders' product sets (FP-growth); product ids."""
    n_baskets, item_counts = data.basket_counts()
    if n_baskets == 0:
        return pd.DataFrame(columns=model.RULE_COLUMNS)
    # A rule seen in one or two orders is chance, whatever the share: ask for a few orders.
    min_support = max(min_support, MIN_RULE_BASKETS / n_baskets)
    min_count = max(1, int(np.ceil(min_support * n_baskets - 1e-9)))
    frequent = item_counts[item_counts >= min_count]
    lines = data.basket_lines(products=frequent.index.tolist())
    lines = lines.sort_values(["order_id", "product_id"], kind="stable")
    order_ids = lines["order_id"].to_numpy()
    boundaries = np.flatnonzero(np.diff(order_ids)) + 1
    baskets = [tuple(b) for b in np.split(lines["product_id"].to_numpy(), boundaries) if b.size >= 2]
    itemsets = model.frequent_itemsets(baskets, n_baskets=n_baskets, min_support=min_support, max_len=max_len,
                                       item_counts=frequent.to_dict())  # fmt: skip
    rules = model.association_rules(itemsets, n_baskets=n_baskets, min_confidence=min_confidence, min_lift=min_lift)
    return rules.head(MAX_RULES)


def recommendations_store(*, run: RecommendationRun, shop: ShopData, top: model.TopN, rules: pd.DataFrame) -> None:
    """Write the run's top-N and rules (set-based), activate it, drop older runs' rows."""
    recommendations = pd.DataFrame({
        "run_id": run.pk,
        "customer_id": shop.customer_ids[top.customer],
        "product_id": shop.product_ids[top.product],
        "rank": top.rank,
        "score": top.score.astype(np.float64),
        "source": top.source,
    })  # fmt: skip
    columns = list(recommendations.columns)
    rows_copy(ProductRecommendation._meta.db_table, columns, recommendations)
    if len(rules):
        associations = pd.DataFrame({
            "run_id": run.pk,
            "antecedent_id": [items[0] for items in rules["antecedent"]],
            "antecedent_items": [f"[{', '.join(str(int(i)) for i in items)}]" for items in rules["antecedent"]],
            "antecedent_size": [len(items) for items in rules["antecedent"]],
            "consequent_id": rules["consequent"].astype(np.int64),
            "baskets": rules["baskets"].astype(np.int64),
            "support": rules["support"],
            "confidence": rules["confidence"],
            "lift": rules["lift"],
        })  # fmt: skip
        rows_copy(ProductAssociation._meta.db_table, list(associations.columns), associations)
    with transaction.atomic():
        RecommendationRun.objects.filter(active=True).exclude(pk=run.pk).update(active=False)
        RecommendationRun.objects.filter(pk=run.pk).update(active=True)
    ProductRecommendation.objects.exclude(run_id=run.pk).delete()
    ProductAssociation.objects.exclude(run_id=run.pk).delete()


def features_recommendation_queue(*, inline: bool = False) -> None:
    """Ask segments to copy each customer's top recommendation's category into the feature
    table. By task name: analytics must not import segments. ``inline`` runs the task in
    this process (the management command needs no worker)."""
    current_app.loader.import_default_modules()
    if inline:
        current_app.tasks[FEATURES_TASK].apply(throw=True)
    else:
        current_app.signature(FEATURES_TASK).apply_async()


def recommendations_fit(*, run: RecommendationRun | None = None, user=None, as_of: dt.datetime | None = None,
                        test_days: int = DEFAULT_TEST_DAYS, neighbours: int = model.DEFAULT_NEIGHBOURS,
                        top_n: int = model.DEFAULT_TOP_N, min_support: float = DEFAULT_MIN_SUPPORT,
                        min_confidence: float = DEFAULT_MIN_CONFIDENCE, min_lift: float = DEFAULT_MIN_LIFT,
                        max_rule_length: int = DEFAULT_MAX_RULE_LENGTH, progress: Progress | None = None,
                        queue_features: bool = True, inline: bool = False) -> RecommendationRun:  # fmt: skip
    """Evaluate, fit, mine and store one run (see the module doc). The time split's cutoff
    is ``test_days`` before ``as_of`` (now by default). Running it twice writes a second
    run and keeps only its rows. Progress goes 0..1 with a message."""

    def step(share: float, message: str) -> None:
        if progress is not None:
            progress(share, message)

    as_of = as_of or timezone.now()
    cutoff = as_of - dt.timedelta(days=test_days)
    parameters = {"as_of": as_of.isoformat(), "cutoff": cutoff.isoformat(), "test_days": test_days,
                  "neighbours": neighbours, "top_n": top_n, "weights": model.EVENT_WEIGHTS,
                  "min_support": min_support, "min_confidence": min_confidence, "min_lift": min_lift,
                  "max_rule_length": max_rule_length}  # fmt: skip
    if run is None:
        run = RecommendationRun.objects.create(created_by=user, parameters=parameters)
    RecommendationRun.objects.filter(pk=run.pk).update(status=RecommendationRun.Status.RUNNING, parameters=parameters)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    try:
        shop = shop_data_load(cutoff=cutoff)
        lap("read")
        step(0.15, gettext_noop("interactions read"))
        figures = recommendations_evaluate(shop, neighbours=neighbours, k=top_n)
        lap("evaluate")
        step(0.35, gettext_noop("evaluated on the time split"))
        similarity = model.item_similarity(shop.interactions, neighbours=neighbours)
        popular = model.popularity(shop.bought, shop.interactions)
        top = model.recommend(shop.interactions, similarity, shop.bought, popular, n=top_n)
        lap("recommend")
        step(0.6, gettext_noop("top products chosen"))
        rules = rules_mine(min_support=min_support, min_confidence=min_confidence, min_lift=min_lift,
                           max_len=max_rule_length)  # fmt: skip
        lap("rules")
        step(0.75, gettext_noop("association rules mined"))
        recommendations_store(run=run, shop=shop, top=top, rules=rules)
        lap("store")
        counts = {"customers": int(shop.customer_ids.size), "products": int(shop.product_ids.size),
                  "interactions": int(shop.interactions.nnz), "recommendations": int(top.rank.size),
                  "similar": int(np.sum(top.source == model.SOURCE_SIMILAR)), "rules": int(len(rules)),
                  "cold_customers": int(np.sum(np.diff(shop.interactions.indptr) == 0))}  # fmt: skip
        RecommendationRun.objects.filter(pk=run.pk).update(
            status=RecommendationRun.Status.SUCCEEDED, finished_at=timezone.now(), figures=figures, counts=counts,
            timings=timings,
        )  # fmt: skip
    except Exception as error:
        RecommendationRun.objects.filter(pk=run.pk).update(
            status=RecommendationRun.Status.FAILED, finished_at=timezone.now(), error=str(error), timings=timings
        )
        raise
    if queue_features:
        features_recommendation_queue(inline=inline)
    run.refresh_from_db()
    return run


def recommendations_fit_start(*, user=None) -> Job:
    """Create the job and the queued run, and queue the fit once they are committed."""
    with transaction.atomic():
        job = job_create(kind=FIT_JOB_KIND, title=_("Recommendations: evaluate and fit"), user=user)
        run = RecommendationRun.objects.create(created_by=user, job=job)
        from analytics.tasks import recommendations_fit_task  # the tasks module imports this one

        transaction.on_commit(lambda: recommendations_fit_task.delay(run.pk, str(job.pk)))
    return job


def recommendations_fit_run(*, run_id: int, job_id: str | None = None) -> RecommendationRun | None:
    """What the worker runs: fit a queued run with job progress. A run that already ran
    (the task delivered twice) is left alone."""
    run = RecommendationRun.objects.filter(pk=run_id, status=RecommendationRun.Status.QUEUED).first()
    if run is None:
        return None

    def progress(share: float, message: str) -> None:
        if job_id is not None:
            job_progress(job_id=job_id, done=int(100 * share), message=_(message))

    if job_id is not None:
        job_start(job_id=job_id, total=100)
    try:
        run = recommendations_fit(run=run, user=run.created_by, progress=progress)
    except Exception as error:
        if job_id is not None:
            job_fail(job_id=job_id, message=str(error))
        raise
    if job_id is not None:
        cf, popular = run.figures.get("cf", {}), run.figures.get("popularity", {})
        job_succeed(
            job_id=job_id,
            result={"run_id": run.pk, "summary": {
                gettext_noop("hit rate@10 (similar items)"): _percent(cf.get("hit_rate")),
                gettext_noop("hit rate@10 (popular)"): _percent(popular.get("hit_rate")),
                gettext_noop("recommendations"): run.counts.get("recommendations", 0),
                gettext_noop("rules"): run.counts.get("rules", 0)}},
            message=_("Run #%(run)d: hit rate@10 %(cf)s (popular %(popular)s)")
            % {"run": run.pk, "cf": _percent(cf.get("hit_rate")), "popular": _percent(popular.get("hit_rate"))},
        )  # fmt: skip
    return run


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"
