"""Funnels REST API: save, list, change and delete funnel definitions, and compute one.

A bad definition answers 400 with every problem, each naming the step and field::

    {"errors": [{"field": "steps[2].event", "code": "unknown_event", "message": "Step 3: …"}]}
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.funnels.compute import FunnelResult
from reports.funnels.models import Funnel
from reports.funnels.schema import FILTERS, MAX_STEPS, MIN_STEPS, FunnelErrorCode, FunnelInvalid
from reports.funnels.selectors import default_date_range, funnel_result
from reports.funnels.services import funnel_create, funnel_delete, funnel_update
from segments.models import Segment

# The funnel model's own permissions (accounts.roles: every role views; marketers, analysts
# and admins add, change and delete).
VIEW_PERMISSION = "reports.view_funnel"
ADD_PERMISSION = "reports.add_funnel"
EDIT_PERMISSION = "reports.change_funnel"
DELETE_PERMISSION = "reports.delete_funnel"
MAX_RANGE_DAYS = 3 * 366

STEPS_EXAMPLE = [
    {"event": "view", "category": "Beauty"},
    {"event": "add_to_cart"},
    {"event": "purchase"},
    {"event": "review"},
]


class FunnelErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The step and field, e.g. steps[2].event (steps count from 0).")
    code = serializers.ChoiceField(choices=[code.value for code in FunnelErrorCode])
    message = serializers.CharField()


class FunnelErrorsSerializer(serializers.Serializer):
    errors = FunnelErrorSerializer(many=True)


def funnel_errors_response(invalid: FunnelInvalid) -> Response:
    errors = [{"field": error.field, "code": error.code.value, "message": error.message} for error in invalid.errors]
    return Response({"errors": errors}, status=400)


class FunnelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Funnel
        ref_name = "Funnel"
        fields = ["id", "name", "description", "steps", "window_value", "window_unit", "segment", "created_at",
                  "updated_at"]  # fmt: skip


class FunnelInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "FunnelInput"

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    steps = serializers.JSONField(
        help_text=f'{MIN_STEPS} to {MAX_STEPS} steps, each {{"event": <event type>}} plus optional filters '
        f"{', '.join(FILTERS)}."
    )
    window_value = serializers.IntegerField(min_value=1, default=7, help_text="Conversion window, counted from step 1.")
    window_unit = serializers.ChoiceField(choices=Funnel.WindowUnit.choices, default=Funnel.WindowUnit.DAYS)
    segment = serializers.PrimaryKeyRelatedField(
        queryset=Segment.objects.all(), required=False, allow_null=True,
        help_text="Default segment of the result (current members).",
    )  # fmt: skip


EXAMPLE = OpenApiExample(
    "View → cart → purchase → review within 7 days",
    request_only=True,
    value={"name": "Beauty funnel", "steps": STEPS_EXAMPLE, "window_value": 7, "window_unit": "days"},
)


class FunnelListApi(APIView):
    """Saved funnel definitions; POST saves one."""

    required_permissions = {"GET": VIEW_PERMISSION, "POST": ADD_PERMISSION}

    @extend_schema(summary="List funnels", responses=FunnelSerializer(many=True))
    def get(self, request):
        return Response(FunnelSerializer(Funnel.objects.order_by("name", "pk"), many=True).data)

    @extend_schema(summary="Save a funnel", request=FunnelInputSerializer, examples=[EXAMPLE],
                   responses={201: FunnelSerializer, 400: FunnelErrorsSerializer})  # fmt: skip
    def post(self, request):
        params = FunnelInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            funnel = funnel_create(user=request.user, **params.validated_data)
        except FunnelInvalid as invalid:
            return funnel_errors_response(invalid)
        return Response(FunnelSerializer(funnel).data, status=201)


class FunnelDetailApi(APIView):
    required_permissions = {"GET": VIEW_PERMISSION, "PUT": EDIT_PERMISSION, "PATCH": EDIT_PERMISSION,
                            "DELETE": DELETE_PERMISSION}  # fmt: skip

    @extend_schema(summary="One funnel definition", responses=FunnelSerializer)
    def get(self, request, funnel_id: int):
        return Response(FunnelSerializer(get_object_or_404(Funnel, pk=funnel_id)).data)

    def _update(self, request, funnel_id: int, *, partial: bool):
        funnel = get_object_or_404(Funnel, pk=funnel_id)
        params = FunnelInputSerializer(data=request.data, partial=partial)
        params.is_valid(raise_exception=True)
        try:
            funnel = funnel_update(funnel=funnel, user=request.user, **params.validated_data)
        except FunnelInvalid as invalid:
            return funnel_errors_response(invalid)
        return Response(FunnelSerializer(funnel).data)

    @extend_schema(summary="Replace a funnel definition", request=FunnelInputSerializer,
                   responses={200: FunnelSerializer, 400: FunnelErrorsSerializer})  # fmt: skip
    def put(self, request, funnel_id: int):
        return self._update(request, funnel_id, partial=False)

    @extend_schema(summary="Change some fields of a funnel", request=FunnelInputSerializer,
                   responses={200: FunnelSerializer, 400: FunnelErrorsSerializer})  # fmt: skip
    def patch(self, request, funnel_id: int):
        return self._update(request, funnel_id, partial=True)

    @extend_schema(summary="Delete a funnel", responses={204: None})
    def delete(self, request, funnel_id: int):
        funnel_delete(funnel=get_object_or_404(Funnel, pk=funnel_id), user=request.user)
        return Response(status=204)


def funnel_result_data(result: FunnelResult, funnel: Funnel) -> list[dict]:
    """One plain dict per step, shared by the API, the page and the CSV download."""
    return [
        {
            "number": figures.number,
            "label": figures.label,
            **step,
            "customers": figures.customers,
            "conversion_from_start": figures.conversion_from_start,
            "conversion_from_previous": figures.conversion_from_previous,
            "drop_off": figures.drop_off,
            "drop_off_rate": figures.drop_off_rate,
            "median_seconds": figures.median_seconds,
            "p75_seconds": figures.p75_seconds,
            "p90_seconds": figures.p90_seconds,
        }
        for figures, step in zip(result.steps, [s.as_dict() for s in funnel.parsed_steps], strict=True)
    ]


class FunnelResultQuerySerializer(serializers.Serializer):
    """The result's filters: first and last day of entering (default: the last 30 days) and
    a segment (absent: the funnel's own; empty: all customers)."""

    class Meta:
        ref_name = "FunnelResultQuery"

    start = serializers.DateField(required=False, help_text="First day customers may enter (step 1).")
    end = serializers.DateField(required=False, help_text="Last day customers may enter; later steps may be after it.")
    segment = serializers.PrimaryKeyRelatedField(queryset=Segment.objects.all(), required=False, allow_null=True,
                                                 help_text="Only its current members. Absent: the funnel's default "
                                                 "segment; empty: all customers.")  # fmt: skip

    def validate(self, attrs):
        first, last = default_date_range()
        start, end = attrs.get("start"), attrs.get("end")
        if start and not end:
            end = max(last, start)
        elif end and not start:
            start = end - (last - first)
        start, end = start or first, end or last
        if end < start:
            raise serializers.ValidationError({"end": "The date range must end on or after its first day."})
        if (end - start).days >= MAX_RANGE_DAYS:
            raise serializers.ValidationError({"end": f"The date range is at most {MAX_RANGE_DAYS} days."})
        return attrs | {"start": start, "end": end}


class FunnelResultStepSerializer(serializers.Serializer):
    class Meta:
        ref_name = "FunnelResultStep"

    number = serializers.IntegerField(help_text="1-based.")
    label = serializers.CharField()
    event = serializers.CharField()
    sku = serializers.CharField(required=False)
    category = serializers.CharField(required=False)
    query_contains = serializers.CharField(required=False)
    path_prefix = serializers.CharField(required=False)
    customers = serializers.IntegerField(help_text="Customers who reached this step.")
    conversion_from_start = serializers.FloatField(allow_null=True)
    conversion_from_previous = serializers.FloatField(allow_null=True)
    drop_off = serializers.IntegerField(help_text="Customers of the previous step who did not reach this one.")
    drop_off_rate = serializers.FloatField(allow_null=True)
    median_seconds = serializers.FloatField(allow_null=True, help_text="Time since the previous step (median).")
    p75_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)


