"""Campaign report REST API: the list of campaigns with their key figures and ROI, and one
campaign's full report (per-group table, lift against the holdout, cumulative conversions
by day since the send, the verdict)."""

from __future__ import annotations

import math
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import Campaign
from reports.campaigns.selectors import (
    CampaignReport,
    campaign_report,
    campaign_report_list,
    campaign_summaries,
)

VIEW_PERMISSION = "campaigns.view_campaign"


def _number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def report_data(report: CampaignReport) -> dict[str, Any]:
    """Plain numbers of a computed report, shared by the API and the CSV downloads."""
    campaign = report.campaign

    def plain(row: Any) -> dict[str, Any]:
        return {name: _number(value) for name, value in row.__dict__.items()}

    cumulative = report.cumulative
    return {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "status": campaign.status,
            "channel": campaign.channel,
            "launched_at": campaign.launched_at,
            "holdout_percent": campaign.holdout_percent,
            "conversion_window_days": campaign.conversion_window_days,
            "fixed_cost": float(campaign.fixed_cost),
            "cost_per_message": float(campaign.cost_per_message),
            "budget": None if campaign.budget is None else float(campaign.budget),
        },
        "groups": [plain(group) for group in report.groups],
        "total": plain(report.total),
        "lifts": [plain(lift) for lift in report.lifts],
        "cumulative": [
            {column: _number(value.item() if hasattr(value, "item") else value) for column, value in row.items()}
            for row in cumulative.to_dict("records")
        ],
        "verdict": report.verdict.as_dict(),
        "test_verdict": report.test_verdict.as_dict() if report.test_verdict else None,
        "in_test_only": report.in_test_only,
    }


class GroupSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampaignReportGroup"

    kind = serializers.ChoiceField(choices=["variant", "holdout", "unassigned", "total"])
    key = serializers.CharField(help_text="Variant key; 'holdout'; '' for the not-yet-assigned rest; 'total'.")
    name = serializers.CharField()
    audience = serializers.IntegerField(help_text="Messages frozen for the group (skipped ones included).")
    recipients = serializers.IntegerField(help_text="Messages sent; for the holdout, its members.")
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField(help_text="Sent minus bounced.")
    bounces = serializers.IntegerField()
    opens = serializers.IntegerField()
    open_rate = serializers.FloatField(allow_null=True, help_text="Opened / sent.")
    clicks = serializers.IntegerField()
    click_rate = serializers.FloatField(allow_null=True, help_text="Click-through rate: clicked / sent.")
    converters = serializers.IntegerField(help_text="Recipients with at least one credited order.")
    conversions = serializers.IntegerField(help_text="Credited orders.")
    conversion_rate = serializers.FloatField(allow_null=True, help_text="Converters / recipients.")
    revenue = serializers.FloatField(help_text="Total of the credited orders.")
    revenue_per_recipient = serializers.FloatField(allow_null=True)
    cost = serializers.FloatField(help_text="Per message × sent, plus the fixed cost shared by messages sent.")
    roi = serializers.FloatField(allow_null=True, help_text="(revenue − cost) / cost; null without cost.")
    redemptions = serializers.IntegerField(help_text="Accepted coupon redemptions of the codes sent.")
    unsubscribes = serializers.IntegerField()
    unsubscribe_rate = serializers.FloatField(allow_null=True)


class LiftSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampaignReportLift"

    key = serializers.CharField(help_text="'recipients' (every variant together) or a variant key.")
    recipients = serializers.IntegerField()
    holdout = serializers.IntegerField()
    conversion_rate = serializers.FloatField(allow_null=True)
    holdout_conversion_rate = serializers.FloatField(allow_null=True)
    conversion_difference = serializers.FloatField(allow_null=True, help_text="Rate units (0.01 = 1 point).")
    conversion_low = serializers.FloatField(allow_null=True)
    conversion_high = serializers.FloatField(allow_null=True)
    conversion_p_value = serializers.FloatField(allow_null=True)
    incremental_conversions = serializers.FloatField(allow_null=True)
    incremental_conversions_low = serializers.FloatField(allow_null=True)
    incremental_conversions_high = serializers.FloatField(allow_null=True)
    revenue_per_recipient = serializers.FloatField(allow_null=True)
    holdout_revenue_per_recipient = serializers.FloatField(allow_null=True)
    revenue_difference = serializers.FloatField(allow_null=True, help_text="Per recipient (Welch).")
    revenue_low = serializers.FloatField(allow_null=True)
    revenue_high = serializers.FloatField(allow_null=True)
    revenue_p_value = serializers.FloatField(allow_null=True)
    incremental_revenue = serializers.FloatField(allow_null=True)
    incremental_revenue_low = serializers.FloatField(allow_null=True)
    incremental_revenue_high = serializers.FloatField(allow_null=True)
    cost = serializers.FloatField()
    incremental_roi = serializers.FloatField(allow_null=True, help_text="(incremental revenue − cost) / cost.")
    incremental_roi_low = serializers.FloatField(allow_null=True)
    incremental_roi_high = serializers.FloatField(allow_null=True)
    payback = serializers.FloatField(allow_null=True, help_text="Incremental revenue / cost.")


class CumulativeDaySerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampaignReportDay"

    group = serializers.CharField()
    day = serializers.IntegerField(help_text="Whole days since the message was sent.")
    conversions = serializers.IntegerField()
    revenue = serializers.FloatField()
    cumulative_conversions = serializers.IntegerField()
    cumulative_revenue = serializers.FloatField()
    cumulative_revenue_per_recipient = serializers.FloatField(allow_null=True)


class SentenceSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampaignReportSentence"

    code = serializers.CharField()
    params = serializers.DictField(child=serializers.CharField())
    text = serializers.CharField()


class VerdictSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampaignReportVerdict"

    text = serializers.CharField(help_text="The verdict in plain words, in the request's language.")
    sentences = SentenceSerializer(many=True)


class CampaignFactsSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampaignReportCampaign"

    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    channel = serializers.CharField()
    launched_at = serializers.DateTimeField(allow_null=True)
    holdout_percent = serializers.FloatField()
    conversion_window_days = serializers.IntegerField()
    fixed_cost = serializers.FloatField()
    cost_per_message = serializers.FloatField()
    budget = serializers.FloatField(allow_null=True)


class CampaignSummarySerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampaignReportSummary"

    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    channel = serializers.CharField()
    launched_at = serializers.DateTimeField(allow_null=True)
    sent = serializers.IntegerField(help_text="Messages sent (the dispatches' counters).")
    conversions = serializers.IntegerField(help_text="Orders credited to recipients (not the holdout).")
    revenue = serializers.FloatField()
    cost = serializers.FloatField()
    roi = serializers.FloatField(allow_null=True)


class CampaignReportListApi(ListAPIView):
    """Launched campaigns, newest first, with messages sent, attributed conversions and
    revenue, cost and ROI (paginated: ``?page=``)."""

    required_permissions = {"GET": VIEW_PERMISSION}
    serializer_class = CampaignSummarySerializer

    def get_queryset(self):
        return campaign_report_list()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(campaign_summaries(page), many=True).data)

    @extend_schema(summary="Campaign reports: key figures and ROI per campaign")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CampaignReportApi(APIView):
    """One campaign: per variant, the holdout and the total — audience, sent, delivered,
    open, click-through and conversion rates, revenue (credited orders), revenue per
    recipient, cost, ROI, coupon redemptions, unsubscribes; the lift of all recipients and
    of each variant against the holdout (conversion rate and revenue per recipient with
    95 % intervals, incremental conversions, revenue and ROI); conversions and revenue
    accumulated over the days since the send; and the verdict in plain words."""

    required_permissions = {"GET": VIEW_PERMISSION}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampaignReport"

        campaign = CampaignFactsSerializer()
        groups = GroupSerializer(many=True)
        total = GroupSerializer()
        lifts = LiftSerializer(many=True, help_text="Empty without a holdout.")
        cumulative = CumulativeDaySerializer(many=True)
        verdict = VerdictSerializer()
        test_verdict = SentenceSerializer(allow_null=True, help_text="The A/B comparison's verdict (2+ variants).")
        in_test_only = serializers.BooleanField()

    @extend_schema(summary="One campaign's report", responses={200: OutputSerializer})
    def get(self, request, campaign_id: int):
        get_object_or_404(Campaign, pk=campaign_id)
        return Response(self.OutputSerializer(report_data(campaign_report(campaign_id=campaign_id))).data)
