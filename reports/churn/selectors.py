"""Reads for the churn analysis report: the current churn risks of the feature table
(segments) grouped into a histogram, the valuable customers at risk, and the figures of the
latest training (analytics' churn selectors). Each customer read is one set-based query;
the model figures are read from the stored training, nothing is recomputed."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from django.db import connection
from django.db.models import Count, F, IntegerField
from django.db.models.functions import Cast, Floor, Least

from analytics.churn.alerts import alert_threshold
from analytics.churn.selectors import churn_comparison_rows
from analytics.models import ChurnModel, ClvFit
from customers.models import Customer
from segments.models import CustomerFeatures

DEFAULT_BINS = 10
DEFAULT_AT_RISK_LIMIT = 50
MAX_AT_RISK_LIMIT = 1_000
Value = Literal["clv", "spend"]
VALUES: tuple[Value, ...] = ("clv", "spend")
VALUE_COLUMNS: dict[Value, str] = {"clv": "clv", "spend": "monetary"}
FIGURES = ("roc_auc", "accuracy", "precision", "recall", "f1")
CENT = Decimal("0.01")


def churn_risk_distribution(*, bins: int = DEFAULT_BINS) -> list[dict]:
    """How many customers' current churn risk falls in each of ``bins`` equal-width bins
    of [0, 1]: ``[{"low": 0.0, "high": 0.1, "customers": n}, ...]``, every bin listed (empty
    ones with 0). A bin holds low ≤ risk < high; the last one also holds 1.0. Customers no
    model has scored yet are not counted. One grouped query over the feature table."""
    if bins < 1:
        raise ValueError("bins must be at least 1")
    bucket = Least(Cast(Floor(F("churn_risk") * bins), IntegerField()), bins - 1)
    grouped = (
        CustomerFeatures.objects.filter(churn_risk__isnull=False)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(customers=Count("pk"))
        .order_by()
    )
    counts = [0] * bins
    for row in grouped:
        counts[max(int(row["bucket"]), 0)] += row["customers"]
    return [{"low": index / bins, "high": (index + 1) / bins, "customers": counts[index]} for index in range(bins)]


# --- the latest training ------------------------------------------------------------------


def churn_training_latest() -> ChurnModel | None:
    """The newest training that finished (its figures are what the report shows), without
    the pickled pipelines."""
    return ChurnModel.objects.defer("pipelines").filter(status=ChurnModel.Status.SUCCEEDED).first()


def _figure(value) -> float | None:
    return None if value is None else float(value)


def churn_model_comparison(training: ChurnModel) -> list[dict]:
    """Each candidate's ROC AUC, accuracy, precision, recall and F1 on the test period, best
    AUC first, then the recency-only baseline (which has an AUC only: it ranks, it does not
    predict). ``chosen`` marks the model that scores customers."""
    return [
        {"name": row["name"], "baseline": row["baseline"], "chosen": row["chosen"]}
        | {figure: _figure(row.get(figure)) for figure in FIGURES}
        for row in churn_comparison_rows(training)
    ]


def churn_drivers(training: ChurnModel) -> list[dict]:
    """Permutation importance of the chosen model (drop in ROC AUC when a feature is
    shuffled on the test customers), strongest first."""
    chosen = training.evaluation(training.chosen) or {}
    return [{"feature": row["feature"], "importance": float(row["importance"])} for row in chosen.get("importance", [])]


# --- valuable customers at risk -----------------------------------------------------------


def churn_value_default() -> Value:
    """CLV once a CLV fit has scored customers (expected future spend is what is at stake),
    else the all-time spend."""
    return "clv" if ClvFit.objects.filter(scored__gt=0).exists() else "spend"


@dataclass(frozen=True)
class AtRisk:
    """Customers whose current churn risk is at least ``threshold``: how many, the value at
    stake (sum of ``value`` over all of them) and the ``limit`` most valuable ones."""

    threshold: float
    value: Value
    customers: int
    value_at_stake: Decimal
    top: list[dict] = field(default_factory=list)


def _money(amount) -> Decimal | None:
    """Amounts arrive as Decimal (PostgreSQL) or float / int (SQLite sums)."""
    return None if amount is None else Decimal(str(amount)).quantize(CENT)


def customers_at_risk(*, threshold: float | None = None, value: Value | None = None,
                      limit: int = DEFAULT_AT_RISK_LIMIT) -> AtRisk:  # fmt: skip
    """The customers at risk, most valuable first (ties: lower id first; customers without
    a value last), with their count and value at stake. One statement: the count and the
    sum over every customer at risk, and the top ``limit`` rows (a top-N sort), each a
    parallel scan of the feature table; only the top rows are joined to the customers.
    (Window aggregates in the same scan were slower on PostgreSQL: they force a full sort
    of every customer at risk before the limit.)"""
    threshold = alert_threshold() if threshold is None else threshold
    value = value or churn_value_default()
    column = VALUE_COLUMNS[value]
    features, customers = CustomerFeatures._meta.db_table, Customer._meta.db_table
    order = f"{column} DESC NULLS LAST, customer_id"
    sql = f"""
        WITH totals AS (
            SELECT COUNT(*) AS total, SUM({column}) AS at_stake FROM {features} WHERE churn_risk >= %s
        ), most_valuable AS (
            SELECT customer_id, churn_risk, monetary, clv FROM {features} WHERE churn_risk >= %s
            ORDER BY {order} LIMIT %s
        )
        SELECT most_valuable.customer_id, customer.external_id, customer.name, most_valuable.churn_risk,
               most_valuable.monetary, most_valuable.clv, totals.total, totals.at_stake
        FROM most_valuable CROSS JOIN totals JOIN {customers} customer ON customer.id = most_valuable.customer_id
        ORDER BY most_valuable.{column} DESC NULLS LAST, most_valuable.customer_id
    """  # table and column names come from the models; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [threshold, threshold, limit])
        rows = cursor.fetchall()
    top = [
        {"customer_id": row[0], "external_id": row[1], "name": row[2], "churn_risk": float(row[3]),
         "spend": _money(row[4]), "clv": _money(row[5])}
        for row in rows
    ]  # fmt: skip
    total = int(rows[0][6]) if rows else 0
    at_stake = (_money(rows[0][7]) or Decimal("0.00")) if rows else Decimal("0.00")
    return AtRisk(threshold=threshold, value=value, customers=total, value_at_stake=at_stake, top=top)
