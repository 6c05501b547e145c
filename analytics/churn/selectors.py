"""Reads for the churn page and API: versions, and the figures shaped for display."""

from typing import Any

from django.db.models import QuerySet

from analytics.models import ChurnModel


def churn_models(*, limit: int = 20) -> QuerySet[ChurnModel]:
    """Latest versions first, without the pickled pipelines."""
    return ChurnModel.objects.defer("pipelines").select_related("job", "created_by")[:limit]


def churn_model_active() -> ChurnModel | None:
    return ChurnModel.objects.defer("pipelines").filter(active=True).first()


def churn_comparison_rows(version: ChurnModel) -> list[dict[str, Any]]:
    """One row per candidate plus the recency-only baseline, best AUC first."""
    rows = [{**row, "baseline": False, "chosen": row["name"] == version.chosen} for row in version.evaluations]
    rows.sort(key=lambda row: -row["roc_auc"])
    if version.baseline:
        rows.append({**version.baseline, "baseline": True, "chosen": False})
    return rows
