"""Member tiers REST API: tier definitions, the standard set, recalculation (a job run by a
worker), customers per tier and a customer's tier history. One view per operation;
services do the writing."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import Tier
from campaigns.tiers.errors import TierError
from campaigns.tiers.selectors import customer_tier_history, tier_distribution, tier_list
from campaigns.tiers.services import (
    RANK_MAX,
    WINDOW_MAX_DAYS,
    WINDOW_MIN_DAYS,
    tier_create,
    tier_delete,
    tier_update,
    tiers_create_standard,
    tiers_recalculate_start,
)
from customers.models import Customer


@extend_schema_field({"type": "string", "enum": list(Tier.Metric.values)})
class TierMetricField(serializers.ChoiceField):
    """spend or orders (an inline enum: other APIs have fields called "metric" too)."""

    def __init__(self, **kwargs):
        super().__init__(choices=Tier.Metric.choices, **kwargs)


class TierErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The input at fault.")
    code = serializers.CharField(help_text="e.g. name_taken, rank_taken, threshold_order, window_out_of_range")
    message = serializers.CharField()


class TierErrorsSerializer(serializers.Serializer):
    errors = TierErrorSerializer(many=True)


def _refused(refusal: TierError) -> Response:
    return Response({"errors": [refusal.as_dict()]}, status=400)


class TierOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Tier"

    id = serializers.IntegerField()
    name = serializers.CharField()
    rank = serializers.IntegerField(help_text="Higher wins when a customer reaches several tiers.")
    metric = TierMetricField(help_text="spend (placed orders' totals) or orders (their number).")
    threshold = serializers.DecimalField(max_digits=14, decimal_places=2)
    window_days = serializers.IntegerField(help_text="The rolling window, in days, ending at the recalculation.")
    description = serializers.CharField()


class TierFieldsSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=32)
    rank = serializers.IntegerField(min_value=0, max_value=RANK_MAX)
    metric = TierMetricField(default=Tier.Metric.SPEND)
    threshold = serializers.DecimalField(max_digits=14, decimal_places=2)
    window_days = serializers.IntegerField(min_value=WINDOW_MIN_DAYS, max_value=WINDOW_MAX_DAYS, default=365)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class TierListApi(APIView):
    """List the tier definitions (lowest rank first), or add one."""

    required_permissions = {"GET": "campaigns.view_tier", "POST": "campaigns.add_tier"}

    class InputSerializer(TierFieldsSerializer):
        class Meta:
            ref_name = "TierCreate"

    @extend_schema(summary="List member tiers", responses=TierOutputSerializer(many=True))
    def get(self, request):
        return Response(TierOutputSerializer(tier_list(), many=True).data)

    @extend_schema(
        summary="Add a member tier",
        request=InputSerializer,
        responses={201: TierOutputSerializer, 400: TierErrorsSerializer},
        examples=[
            OpenApiExample(
                "Gold: 8,000 spent over a year",
                request_only=True,
                value={"name": "gold", "rank": 3, "metric": "spend", "threshold": "8000.00", "window_days": 365},
            )
        ],
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            tier = tier_create(user=request.user, **params.validated_data)
        except TierError as refusal:
            return _refused(refusal)
        return Response(TierOutputSerializer(tier).data, status=201)


class TierDetailApi(APIView):
    required_permissions = {
        "GET": "campaigns.view_tier",
        "PATCH": "campaigns.change_tier",
        "DELETE": "campaigns.delete_tier",
    }

    class InputSerializer(TierFieldsSerializer):
        class Meta:
            ref_name = "TierUpdate"

    @extend_schema(summary="One member tier", responses=TierOutputSerializer)
    def get(self, request, tier_id: int):
        return Response(TierOutputSerializer(get_object_or_404(Tier, pk=tier_id)).data)

    @extend_schema(
        summary="Change a member tier (a rename renames it on its customers too)",
        request=InputSerializer,
        responses={200: TierOutputSerializer, 400: TierErrorsSerializer},
    )
    def patch(self, request, tier_id: int):
        tier = get_object_or_404(Tier, pk=tier_id)
        params = self.InputSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        try:
            tier = tier_update(tier=tier, user=request.user, **params.validated_data)
        except TierError as refusal:
            return _refused(refusal)
        return Response(TierOutputSerializer(tier).data)

    @extend_schema(summary="Delete a member tier (its customers move at the next recalculation)", responses={204: None})
    def delete(self, request, tier_id: int):
        tier_delete(tier=get_object_or_404(Tier, pk=tier_id), user=request.user)
        return Response(status=204)


class TierStandardApi(APIView):
    """Bronze, silver, gold and platinum on spend over 365 days (1, 2,000, 8,000, 20,000);
    tiers whose name exists already are left alone, so a second call adds nothing."""

    required_permissions = {"POST": "campaigns.add_tier"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TierStandardCreated"

        created = TierOutputSerializer(many=True, help_text="The tiers added by this call.")
        tiers = TierOutputSerializer(many=True, help_text="Every tier now defined.")

    @extend_schema(
        summary="Add the standard tiers",
        request=None,
        responses={200: OutputSerializer, 400: TierErrorsSerializer},
    )
    def post(self, request):
        try:
            created = tiers_create_standard(user=request.user)
        except TierError as refusal:
            return _refused(refusal)
        return Response(self.OutputSerializer({"created": created, "tiers": tier_list()}).data)


class TierRecalculateApi(APIView):
    """Queue a recalculation of every customer's tier; follow it with the job id
    (the nightly schedule runs the same recalculation)."""

    required_permissions = {"POST": "campaigns.change_tier"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TierRecalculationStarted"

        job_id = serializers.UUIDField()

    @extend_schema(summary="Recalculate member tiers now", request=None, responses={202: OutputSerializer})
    def post(self, request):
        job = tiers_recalculate_start(user=request.user)
        return Response(self.OutputSerializer({"job_id": job.pk}).data, status=202)


class TierDistributionApi(APIView):
    required_permissions = {"GET": "campaigns.view_tier"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TierCount"

        name = serializers.CharField(help_text='The tier; "" for customers in no tier.')
        rank = serializers.IntegerField(allow_null=True)
        defined = serializers.BooleanField(help_text="False: a name customers carry that no tier is defined with.")
        customers = serializers.IntegerField()
        percent = serializers.FloatField(allow_null=True)

    @extend_schema(
        summary="Customers per member tier (highest rank first, then no tier)",
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        return Response(self.OutputSerializer(tier_distribution(), many=True).data)


class CustomerTierHistoryApi(APIView):
    required_permissions = {"GET": "campaigns.view_tierchange"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CustomerTierHistory"

        class ChangeSerializer(serializers.Serializer):
            class Meta:
                ref_name = "TierChange"

            from_tier = serializers.CharField()
            to_tier = serializers.CharField()
            changed_at = serializers.DateTimeField()
            reason = serializers.CharField()

        customer = serializers.CharField(help_text="The customer's id (external id).")
        member_tier = serializers.CharField(help_text='The current tier; "" for none.')
        changes = ChangeSerializer(many=True, help_text="Newest first.")

    @extend_schema(summary="A customer's current member tier and tier history", responses=OutputSerializer)
    def get(self, request, external_id: str):
        customer = get_object_or_404(Customer, external_id=external_id)
        payload = {
            "customer": customer.external_id,
            "member_tier": customer.member_tier,
            "changes": customer_tier_history(customer_id=customer.pk)[:500],
        }
        return Response(self.OutputSerializer(payload).data)
