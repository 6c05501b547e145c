"""Campaigns REST API: create and edit drafts, preview a variant for a customer, launch,
pause, resume, cancel and duplicate; read the progress of the latest send, the variant
comparison and the audit trail. One view per operation; services do the writing.

Refusals are ``400 {"errors": [{"field", "code", "message"}]}`` with the codes of
``campaigns.errors.CampaignErrorCode`` (launch lists every problem at once).
"""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.errors import CampaignError, CampaignErrorCode
from campaigns.models import Campaign, Channel
from campaigns.selectors import (
    campaign_comparison,
    campaign_events,
    campaign_get,
    campaign_list,
    campaign_progress,
    customer_find,
    variant_preview,
)
from campaigns.services import (
    campaign_cancel,
    campaign_create,
    campaign_duplicate,
    campaign_launch,
    campaign_launch_problems,
    campaign_pause,
    campaign_resume,
    campaign_update,
)


class CampaignErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="The input at fault, e.g. holdout_percent or variants[1].subject."
    )
    code = serializers.CharField(help_text="e.g. required, out_of_range, bad_template, no_audience, not_allowed")
    message = serializers.CharField()


class CampaignErrorsSerializer(serializers.Serializer):
    errors = CampaignErrorSerializer(many=True)


def _refused(errors: list[CampaignError], status: int = 400) -> Response:
    rows = [{"field": error.field, "code": error.code.value, "message": error.message} for error in errors]
    return Response({"errors": rows}, status=status)


class WallClockDateTimeField(serializers.DateTimeField):
    """A time without an offset is kept as wall-clock time: the service reads it in the
    campaign's time zone."""

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            return value
        return super().enforce_timezone(value)


class VariantSerializer(serializers.Serializer):
    key = serializers.CharField(
        max_length=8, required=False, allow_blank=True, help_text="A, B, … (given in order when left out)."
    )
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    weight = serializers.IntegerField(
        required=False, default=1, help_text="Share of the audience, relative to the other variants (≥ 1)."
    )
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    body_text = serializers.CharField(required=False, allow_blank=True, default="")
    body_html = serializers.CharField(required=False, allow_blank=True, default="")


class RecurrenceSerializer(serializers.Serializer):
    minute = serializers.CharField(required=False, allow_blank=True)
    hour = serializers.CharField(required=False, allow_blank=True)
    day_of_week = serializers.CharField(required=False, allow_blank=True)
    day_of_month = serializers.CharField(required=False, allow_blank=True)
    month_of_year = serializers.CharField(required=False, allow_blank=True)


