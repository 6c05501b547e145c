"""Churn models: four scikit-learn classifiers compared on a time-based split, with the
figures marketers see (ROC AUC, accuracy, precision, recall, F1, confusion matrix,
calibration curve, feature importance). Pure: DataFrames and arrays in, results out.

The positive class is "churned": no purchase in the H days after the cutoff. A risk is the
predicted probability of that.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.calibration import calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

EVENT_COUNT_COLUMNS = tuple(
    f"{kind}_{days}d" for kind in ("view", "search", "add_to_cart", "favorite") for days in (30, 90)
)
RAW_COLUMNS = (
    "recency_days", "first_order_days", "tenure_days", "last_event_days",
    "frequency", "frequency_30d", "frequency_90d", "frequency_365d",
    "monetary", "monetary_30d", "monetary_90d", "monetary_365d",
    "avg_order_value", "coupon_orders", "coupon_share",
    *EVENT_COUNT_COLUMNS,
    "review_count", "avg_rating", "email_opt_in", "sms_opt_in",
)  # fmt: skip
TRAIN_SAMPLE = 200_000  # rows the candidates are fitted on (stratified); more adds minutes, not AUC
IMPORTANCE_SAMPLE = 10_000  # test rows permutation importance is computed on
THREADED_FROM = 50_000  # fewer training rows fit faster on one thread (no start-up and sync cost)
CALIBRATION_BINS = 10
THRESHOLD = 0.5

Progress = Callable[[float, str], None]


def _no_progress(share: float, step: str) -> None:
    return None


def signed_log1p(values: np.ndarray) -> np.ndarray:
    """log1p that keeps the sign (a refund can make spend negative): counts and amounts are
    heavy-tailed, and a linear model wants them compressed."""
    return np.sign(values) * np.log1p(np.abs(values))


def _candidates(seed: int) -> dict[str, Pipeline]:
    # Unknown times (never ordered, no events) are imputed with a large value: "long ago".
    impute = SimpleImputer(strategy="constant", fill_value=10_000.0, keep_empty_features=True)
    return {
        "logistic_regression": Pipeline([
            ("impute", clone(impute)), ("log", FunctionTransformer(signed_log1p, feature_names_out="one-to-one")),
            ("scale", StandardScaler()), ("model", LogisticRegression(max_iter=2_000, C=1.0)),
        ]),
        "decision_tree": Pipeline([
            ("impute", clone(impute)),
            ("model", DecisionTreeClassifier(max_depth=6, min_samples_leaf=50, random_state=seed)),
        ]),
        "random_forest": Pipeline([
            ("impute", clone(impute)),
            ("model", RandomForestClassifier(n_estimators=100, max_depth=12, min_samples_leaf=20, n_jobs=-1,
                                             random_state=seed)),
        ]),
        "gradient_boosting": Pipeline([
            ("impute", clone(impute)),  # its own NaN handling breaks on a column with no value at all
            ("model", HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed)),
        ]),
    }  # fmt: skip


MODEL_NAMES = tuple(_candidates(0))


@dataclass
class ChurnEvaluation:
    """How one fitted candidate did on the later (test) cutoff."""

    name: str
    roc_auc: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    confusion_matrix: list[list[int]]  # [[true kept, false churn], [missed churn, true churn]]
    calibration: list[dict[str, float]]  # per bin: mean predicted risk, observed churn share
    importance: list[dict[str, float]] = field(default_factory=list)  # strongest first
    train_rows: int = 0
    test_rows: int = 0
    test_churn_share: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChurnComparison:
    evaluations: list[ChurnEvaluation]
    pipelines: dict[str, Pipeline]

    @property
    def best(self) -> ChurnEvaluation:
        """Highest ROC AUC (ties: the simpler model, in MODEL_NAMES order)."""
        return max(self.evaluations, key=lambda e: (e.roc_auc, -MODEL_NAMES.index(e.name)))


def _stratified_sample(y: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    if len(y) <= size:
        return np.arange(len(y))
    picked = []
    for value in np.unique(y):
        rows = np.flatnonzero(y == value)
        picked.append(rng.choice(rows, size=max(1, round(size * len(rows) / len(y))), replace=False))
    return np.sort(np.concatenate(picked))


def churn_evaluate(name: str, pipeline: Pipeline, X: pd.DataFrame, y: np.ndarray, *, seed: int = 0,
                   importance: bool = True) -> ChurnEvaluation:  # fmt: skip
    """The figures of a fitted pipeline on held-out rows."""
    risk = pipeline.predict_proba(X)[:, 1]
    predicted = (risk >= THRESHOLD).astype(int)
    matrix = confusion_matrix(y, predicted, labels=[0, 1])
    observed, mean_risk = calibration_curve(y, risk, n_bins=CALIBRATION_BINS, strategy="quantile")
    evaluation = ChurnEvaluation(
        name=name,
        roc_auc=float(roc_auc_score(y, risk)) if len(np.unique(y)) == 2 else float("nan"),
        accuracy=float(accuracy_score(y, predicted)),
        precision=float(precision_score(y, predicted, zero_division=0)),
        recall=float(recall_score(y, predicted, zero_division=0)),
        f1=float(f1_score(y, predicted, zero_division=0)),
        confusion_matrix=matrix.astype(int).tolist(),
        calibration=[{"predicted": float(p), "observed": float(o)} for p, o in zip(mean_risk, observed, strict=True)],
        test_rows=len(y),
        test_churn_share=float(np.mean(y)) if len(y) else 0.0,
    )
    if importance and len(np.unique(y)) == 2:
        rows = _stratified_sample(y, IMPORTANCE_SAMPLE, np.random.default_rng(seed))
        with threadpool_limits(limits=1):  # many small predictions: threads only add overhead
            result = permutation_importance(pipeline, X.iloc[rows], y[rows], scoring="roc_auc", n_repeats=3,
                                            random_state=seed)  # fmt: skip
        order = np.argsort(-result.importances_mean)
        evaluation.importance = [
            {"feature": str(X.columns[i]), "importance": float(result.importances_mean[i])} for i in order
        ]
    return evaluation


def churn_models_compare(
    train_X: pd.DataFrame,
    train_y: np.ndarray,
    test_X: pd.DataFrame,
    test_y: np.ndarray,
    *,
    seed: int = 0,
    names: tuple[str, ...] = MODEL_NAMES,
    progress: Progress = _no_progress,
) -> ChurnComparison:
    """Fit each candidate on the earlier cutoff (a stratified sample of at most
    TRAIN_SAMPLE rows) and evaluate it on the later one."""
    train_y, test_y = np.asarray(train_y, dtype=int), np.asarray(test_y, dtype=int)
    if len(np.unique(train_y)) < 2:
        raise ValueError("the training cutoff has only one class: nobody (or everybody) churned")
    rows = _stratified_sample(train_y, TRAIN_SAMPLE, np.random.default_rng(seed))
    fit_X, fit_y = train_X.iloc[rows][list(RAW_COLUMNS)], train_y[rows]
    test_X = test_X[list(RAW_COLUMNS)]
    candidates = _candidates(seed)
    threads = None if len(fit_y) >= THREADED_FROM else 1
    evaluations, pipelines = [], {}
    for done, name in enumerate(names):
        progress(done / len(names), name)
        pipeline = candidates[name]
        if name == "random_forest":
            pipeline.set_params(model__n_jobs=-1 if threads is None else 1)
        with threadpool_limits(limits=threads):
            pipeline.fit(fit_X, fit_y)
        evaluation = churn_evaluate(name, pipeline, test_X, test_y, seed=seed)
        evaluation.train_rows = len(fit_y)
        evaluations.append(evaluation)
        pipelines[name] = pipeline
    progress(1.0, "done")
    return ChurnComparison(evaluations=evaluations, pipelines=pipelines)


def churn_risk(pipeline: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """Probability of churn for each row."""
    return pipeline.predict_proba(X[list(RAW_COLUMNS)])[:, 1]
