"""Dashboard REST API: every figure of the overview page in one response."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.dashboard.figures import share
from reports.dashboard.selectors import ACTIVE_DAYS, DashboardOverview, dashboard_overview

VIEW_PERMISSION = "customers.view_order"


def dashboard_data(overview: DashboardOverview) -> dict:
    """Plain numbers of the overview, shared by the API, the page's charts and the CSV files."""
    snapshot = overview.snapshot
    revenue = overview.revenue
    return {
        "today": overview.today,
        "as_of": snapshot.as_of if snapshot else None,
        "sales_as_of": overview.sales_as_of,
        "customers": snapshot.customers if snapshot else None,
        "active_customers": snapshot.active_customers if snapshot else None,
        "active_days": ACTIVE_DAYS,
        "buyers": snapshot.buyers if snapshot else None,
        "repeat_buyers": snapshot.repeat_buyers if snapshot else None,
        "repurchase_rate": overview.repurchase_rate,
        "revenue": {
            "days": revenue.days,
            "current_start": revenue.current_start,
            "current_revenue": revenue.current_revenue,
            "current_orders": revenue.current_orders,
            "previous_start": revenue.previous_start,
            "previous_revenue": revenue.previous_revenue,
            "previous_orders": revenue.previous_orders,
            "change": revenue.change,
        },
        "daily": [
            {
                "day": row.day,
                "orders": row.orders,
                "revenue": row.revenue,
                "buyers": row.buyers,
                "new_buyers": row.new_buyers,
            }  # fmt: skip
            for row in overview.daily
        ],
        "churn_scored": snapshot.churn_scored if snapshot else None,
        "churn_risk": overview.churn_histogram,
        "segments": [
            row | {"share": share(row["size"], snapshot.customers) if snapshot else None} for row in overview.segments
        ],  # fmt: skip
        "campaigns": overview.campaigns,
        "nps": overview.nps_months,
        "sentiment": overview.sentiment_months,
    }


class RevenueSerializer(serializers.Serializer):
    class Meta:
        ref_name = "DashboardRevenue"

    days = serializers.IntegerField(help_text="Length of each window in days.")
    current_start = serializers.DateField(help_text="First day of the last window (which ends today).")
    current_revenue = serializers.DecimalField(max_digits=18, decimal_places=2)
    current_orders = serializers.IntegerField()
    previous_start = serializers.DateField()
    previous_revenue = serializers.DecimalField(max_digits=18, decimal_places=2)
    previous_orders = serializers.IntegerField()
    change = serializers.FloatField(
        allow_null=True, help_text="Relative change of revenue; null without revenue before."
    )


class SalesDaySerializer(serializers.Serializer):
    class Meta:
        ref_name = "DashboardSalesDay"

    day = serializers.DateField()
    orders = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=18, decimal_places=2)
    buyers = serializers.IntegerField()
    new_buyers = serializers.IntegerField(help_text="Customers whose first placed order was this day.")


class ChurnBinSerializer(serializers.Serializer):
    class Meta:
        ref_name = "DashboardChurnBin"

    lower = serializers.FloatField()
    upper = serializers.FloatField(help_text="Excluded, except 1.0 in the last bin.")
    customers = serializers.IntegerField()
    share = serializers.FloatField(allow_null=True)


class SegmentSizeSerializer(serializers.Serializer):
    class Meta:
        ref_name = "DashboardSegment"

    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    size = serializers.IntegerField(help_text="Members at the segment's last refresh.")
    refreshed_at = serializers.DateTimeField(allow_null=True)
    share = serializers.FloatField(allow_null=True, help_text="Size over all customers.")


class CampaignRoiSerializer(serializers.Serializer):
    class Meta:
        ref_name = "DashboardCampaign"

    id = serializers.IntegerField()
    name = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField()
    launched_at = serializers.DateTimeField(allow_null=True)
    sent = serializers.IntegerField()
    conversions = serializers.IntegerField(help_text="Orders credited to the campaign's messages (holdout excluded).")
    revenue = serializers.DecimalField(max_digits=18, decimal_places=2)
    cost = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="Fixed cost + cost per message × sent.")
    roi = serializers.FloatField(allow_null=True, help_text="(revenue − cost) / cost; null without cost.")


class NpsMonthSerializer(serializers.Serializer):
    class Meta:
        ref_name = "DashboardNpsMonth"

    month = serializers.DateField()
    responses = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    nps = serializers.FloatField(allow_null=True)


class SentimentMonthSerializer(serializers.Serializer):
    class Meta:
        ref_name = "DashboardSentimentMonth"

    month = serializers.DateField()
    reviews = serializers.IntegerField()
    mean_score = serializers.FloatField(allow_null=True, help_text="Mean sentiment score, −1..1.")
    positive = serializers.IntegerField()
    neutral = serializers.IntegerField()
    negative = serializers.IntegerField()


class DashboardApi(APIView):
    """The overview dashboard. Snapshot figures (customers, active customers, repurchase
    rate, churn risk, campaigns, NPS, sentiment) are as of ``as_of`` (null before the first
    refresh); sales are as of ``sales_as_of``; segment sizes as of each segment's refresh."""

    required_permissions = {"GET": VIEW_PERMISSION}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Dashboard"

        today = serializers.DateField(help_text="Today in the shop's time zone.")
        as_of = serializers.DateTimeField(allow_null=True)
        sales_as_of = serializers.DateTimeField(allow_null=True)
        customers = serializers.IntegerField(allow_null=True)
        active_customers = serializers.IntegerField(allow_null=True, help_text="A placed order or any event in the "
                                                    "last active_days days.")  # fmt: skip
        active_days = serializers.IntegerField()
        buyers = serializers.IntegerField(allow_null=True, help_text="Customers with a placed order.")
        repeat_buyers = serializers.IntegerField(allow_null=True, help_text="Customers with two or more placed orders.")
        repurchase_rate = serializers.FloatField(allow_null=True, help_text="repeat_buyers / buyers.")
        revenue = RevenueSerializer()
        daily = SalesDaySerializer(many=True, help_text="The last 90 days, today last.")
        churn_scored = serializers.IntegerField(allow_null=True)
        churn_risk = ChurnBinSerializer(many=True)
        segments = SegmentSizeSerializer(many=True)
        campaigns = CampaignRoiSerializer(many=True)
        nps = NpsMonthSerializer(many=True)
        sentiment = SentimentMonthSerializer(many=True)

    @extend_schema(summary="Overview dashboard", responses={200: OutputSerializer})
    def get(self, request):
        return Response(self.OutputSerializer(dashboard_data(dashboard_overview())).data)
