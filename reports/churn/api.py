"""Churn analysis REST API: the latest training's model comparison and churn drivers, the
distribution of current risks and the valuable customers at risk. Read-only: training and
scoring are analytics' (``/api/churn/models/``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.churn.views import MODEL_LABELS
from analytics.models import ChurnModel
from reports.churn.selectors import (
    DEFAULT_AT_RISK_LIMIT,
    DEFAULT_BINS,
    MAX_AT_RISK_LIMIT,
    VALUES,
    AtRisk,
    churn_drivers,
    churn_model_comparison,
    churn_risk_distribution,
    churn_training_latest,
    customers_at_risk,
)

VIEW_PERMISSION = "analytics.view_churnmodel"
MAX_BINS = 50
TRAINING_FIELDS = ("id", "created_at", "finished_at", "horizon_days", "train_cutoff", "test_cutoff", "chosen", "active")


def training_data(training: ChurnModel | None) -> dict | None:
    if training is None:
        return None
    return {field: getattr(training, field) for field in TRAINING_FIELDS}


def comparison_data(training: ChurnModel | None) -> list[dict]:
    if training is None:
        return []
    rows = churn_model_comparison(training)
    return [row | {"label": str(MODEL_LABELS.get(row["name"], row["name"]))} for row in rows]


def at_risk_data(at_risk: AtRisk) -> dict:
    return {"threshold": at_risk.threshold, "value": at_risk.value, "customers": at_risk.customers,
            "value_at_stake": at_risk.value_at_stake, "top": at_risk.top}  # fmt: skip


def churn_report_data(*, threshold: float | None = None, value: str | None = None,
                      limit: int = DEFAULT_AT_RISK_LIMIT, bins: int = DEFAULT_BINS) -> dict:  # fmt: skip
    """Every part of the report as plain numbers, shared by the API, the page and the CSVs."""
    training = churn_training_latest()
    distribution = churn_risk_distribution(bins=bins)
    return {
        "training": training_data(training),
        "comparison": comparison_data(training),
        "drivers": churn_drivers(training) if training else [],
        "distribution": distribution,
        "scored_customers": sum(row["customers"] for row in distribution),
        "at_risk": at_risk_data(customers_at_risk(threshold=threshold, value=value, limit=limit)),
    }


class ChurnTrainingSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ChurnReportTraining"

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    horizon_days = serializers.IntegerField(help_text="Churned = no purchase in this many days after a cutoff.")
    train_cutoff = serializers.DateTimeField(allow_null=True)
    test_cutoff = serializers.DateTimeField(allow_null=True)
    chosen = serializers.CharField(help_text="The model that scores customers.")
    active = serializers.BooleanField(help_text="Whether this training's model scores customers now.")


class ChurnComparisonSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ChurnReportComparison"

    name = serializers.CharField()
    label = serializers.CharField()
    baseline = serializers.BooleanField(help_text="The recency-only baseline (ROC AUC only).")
    chosen = serializers.BooleanField()
    roc_auc = serializers.FloatField(allow_null=True)
    accuracy = serializers.FloatField(allow_null=True)
    precision = serializers.FloatField(allow_null=True)
    recall = serializers.FloatField(allow_null=True)
    f1 = serializers.FloatField(allow_null=True)


class ChurnDriverSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ChurnReportDriver"

    feature = serializers.CharField()
    importance = serializers.FloatField(help_text="Drop in ROC AUC when the feature is shuffled.")


class RiskBinSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ChurnReportRiskBin"

    low = serializers.FloatField()
    high = serializers.FloatField()
    customers = serializers.IntegerField(help_text="Customers with low ≤ risk < high (the last bin includes 1).")


class AtRiskCustomerSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ChurnReportAtRiskCustomer"

    customer_id = serializers.IntegerField()
    external_id = serializers.CharField()
    name = serializers.CharField()
    churn_risk = serializers.FloatField()
    spend = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True, help_text="All-time spend.")
    clv = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True,
                                   help_text="Customer lifetime value (null until a CLV fit scored them).")  # fmt: skip


class AtRiskSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ChurnReportAtRisk"

    threshold = serializers.FloatField()
    value = serializers.ChoiceField(choices=VALUES)
    customers = serializers.IntegerField(help_text="Customers whose current risk is at least the threshold.")
    value_at_stake = serializers.DecimalField(max_digits=20, decimal_places=2,
                                              help_text="Their summed value (CLV or spend).")  # fmt: skip
    top = AtRiskCustomerSerializer(many=True, help_text="The most valuable of them.")


class ChurnReportApi(APIView):
    """The churn analysis: the latest finished training's models next to the recency-only
    baseline, what drives churn for the chosen model, how the current risks are
    distributed, and the customers at risk (risk ≥ threshold) ordered by value. ``training``
    is ``null`` and the lists empty before the first training."""

    required_permissions = {"GET": VIEW_PERMISSION}

    class InputSerializer(serializers.Serializer):
        threshold = serializers.FloatField(
            min_value=0.0, max_value=1.0, required=False,
            help_text="At risk from this churn risk on (default: the alert threshold).",
        )  # fmt: skip
        value = serializers.ChoiceField(
            choices=VALUES, required=False, help_text="Order by CLV or all-time spend (default: CLV once a fit scored)."
        )
        limit = serializers.IntegerField(min_value=1, max_value=MAX_AT_RISK_LIMIT, default=DEFAULT_AT_RISK_LIMIT)
        bins = serializers.IntegerField(min_value=1, max_value=MAX_BINS, default=DEFAULT_BINS)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ChurnReport"

        training = ChurnTrainingSerializer(allow_null=True)
        comparison = ChurnComparisonSerializer(many=True)
        drivers = ChurnDriverSerializer(many=True)
        distribution = RiskBinSerializer(many=True)
        scored_customers = serializers.IntegerField()
        at_risk = AtRiskSerializer()

    @extend_schema(summary="Churn analysis", parameters=[InputSerializer], responses={200: OutputSerializer})
    def get(self, request):
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(self.OutputSerializer(churn_report_data(**query.validated_data)).data)
