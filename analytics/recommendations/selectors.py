"""Reads for the recommender: the shop's interactions, purchases and baskets (one grouped
query per table, streamed with COPY on PostgreSQL), and what campaign templates, the
profile, the page and the API show (the active run's recommendations and rules)."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import QuerySet

from analytics.models import ProductAssociation, ProductRecommendation, RecommendationRun
from analytics.recommendations.model import EVENT_WEIGHTS
from customers.models import Event, Order, OrderLine, Product

EVENTS = Event._meta.db_table
ORDERS = Order._meta.db_table
LINES = OrderLine._meta.db_table
PRODUCTS = Product._meta.db_table
BROWSING_WEIGHTS = {kind: weight for kind, weight in EVENT_WEIGHTS.items() if kind != "purchase"}


def sql_frame(sql: str, params: list, columns: list[str]) -> pd.DataFrame:
    """Run ``sql`` into a DataFrame of numbers: COPY … TO STDOUT on PostgreSQL (no Python
    object per value), the cursor on SQLite."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            buffer = BytesIO()
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
                for block in copy:
                    buffer.write(block)
            if buffer.tell() == 0:
                return pd.DataFrame({column: pd.Series(dtype=np.float64) for column in columns})
            buffer.seek(0)
            return pd.read_csv(buffer, sep="\t", header=None, names=columns, na_values=["\\N"])
        cursor.execute(sql, params)
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def _time(value: dt.datetime) -> str:
    return connection.ops.adapt_datetimefield_value(value)


def product_catalogue() -> pd.DataFrame:
    """Every product's id (the matrix columns are this order)."""
    frame = sql_frame(f"SELECT id FROM {PRODUCTS} ORDER BY id", [], ["product_id"])
    return frame.astype({"product_id": np.int64})


def browsing_interactions(*, cutoff: dt.datetime) -> pd.DataFrame:
    """Per (customer, product): summed weights of views, favourites and cart adds, in all
    and before ``cutoff`` (the training part of the time split). Purchases come from
    orders (``purchases``), which carry the products; purchase events do not."""
    weight = "CASE e.type " + " ".join(f"WHEN '{kind}' THEN {w}" for kind, w in BROWSING_WEIGHTS.items()) + " END"
    kinds = ", ".join(f"'{kind}'" for kind in BROWSING_WEIGHTS)
    sql = (
        f"SELECT e.customer_id, p.id, SUM({weight}), SUM(CASE WHEN e.occurred_at < %s THEN {weight} ELSE 0 END) "
        f"FROM {EVENTS} e JOIN {PRODUCTS} p ON p.sku = e.sku WHERE e.type IN ({kinds}) AND e.sku <> '' "
        f"GROUP BY e.customer_id, p.id"
    )
    frame = sql_frame(sql, [_time(cutoff)], ["customer_id", "product_id", "weight", "train_weight"])
    return frame.astype({"customer_id": np.int64, "product_id": np.int64, "weight": np.float64,
                         "train_weight": np.float64})  # fmt: skip


def purchases(*, cutoff: dt.datetime) -> pd.DataFrame:
    """Per (customer, product) of placed orders: orders in all and before ``cutoff``."""
    sql = (
        f"SELECT o.customer_id, l.product_id, COUNT(*), SUM(CASE WHEN o.ordered_at < %s THEN 1 ELSE 0 END) "
        f"FROM {LINES} l JOIN {ORDERS} o ON o.id = l.order_id WHERE o.status = %s "
        f"GROUP BY o.customer_id, l.product_id"
    )
    frame = sql_frame(sql, [_time(cutoff), Order.Status.PLACED.value], ["customer_id", "product_id", "orders",
                                                                      "train_orders"])  # fmt: skip
    return frame.astype({"customer_id": np.int64, "product_id": np.int64, "orders": np.int64,
                         "train_orders": np.int64})  # fmt: skip


def basket_counts() -> tuple[int, pd.Series]:
    """Placed orders with at least one line, and per product the orders holding it."""
    placed = Order.Status.PLACED.value
    frame = sql_frame(
        f"SELECT l.product_id, COUNT(*) FROM {LINES} l JOIN {ORDERS} o ON o.id = l.order_id "
        f"WHERE o.status = %s GROUP BY l.product_id",
        [placed],
        ["product_id", "orders"],
    )
    total = sql_frame(
        f"SELECT COUNT(DISTINCT l.order_id) FROM {LINES} l JOIN {ORDERS} o ON o.id = l.order_id WHERE o.status = %s",
        [placed],
        ["n"],
    )
    n_baskets = int(total["n"].iloc[0]) if len(total) and pd.notna(total["n"].iloc[0]) else 0
    return n_baskets, frame.set_index("product_id")["orders"].astype(np.int64)