class FunnelResultApi(APIView):
    """Customers per step, conversion from step 1 and from the previous step, drop-off and
    the median / 75th / 90th percentile time between consecutive steps. Ordered funnel: a
    customer enters with their first step-1 event in the range, and each next step is the
    first matching event at or after the previous step's, within the window from step 1."""

    required_permissions = {"GET": VIEW_PERMISSION}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FunnelResult"

        funnel = serializers.IntegerField()
        start = serializers.DateField()
        end = serializers.DateField()
        segment = serializers.IntegerField(allow_null=True)
        window_value = serializers.IntegerField()
        window_unit = serializers.CharField()
        entered = serializers.IntegerField()
        converted = serializers.IntegerField()
        conversion = serializers.FloatField(allow_null=True)
        steps = FunnelResultStepSerializer(many=True)

    @extend_schema(summary="Compute a funnel", parameters=[FunnelResultQuerySerializer],
                   responses={200: OutputSerializer, 400: FunnelErrorsSerializer})  # fmt: skip
    def get(self, request, funnel_id: int):
        funnel = get_object_or_404(Funnel, pk=funnel_id)
        query = FunnelResultQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        segment = data.get("segment", funnel.segment)  # absent: the funnel's own; None: all customers
        segment_id = segment.pk if segment else None
        try:
            result = funnel_result(funnel=funnel, first_day=data["start"], last_day=data["end"], segment_id=segment_id)
        except FunnelInvalid as invalid:  # a definition saved before a rule changed
            return funnel_errors_response(invalid)
        body = {
            "funnel": funnel.pk, "start": data["start"], "end": data["end"], "segment": segment_id,
            "window_value": funnel.window_value, "window_unit": funnel.window_unit, "entered": result.entered,
            "converted": result.converted, "conversion": result.conversion,
            "steps": funnel_result_data(result, funnel),
        }  # fmt: skip
        return Response(self.OutputSerializer(body).data)
