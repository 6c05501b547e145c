"""The churn report's reads against a hand computation: a few dozen customers with known
churn risks, spend and CLV (boundary risks 0, 0.3, 0.7 and 1 included, ties in value), and
stored trainings whose figures the report must show as they are."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal

import pytest

from analytics.models import ChurnModel, ClvFit
from reports.churn.selectors import (
    churn_drivers,
    churn_model_comparison,
    churn_risk_distribution,
    churn_training_latest,
    churn_value_default,
    customers_at_risk,
)
from segments.models import CustomerFeatures
from tests.factories import CustomerFactory

NOW = dt.datetime(2025, 6, 18, 12, 0, tzinfo=dt.UTC)
EDGE_RISKS = [0.0, 0.1, 0.3, 0.7, 0.7, 0.9999, 1.0, 0.5]


def scored_shop() -> list[dict]:
    """40 customers: 35 scored (the edge risks first, then random ones), 5 never scored;
    spend with ties, CLV missing for every fourth customer. Returns the plain rows."""
    chance = random.Random(7)
    rows = []
    for index in range(40):
        customer = CustomerFactory()
        risk = EDGE_RISKS[index] if index < len(EDGE_RISKS) else (round(chance.random(), 4) if index < 35 else None)
        spend = Decimal(chance.choice([0, 120, 120, 250, 480, 999])) + Decimal(chance.randrange(100)) / 100
        if index % 9 == 0:
            spend = Decimal("500.00")  # ties
        clv = None if index % 4 == 3 else Decimal(chance.randrange(0, 200_000)) / 100
        CustomerFeatures.objects.create(customer=customer, as_of=NOW, computed_at=NOW, churn_risk=risk,
                                        monetary=spend, clv=clv)  # fmt: skip
        rows.append({"id": customer.pk, "external_id": customer.external_id, "name": customer.name,
                     "risk": risk, "spend": spend, "clv": clv})  # fmt: skip
    return rows


@pytest.fixture
def scored(db) -> list[dict]:
    return scored_shop()


def hand_histogram(rows: list[dict], bins: int) -> list[int]:
    counts = [0] * bins
    for row in rows:
        if row["risk"] is not None:
            counts[min(math.floor(row["risk"] * bins), bins - 1)] += 1
    return counts


def hand_at_risk(rows: list[dict], *, threshold: float, value: str, limit: int) -> tuple[list[int], int, Decimal]:
    """(ids of the top ``limit`` by value, count at risk, summed value)."""
    at_risk = [row for row in rows if row["risk"] is not None and row["risk"] >= threshold]
    with_value = sorted((row for row in at_risk if row[value] is not None), key=lambda row: (-row[value], row["id"]))
    without = sorted((row for row in at_risk if row[value] is None), key=lambda row: row["id"])
    total = sum((row[value] for row in at_risk if row[value] is not None), Decimal("0"))
    return [row["id"] for row in (with_value + without)[:limit]], len(at_risk), total


@pytest.mark.parametrize("bins", [10, 4, 1, 7])
def test_distribution_counts_each_bin_like_a_hand_count(scored, bins):
    distribution = churn_risk_distribution(bins=bins)
    assert [row["customers"] for row in distribution] == hand_histogram(scored, bins)
    assert [(row["low"], row["high"]) for row in distribution] == [(i / bins, (i + 1) / bins) for i in range(bins)]
    assert sum(row["customers"] for row in distribution) == 35  # the five unscored customers are left out


def test_distribution_puts_the_edges_where_they_belong(db):
    for risk in (0.0, 0.1, 0.3, 0.7, 1.0):
        CustomerFeatures.objects.create(customer=CustomerFactory(), as_of=NOW, computed_at=NOW, churn_risk=risk)
    counts = [row["customers"] for row in churn_risk_distribution(bins=10)]
    assert counts == [1, 1, 0, 1, 0, 0, 0, 1, 0, 1]  # 1.0 in the last bin; 0.1, 0.3, 0.7 open their bins


def test_distribution_is_empty_without_scores(db):
    assert [row["customers"] for row in churn_risk_distribution()] == [0] * 10
    with pytest.raises(ValueError):
        churn_risk_distribution(bins=0)


@pytest.mark.parametrize(
    ("threshold", "value", "limit"),
    [(0.7, "spend", 50), (0.7, "clv", 50), (0.5, "clv", 5), (0.0, "spend", 3), (1.0, "clv", 50)],
)
def test_at_risk_list_count_and_value_like_a_hand_computation(scored, threshold, value, limit):
    at_risk = customers_at_risk(threshold=threshold, value=value, limit=limit)
    ids, count, total = hand_at_risk(scored, threshold=threshold, value=value, limit=limit)
    assert [row["customer_id"] for row in at_risk.top] == ids
    assert at_risk.customers == count and at_risk.value_at_stake == total.quantize(Decimal("0.01"))
    assert at_risk.threshold == threshold and at_risk.value == value
    by_id = {row["id"]: row for row in scored}
    for row in at_risk.top:
        hand = by_id[row["customer_id"]]
        assert row["external_id"] == hand["external_id"] and row["name"] == hand["name"]
        assert row["churn_risk"] == pytest.approx(hand["risk"]) and row["spend"] == hand["spend"]
        assert row["clv"] == hand["clv"]


def test_at_risk_with_nobody_at_risk(scored):
    at_risk = customers_at_risk(threshold=1.0 + 1e-9, value="spend")
    assert at_risk.top == [] and at_risk.customers == 0 and at_risk.value_at_stake == Decimal("0.00")


def test_at_risk_defaults_to_the_alert_threshold_and_clv_once_a_fit_scored(scored, settings):
    settings.PRECIS_CHURN_ALERT_THRESHOLD = 0.5
    assert churn_value_default() == "spend"
    at_risk = customers_at_risk()
    assert at_risk.threshold == 0.5 and at_risk.value == "spend"
    ClvFit.objects.create(calibration_end=NOW, scored=30)
    at_risk = customers_at_risk()
    assert at_risk.value == "clv"
    assert [row["customer_id"] for row in at_risk.top] == hand_at_risk(scored, threshold=0.5, value="clv", limit=50)[0]


# --- the stored trainings -----------------------------------------------------------------

FIGURES = {
    "logistic_regression": (0.74, 0.70, 0.61, 0.55, 0.58),
    "decision_tree": (0.69, 0.66, 0.57, 0.60, 0.585),
    "random_forest": (0.78, 0.72, 0.66, 0.52, 0.582),
    "gradient_boosting": (0.77, 0.73, 0.64, 0.58, 0.608),
}
IMPORTANCE = [
    {"feature": "recency_days", "importance": 0.21},
    {"feature": "frequency_90d", "importance": 0.05},
    {"feature": "monetary", "importance": 0.012},
    {"feature": "avg_rating", "importance": -0.001},
]


def make_training(*, chosen: str = "random_forest", status=ChurnModel.Status.SUCCEEDED, active: bool = True,
                  created_at: dt.datetime = NOW, baseline_auc: float = 0.65) -> ChurnModel:  # fmt: skip
    evaluations = [
        {"name": name, "roc_auc": auc, "accuracy": acc, "precision": prec, "recall": rec, "f1": f1,
         "confusion_matrix": [[1, 2], [3, 4]], "calibration": [],
         "importance": IMPORTANCE if name == chosen else IMPORTANCE[::-1]}
        for name, (auc, acc, prec, rec, f1) in FIGURES.items()
    ]  # fmt: skip
    if active:
        ChurnModel.objects.filter(active=True).update(active=False)
    succeeded = status == ChurnModel.Status.SUCCEEDED
    training = ChurnModel.objects.create(
        status=status, horizon_days=90, evaluations=evaluations if succeeded else [],
        baseline={"name": "recency_only", "roc_auc": baseline_auc} if succeeded else {}, chosen=chosen if succeeded
        else "", active=active, train_cutoff=NOW - dt.timedelta(days=180), test_cutoff=NOW - dt.timedelta(days=90),
    )  # fmt: skip
    ChurnModel.objects.filter(pk=training.pk).update(created_at=created_at)
    training.refresh_from_db()
    return training


def test_latest_finished_training_is_shown_and_its_figures_as_stored(db):
    assert churn_training_latest() is None
    make_training(created_at=NOW - dt.timedelta(days=3), chosen="decision_tree")
    latest = make_training(created_at=NOW - dt.timedelta(days=1))
    make_training(created_at=NOW, status=ChurnModel.Status.FAILED, active=False)
    assert churn_training_latest().pk == latest.pk

    rows = churn_model_comparison(churn_training_latest())
    by_auc = sorted(FIGURES, key=lambda name: -FIGURES[name][0])
    assert [row["name"] for row in rows] == [*by_auc, "recency_only"]
    for row in rows[:-1]:
        figures = [row[figure] for figure in ("roc_auc", "accuracy", "precision", "recall", "f1")]
        assert figures == list(FIGURES[row["name"]])
        assert row["chosen"] == (row["name"] == "random_forest") and not row["baseline"]
    assert rows[-1] == {"name": "recency_only", "baseline": True, "chosen": False, "roc_auc": 0.65,
                        "accuracy": None, "precision": None, "recall": None, "f1": None}  # fmt: skip
    assert churn_drivers(latest) == IMPORTANCE  # the chosen model's, strongest first