def basket_lines(*, products: list[int] | None = None) -> pd.DataFrame:
    """(order, product) of the placed orders with two or more lines (one-product baskets
    add nothing to itemsets of two or more), optionally only lines of ``products``."""
    placed = Order.Status.PLACED.value
    only = ""
    params: list = [placed, placed]
    if products is not None:
        if not products:
            return pd.DataFrame({"order_id": pd.Series(dtype=np.int64), "product_id": pd.Series(dtype=np.int64)})
        only = f" AND l.product_id IN ({', '.join(str(int(p)) for p in products)})"
    sql = (
        f"SELECT l.order_id, l.product_id FROM {LINES} l JOIN {ORDERS} o ON o.id = l.order_id "
        f"WHERE o.status = %s{only} AND l.order_id IN (SELECT l2.order_id FROM {LINES} l2 JOIN {ORDERS} o2 "
        f"ON o2.id = l2.order_id WHERE o2.status = %s{only.replace('l.', 'l2.')} GROUP BY l2.order_id "
        f"HAVING COUNT(*) >= 2)"
    )
    return sql_frame(sql, params, ["order_id", "product_id"]).astype({"order_id": np.int64, "product_id": np.int64})


# --- what the app shows ---------------------------------------------------------------------------


def recommendation_run_active() -> RecommendationRun | None:
    return RecommendationRun.objects.filter(active=True).first()


def recommendation_runs(*, limit: int = 10) -> QuerySet[RecommendationRun]:
    return RecommendationRun.objects.select_related("created_by")[:limit]


def customer_recommendations(customer_id: int, limit: int = 10) -> list[dict]:
    """The customer's recommended products from the active run, best first: product id,
    SKU, name, category, brand, price, rank, score and source ("similar" / "popular").
    What campaign templates call; empty before the first fit."""
    rows = (
        ProductRecommendation.objects.filter(customer_id=customer_id, run__active=True)
        .order_by("rank")
        .values("product_id", "product__sku", "product__name", "product__category", "product__brand",
                "product__price", "rank", "score", "source")[:limit]
    )  # fmt: skip
    return [_product_row(row, rank=row["rank"], score=row["score"], source=row["source"]) for row in rows]


def frequently_bought_together(product_id: int, limit: int = 5) -> list[dict]:
    """Products that orders with ``product_id`` also hold, from the active run's rules with
    that one product as antecedent, by lift then confidence."""
    rows = (
        ProductAssociation.objects.filter(run__active=True, antecedent_id=product_id, antecedent_size=1)
        .order_by("-lift", "-confidence", "consequent_id")
        .values("consequent_id", "consequent__sku", "consequent__name", "consequent__category",
                "consequent__brand", "consequent__price", "support", "confidence", "lift", "baskets")[:limit]
    )  # fmt: skip
    return [
        {"product_id": row["consequent_id"], "sku": row["consequent__sku"], "name": row["consequent__name"],
         "category": row["consequent__category"], "brand": row["consequent__brand"],
         "price": row["consequent__price"], "support": row["support"], "confidence": row["confidence"],
         "lift": row["lift"], "baskets": row["baskets"]}
        for row in rows
    ]  # fmt: skip


def _product_row(row: dict, **extra) -> dict:
    return {
        "product_id": row["product_id"],
        "sku": row["product__sku"],
        "name": row["product__name"],
        "category": row["product__category"],
        "brand": row["product__brand"],
        "price": row["product__price"],
        **extra,
    }


def association_rules_top(*, limit: int = 20) -> list[dict]:
    """The active run's strongest rules (by lift) with the products' SKUs and names."""
    run = recommendation_run_active()
    if run is None:
        return []
    rules = list(
        ProductAssociation.objects.filter(run=run)
        .order_by("-lift", "-confidence")
        .values("antecedent_items", "consequent_id", "consequent__sku", "consequent__name", "baskets", "support",
                "confidence", "lift")[:limit]
    )  # fmt: skip
    ids = {item for rule in rules for item in rule["antecedent_items"]}
    names = {pk: (sku, name) for pk, sku, name in Product.objects.filter(pk__in=ids).values_list("pk", "sku", "name")}
    for rule in rules:
        rule["antecedent"] = [{"product_id": pk, "sku": names.get(pk, ("", ""))[0], "name": names.get(pk, ("", ""))[1]}
                              for pk in rule["antecedent_items"]]  # fmt: skip
    return rules
