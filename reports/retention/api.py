"""Retention REST API: the cohort matrix, repurchase rate and active customers."""

from __future__ import annotations

import numpy as np
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.retention.cohorts import PERIODS, Retention
from reports.retention.refresh import retention_refreshed_at
from reports.retention.selectors import retention_report
from segments.models import Segment

VIEW_PERMISSION = "customers.view_order"
MAX_COHORTS = 120


def retention_data(retention: Retention) -> dict:
    """Plain numbers of a computed report, shared by the API and the CSV downloads."""
    return {
        "period": retention.period,
        "cohorts": retention.periods,
        "sizes": [int(size) for size in retention.sizes],
        "matrix": [[None if np.isnan(value) else float(value) for value in row] for row in retention.matrix],
        "repeat_customers": [int(count) for count in retention.repeat_customers],
        "cohort_repurchase_rates": retention.cohort_repurchase_rates,
        "customers": retention.customers,
        "repurchase_rate": retention.repurchase_rate,
        "active": [
            {"period": start, "active": int(active), "new": int(new), "returning": int(active - new)}
            for start, active, new in zip(retention.periods, retention.active, retention.new, strict=True)
        ],
    }


class ActivePeriodSerializer(serializers.Serializer):
    class Meta:
        ref_name = "RetentionActivePeriod"

    period = serializers.DateField(help_text="First day of the period.")
    active = serializers.IntegerField(help_text="Customers with at least one placed order in the period.")
    new = serializers.IntegerField(help_text="Of them, customers whose first order it was.")
    returning = serializers.IntegerField(help_text="Of them, customers acquired earlier.")


class RetentionApi(APIView):
    """Acquisition cohorts (the period of each customer's first placed order) of the last
    ``cohorts`` months or weeks: ``matrix[i][k]`` is the share of cohort i's customers who
    ordered k periods after their first (1.0 at k = 0; ``null`` past today). The
    repurchase rate is the share of cohort customers with two or more orders. The figures
    are as of the last rebuild of the retention tables (hourly for new orders, nightly in
    full): ``refreshed_at``."""

    required_permissions = {"GET": VIEW_PERMISSION}

    class InputSerializer(serializers.Serializer):
        period = serializers.ChoiceField(choices=PERIODS, default="month")
        segment = serializers.PrimaryKeyRelatedField(queryset=Segment.objects.all(), required=False, allow_null=True,
                                                     help_text="Only the current members of this segment.")  # fmt: skip
        cohorts = serializers.IntegerField(min_value=1, max_value=MAX_COHORTS, required=False,
                                           help_text="How many periods (default 12 months or 26 weeks).")  # fmt: skip

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Retention"

        period = serializers.ChoiceField(choices=PERIODS)
        segment = serializers.IntegerField(allow_null=True)
        cohorts = serializers.ListField(child=serializers.DateField(), help_text="First day of each cohort's period.")
        sizes = serializers.ListField(child=serializers.IntegerField())
        matrix = serializers.ListField(child=serializers.ListField(child=serializers.FloatField(allow_null=True)))
        repeat_customers = serializers.ListField(child=serializers.IntegerField())
        cohort_repurchase_rates = serializers.ListField(child=serializers.FloatField(allow_null=True))
        customers = serializers.IntegerField()
        repurchase_rate = serializers.FloatField(allow_null=True)
        active = ActivePeriodSerializer(many=True)
        refreshed_at = serializers.DateTimeField(
            allow_null=True, help_text="When the retention tables were last rebuilt from the orders (null: never)."
        )

    @extend_schema(summary="Cohort retention", parameters=[InputSerializer], responses={200: OutputSerializer})
    def get(self, request):
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        segment = query.validated_data.get("segment")
        retention = retention_report(period=query.validated_data["period"], cohorts=query.validated_data.get("cohorts"),
                                     segment_id=segment.pk if segment else None)  # fmt: skip
        data = retention_data(retention) | {"segment": segment.pk if segment else None,
                                            "refreshed_at": retention_refreshed_at()}  # fmt: skip
        return Response(self.OutputSerializer(data).data)
