"""The churn comparison's figures against hand computations from the same predictions."""

import numpy as np
import pandas as pd
import pytest

from analytics.churn.model import MODEL_NAMES, RAW_COLUMNS, churn_evaluate, churn_models_compare, churn_risk


def synthetic(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Churn driven by recency and recent orders, plus noise columns."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.gamma(2.0, 20.0, size=(rows, len(RAW_COLUMNS))), columns=list(RAW_COLUMNS))
    frame["recency_days"] = rng.uniform(0, 400, rows)
    frame.loc[rng.random(rows) < 0.1, "recency_days"] = np.nan  # never ordered
    frame["frequency_90d"] = rng.poisson(1.0, rows)
    logit = 0.012 * frame["recency_days"].fillna(500) - 1.2 * frame["frequency_90d"] - 1.0
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, churned.to_numpy()


def auc_by_ranks(y: np.ndarray, score: np.ndarray) -> float:
    """Mann–Whitney: the share of (churned, kept) pairs the score orders correctly."""
    positives, negatives = score[y == 1], score[y == 0]
    greater = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return (greater + 0.5 * ties) / (len(positives) * len(negatives))


@pytest.fixture(scope="module")
def comparison():
    train_X, train_y = synthetic(4_000, seed=1)
    test_X, test_y = synthetic(1_500, seed=2)
    return churn_models_compare(train_X, train_y, test_X, test_y, seed=0), test_X, test_y


def test_every_model_is_compared_and_the_best_has_the_highest_auc(comparison):
    result, _, _ = comparison
    assert [e.name for e in result.evaluations] == list(MODEL_NAMES)
    assert result.best.roc_auc == max(e.roc_auc for e in result.evaluations)
    assert all(e.roc_auc > 0.75 for e in result.evaluations)  # the signal is strong: every model finds it


def test_figures_match_a_hand_computation(comparison):
    result, test_X, test_y = comparison
    for evaluation in result.evaluations:
        risk = churn_risk(result.pipelines[evaluation.name], test_X)
        predicted = risk >= 0.5
        tp = int(np.sum(predicted & (test_y == 1)))
        fp = int(np.sum(predicted & (test_y == 0)))
        fn = int(np.sum(~predicted & (test_y == 1)))
        tn = int(np.sum(~predicted & (test_y == 0)))
        assert evaluation.confusion_matrix == [[tn, fp], [fn, tp]]
        assert evaluation.accuracy == pytest.approx((tp + tn) / len(test_y))
        assert evaluation.precision == pytest.approx(tp / (tp + fp))
        assert evaluation.recall == pytest.approx(tp / (tp + fn))
        assert evaluation.f1 == pytest.approx(2 * tp / (2 * tp + fp + fn))
        assert evaluation.roc_auc == pytest.approx(auc_by_ranks(test_y, risk))
        assert evaluation.test_rows == len(test_y) and evaluation.train_rows == 4_000
        assert evaluation.test_churn_share == pytest.approx(test_y.mean())


def test_calibration_bins_cover_the_test_rows(comparison):
    result, test_X, test_y = comparison
    evaluation = next(e for e in result.evaluations if e.name == "logistic_regression")
    assert 5 <= len(evaluation.calibration) <= 10
    predicted = [b["predicted"] for b in evaluation.calibration]
    assert predicted == sorted(predicted)  # quantile bins, lowest risk first
    # Equal-count bins: their mean observed churn is the test churn share.
    observed = np.mean([b["observed"] for b in evaluation.calibration])
    assert observed == pytest.approx(test_y.mean(), abs=0.03)


def test_importance_puts_the_drivers_first(comparison):
    result, _, _ = comparison
    for evaluation in result.evaluations:
        top = [row["feature"] for row in evaluation.importance[:2]]
        assert set(top) == {"recency_days", "frequency_90d"}, (evaluation.name, top)


def test_one_class_training_data_is_refused():
    train_X, _ = synthetic(200, seed=3)
    with pytest.raises(ValueError, match="only one class"):
        churn_models_compare(train_X, np.ones(200, dtype=int), train_X, np.ones(200, dtype=int))


def test_evaluation_without_importance_on_a_fitted_model(comparison):
    result, test_X, test_y = comparison
    evaluation = churn_evaluate("decision_tree", result.pipelines["decision_tree"], test_X, test_y, importance=False)
    assert evaluation.importance == []
    assert evaluation.confusion_matrix[0][0] + evaluation.confusion_matrix[1][1] == round(
        evaluation.accuracy * len(test_y)
    )