class CampaignFieldsSerializer(serializers.Serializer):
    """Every writable field (all optional: PATCH changes what it names)."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    goal = serializers.ChoiceField(choices=Campaign.Goal.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    audience_segment_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    exclusion_segment_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    tiers = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Tier-only offer; empty: every tier."
    )
    coupon_pool_id = serializers.IntegerField(required=False, allow_null=True)
    variants = VariantSerializer(many=True, required=False, help_text="Replaces the whole list (matched by key).")
    schedule_kind = serializers.ChoiceField(choices=Campaign.ScheduleKind.choices, required=False)
    send_at = WallClockDateTimeField(
        required=False, allow_null=True, help_text="For schedule_kind=at. Without an offset: in time_zone."
    )
    time_zone = serializers.CharField(max_length=64, required=False, help_text="IANA name, e.g. Asia/Shanghai.")
    recurrence = RecurrenceSerializer(required=False, help_text="Crontab fields for schedule_kind=recurring.")
    trigger = serializers.ChoiceField(choices=Campaign.Trigger.choices, required=False, allow_blank=True)
    trigger_segment_id = serializers.IntegerField(required=False, allow_null=True)
    trigger_threshold = serializers.FloatField(required=False, allow_null=True, help_text="churn_risk: 0 < t ≤ 1.")
    trigger_hours = serializers.IntegerField(required=False, allow_null=True, help_text="abandoned_cart: hours.")
    trigger_tier = serializers.CharField(required=False, allow_blank=True, help_text="tier_change: the tier reached.")
    holdout_percent = serializers.FloatField(required=False, help_text="0–50.")
    test_percent = serializers.FloatField(required=False, help_text="1–100; 100 = no test phase.")
    winner_metric = serializers.ChoiceField(choices=Campaign.WinnerMetric.choices, required=False)
    winner_after_hours = serializers.IntegerField(required=False, help_text="1–168, when test_percent < 100.")
    min_sample_per_variant = serializers.IntegerField(required=False, min_value=1)
    thompson_sampling = serializers.BooleanField(required=False)
    budget = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    cost_per_message = serializers.DecimalField(max_digits=10, decimal_places=4, required=False)
    fixed_cost = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    conversion_window_days = serializers.IntegerField(required=False)


class CampaignOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Campaign"

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField(help_text="draft, scheduled, sending, sent, paused or cancelled")
    goal = serializers.ChoiceField(choices=Campaign.Goal.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    audience_segment_ids = serializers.SerializerMethodField()
    exclusion_segment_ids = serializers.SerializerMethodField()
    tiers = serializers.ListField(child=serializers.CharField())
    coupon_pool_id = serializers.IntegerField(allow_null=True)
    variants = serializers.SerializerMethodField()
    schedule_kind = serializers.ChoiceField(choices=Campaign.ScheduleKind.choices)
    send_at = serializers.DateTimeField(allow_null=True)
    time_zone = serializers.CharField()
    recurrence = RecurrenceSerializer()
    trigger = serializers.CharField()
    trigger_segment_id = serializers.IntegerField(allow_null=True)
    trigger_threshold = serializers.FloatField(allow_null=True)
    trigger_hours = serializers.IntegerField(allow_null=True)
    trigger_tier = serializers.CharField()
    holdout_percent = serializers.FloatField()
    test_percent = serializers.FloatField()
    winner_metric = serializers.CharField()
    winner_after_hours = serializers.IntegerField()
    min_sample_per_variant = serializers.IntegerField()
    thompson_sampling = serializers.BooleanField()
    budget = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    cost_per_message = serializers.DecimalField(max_digits=10, decimal_places=4)
    fixed_cost = serializers.DecimalField(max_digits=14, decimal_places=2)
    conversion_window_days = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    launched_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_audience_segment_ids(self, campaign: Campaign) -> list[int]:
        return sorted(s.pk for s in campaign.audience_segments.all())

    def get_exclusion_segment_ids(self, campaign: Campaign) -> list[int]:
        return sorted(s.pk for s in campaign.exclusion_segments.all())

    @extend_schema_field(VariantSerializer(many=True))
    def get_variants(self, campaign: Campaign) -> list[dict]:
        return [VariantSerializer(v).data for v in campaign.variants.order_by("key")]


def _campaign_data(campaign_id: int) -> dict:
    return CampaignOutputSerializer(campaign_get(campaign_id=campaign_id)).data


class CampaignListItemSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CampaignListItem"

    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField(help_text="draft, scheduled, sending, sent, paused or cancelled")
    channel = serializers.ChoiceField(choices=Channel.choices)
    schedule_kind = serializers.ChoiceField(choices=Campaign.ScheduleKind.choices)
    send_at = serializers.DateTimeField(allow_null=True)
    audience_size = serializers.IntegerField(help_text="Sum of the audience segments' sizes (an upper bound).")
    sent_count = serializers.IntegerField(help_text="Messages sent so far.")
    created_at = serializers.DateTimeField()


class CampaignListApi(APIView):
    """List campaigns (filter by status), or create a draft."""

    required_permissions = {"GET": "campaigns.view_campaign", "POST": "campaigns.add_campaign"}

    class InputSerializer(CampaignFieldsSerializer):
        class Meta:
            ref_name = "CampaignCreate"

        name = serializers.CharField(max_length=200)

    @extend_schema(
        summary="List campaigns",
        responses=CampaignListItemSerializer(many=True),
        parameters=[
            OpenApiParameter("status", str, enum=Campaign.Status.values, description="Only campaigns in this status")
        ],
    )
    def get(self, request):
        status = request.query_params.get("status") or None
        campaigns = campaign_list(status=status if status in Campaign.Status.values else None)
        return Response(CampaignListItemSerializer(campaigns, many=True).data)

    @extend_schema(
        summary="Create a draft campaign",
        request=InputSerializer,
        responses={201: CampaignOutputSerializer, 400: CampaignErrorsSerializer},
        examples=[
            OpenApiExample(
                "Coupon campaign, two variants, 10 % holdout",
                request_only=True,
                value={
                    "name": "Spring coupon",
                    "channel": "email",
                    "audience_segment_ids": [3],
                    "coupon_pool_id": 1,
                    "holdout_percent": 10,
                    "variants": [
                        {"key": "A", "subject": "Hi {{ customer.name }}", "body_text": "Your code: {{ coupon.code }}"},
                        {"key": "B", "subject": "A gift for you", "body_text": "Use {{ coupon.code }} today"},
                    ],
                },
            )
        ],
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            campaign = campaign_create(user=request.user, **params.validated_data)
        except CampaignError as refusal:
            return _refused([refusal])
        return Response(_campaign_data(campaign.pk), status=201)


class CampaignDetailApi(APIView):
    required_permissions = {"GET": "campaigns.view_campaign", "PATCH": "campaigns.change_campaign"}

    class InputSerializer(CampaignFieldsSerializer):
        class Meta:
            ref_name = "CampaignUpdate"

    @extend_schema(summary="One campaign with its variants", responses=CampaignOutputSerializer)
    def get(self, request, campaign_id: int):
        get_object_or_404(Campaign, pk=campaign_id)
        return Response(_campaign_data(campaign_id))

    @extend_schema(
        summary="Change a draft (only drafts can change)",
        request=InputSerializer,
        responses={200: CampaignOutputSerializer, 400: CampaignErrorsSerializer},
    )
    def patch(self, request, campaign_id: int):
        get_object_or_404(Campaign, pk=campaign_id)
        params = self.InputSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        try:
            campaign_update(campaign_id=campaign_id, user=request.user, **params.validated_data)
        except CampaignError as refusal:
            return _refused([refusal])
        return Response(_campaign_data(campaign_id))


class CampaignLaunchApi(APIView):
    """Check everything, then send now or schedule (at a time, recurring, triggered)."""

    required_permissions = {"POST": "campaigns.change_campaign"}

    @extend_schema(
        summary="Launch a draft: send now or schedule",
        request=None,
        responses={200: CampaignOutputSerializer, 400: CampaignErrorsSerializer},
    )
    def post(self, request, campaign_id: int):
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        try:
            campaign_launch(campaign_id=campaign_id, user=request.user)
        except CampaignError as refusal:
            if refusal.code == CampaignErrorCode.NOT_ALLOWED:
                return _refused([refusal])
            return _refused(campaign_launch_problems(campaign=campaign) or [refusal])
        return Response(_campaign_data(campaign_id))


def _lifecycle_view(action, summary: str):
    class LifecycleApi(APIView):
        required_permissions = {"POST": "campaigns.change_campaign"}

        @extend_schema(
            summary=summary, request=None, responses={200: CampaignOutputSerializer, 400: CampaignErrorsSerializer}
        )
        def post(self, request, campaign_id: int):
            get_object_or_404(Campaign, pk=campaign_id)
            try:
                action(campaign_id=campaign_id, user=request.user)
            except CampaignError as refusal:
                return _refused([refusal])
            return Response(_campaign_data(campaign_id))

    return LifecycleApi


class CampaignPauseApi(_lifecycle_view(campaign_pause, "Pause a scheduled or sending campaign")):
    """Stop sending (queued messages stay queued) or hold the schedule or trigger."""


class CampaignResumeApi(_lifecycle_view(campaign_resume, "Resume a paused campaign")):
    """Carry on where the pause stopped."""


class CampaignCancelApi(_lifecycle_view(campaign_cancel, "Cancel a campaign")):
    """Stop for good: messages not yet sent are skipped as cancelled."""


class CampaignDuplicateApi(APIView):
    """A new draft with the same settings, audience and variants."""

    required_permissions = {"POST": "campaigns.add_campaign"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampaignDuplicate"

        name = serializers.CharField(max_length=200, required=False, help_text="Default: “Copy of …”.")

    @extend_schema(
        summary="Duplicate a campaign as a new draft",
        request=InputSerializer,
        responses={201: CampaignOutputSerializer},
    )
    def post(self, request, campaign_id: int):
        get_object_or_404(Campaign, pk=campaign_id)
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        copy = campaign_duplicate(campaign_id=campaign_id, user=request.user, name=params.validated_data.get("name"))
        return Response(_campaign_data(copy.pk), status=201)


class CampaignPreviewApi(APIView):
    """A variant rendered for one customer, as they would receive it (links not tracked,
    a sample code for a unique-code offer)."""

    required_permissions = {"POST": "campaigns.view_campaign"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampaignPreviewRequest"

        customer_id = serializers.CharField(help_text="The customer's id (the shop's) or email.")
        variant = serializers.CharField(required=False, help_text="Variant key; default the first.")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampaignPreview"

        customer_id = serializers.CharField()
        variant = serializers.CharField()
        to = serializers.CharField()
        subject = serializers.CharField()
        text = serializers.CharField()
        html = serializers.CharField()
        payload = serializers.DictField(help_text="Webhook: the JSON body.")
        errors = serializers.ListField(child=serializers.CharField(), help_text="Template or rendering problems.")

    @extend_schema(
        summary="Preview a variant for a customer",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: CampaignErrorsSerializer},
    )
    def post(self, request, campaign_id: int):
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        key = params.validated_data.get("variant")
        variant = campaign.variants.filter(key=key).first() if key else campaign.variants.order_by("key").first()
        if variant is None:
            error = CampaignError(CampaignErrorCode.NOT_FOUND, field="variant", label=_("Variant"), value=key or "A")
            return _refused([error])
        customer = customer_find(params.validated_data["customer_id"])
        if customer is None:
            error = CampaignError(
                CampaignErrorCode.NOT_FOUND,
                field="customer_id",
                label=_("Customer"),
                value=params.validated_data["customer_id"],
            )
            return _refused([error])
        data = variant_preview(variant=variant, customer=customer)
        payload = {"customer_id": customer.external_id, "variant": variant.key, **data}
        return Response(self.OutputSerializer(payload).data)


class ProgressSerializer(serializers.Serializer):
    dispatch_id = serializers.IntegerField()
    dispatch_status = serializers.CharField(help_text="freezing, sending, testing, done, paused, cancelled")
    total = serializers.IntegerField(help_text="Messages of the send, skipped ones included.")
    queued = serializers.IntegerField()
    waiting = serializers.IntegerField(help_text="The rest of a test-then-winner audience.")
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()
    skipped_by_reason = serializers.DictField(child=serializers.IntegerField(), help_text="holdout, no_consent, …")
    percent = serializers.FloatField()
    done = serializers.BooleanField()


class CampaignProgressApi(APIView):
    required_permissions = {"GET": "campaigns.view_campaign"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampaignProgress"

        campaign_status = serializers.CharField()
        progress = ProgressSerializer(allow_null=True, help_text="The latest send; null before the first.")

    @extend_schema(summary="Progress of the campaign's latest send", responses=OutputSerializer)
    def get(self, request, campaign_id: int):
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        progress = campaign_progress(campaign_id=campaign_id)
        payload = {"campaign_status": campaign.status, "progress": progress.__dict__ if progress else None}
        return Response(self.OutputSerializer(payload).data)


class SentenceSerializer(serializers.Serializer):
    code = serializers.CharField()
    params = serializers.DictField(child=serializers.CharField())
    text = serializers.CharField(help_text="The sentence in plain words, in the request's language.")


class CampaignComparisonApi(APIView):
    """Variants against the control (z-test with confidence intervals, chance to beat),
    sample-ratio and minimum-sample checks, lift against the holdout, and the verdict."""

    required_permissions = {"GET": "campaigns.view_campaign"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampaignComparison"

        campaign_id = serializers.IntegerField()
        winner_metric = serializers.CharField()
        control_key = serializers.CharField()
        in_test_only = serializers.BooleanField()
        verdict = SentenceSerializer()
        variants = serializers.ListField(child=serializers.DictField(), help_text="Per variant: counts and rates.")
        holdout = serializers.DictField(allow_null=True)
        unassigned = serializers.DictField(allow_null=True)
        comparisons = serializers.ListField(
            child=serializers.DictField(), help_text="Each variant against the control, per metric."
        )
        chance_to_be_best = serializers.DictField(child=serializers.FloatField())
        sample_ratio = serializers.DictField(allow_null=True)
        sample_size = serializers.DictField()
        sample_ratio_mismatch = serializers.BooleanField()
        holdout_lift = serializers.DictField(allow_null=True)

    @extend_schema(summary="Compare the campaign's variants", responses=OutputSerializer)
    def get(self, request, campaign_id: int):
        get_object_or_404(Campaign, pk=campaign_id)
        comparison = campaign_comparison(campaign_id=campaign_id)
        return Response(self.OutputSerializer(comparison.as_dict()).data)


class CampaignEventsApi(APIView):
    """The audit trail: every state change and decision, newest first."""

    required_permissions = {"GET": "campaigns.view_campaign"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CampaignEvent"

        at = serializers.DateTimeField()
        action = serializers.CharField()
        from_status = serializers.CharField()
        to_status = serializers.CharField()
        actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
        details = serializers.DictField()

    @extend_schema(summary="A campaign's audit trail", responses=OutputSerializer(many=True))
    def get(self, request, campaign_id: int):
        get_object_or_404(Campaign, pk=campaign_id)
        return Response(self.OutputSerializer(campaign_events(campaign_id=campaign_id), many=True).data)
