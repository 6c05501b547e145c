"""Segments REST API: preview a rule, save, refresh, freeze, upload and export segments."""

import csv
import io

from django.db import transaction
from django.db.models import TextChoices
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from segments.models import Segment
from segments.rules.schema import RuleInvalid
from segments.selectors import segment_members, segment_preview, segment_size_history
from segments.services import (
    interest_segments_create,
    rfm_segments_create,
    segment_create,
    segment_create_from_list,
    segment_freeze,
    segment_refresh,
)
from segments.tasks import segment_refresh_task


class RuleErrorSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="Where in the rule, e.g. rule.children[1].value")
    code = serializers.CharField()
    message = serializers.CharField()


class RuleErrorsSerializer(serializers.Serializer):
    errors = RuleErrorSerializer(many=True)


class SegmentPreviewApi(APIView):
    """Size and a sample of the audience of a rule, without saving anything."""

    required_permissions = {"POST": "customers.view_customer"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SegmentPreviewRequest"

        rule = serializers.JSONField(help_text="A rule tree: see docs/segments.md.")
        sample_size = serializers.IntegerField(min_value=0, max_value=100, default=20)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SegmentPreview"

        size = serializers.IntegerField()
        sample = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        summary="Preview the audience of a segment rule",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: RuleErrorsSerializer},
        examples=[
            OpenApiExample(
                "Chinese customers who added to cart twice in 30 days",
                request_only=True,
                value={
                    "rule": {
                        "type": "group",
                        "op": "and",
                        "children": [
                            {"type": "condition", "field": "profile.country", "operator": "equals", "value": "CN"},
                            {
                                "type": "behaviour",
                                "event": "add_to_cart",
                                "count": {"op": "gte", "value": 2},
                                "window": {"last_days": 30},
                            },
                        ],
                    }
                },
            )
        ],
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            preview = segment_preview(rule=params.validated_data["rule"],
                                      sample_size=params.validated_data["sample_size"])  # fmt: skip
        except RuleInvalid as invalid:
            return _rule_errors(invalid)
        return Response(self.OutputSerializer(preview).data)


class SegmentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        ref_name = "Segment"
        fields = ["id", "name", "description", "kind", "rule", "size", "refreshed_at", "created_at", "updated_at"]


class SegmentListApi(APIView):
    """List saved segments, or save a dynamic one from a rule (its first refresh is queued)."""

    queryset = Segment.objects.all()

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SegmentCreate"

        name = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        rule = serializers.JSONField()

    @extend_schema(summary="List segments", responses=SegmentOutputSerializer(many=True))
    def get(self, request):
        return Response(SegmentOutputSerializer(Segment.objects.order_by("name"), many=True).data)

    @extend_schema(summary="Save a dynamic segment", request=InputSerializer,
                   responses={201: SegmentOutputSerializer, 400: RuleErrorsSerializer})  # fmt: skip
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            segment = segment_create(user=request.user, **params.validated_data)
        except RuleInvalid as invalid:
            return _rule_errors(invalid)
        transaction.on_commit(lambda: segment_refresh_task.delay(segment.pk))
        return Response(SegmentOutputSerializer(segment).data, status=201)


class SegmentDetailApi(APIView):
    queryset = Segment.objects.all()

    class OutputSerializer(SegmentOutputSerializer):
        class Meta(SegmentOutputSerializer.Meta):
            ref_name = "SegmentDetail"
            fields = [*SegmentOutputSerializer.Meta.fields, "size_history"]

        size_history = serializers.SerializerMethodField()

        def get_size_history(self, segment) -> list[dict]:
            return segment_size_history(segment_id=segment.pk)

    @extend_schema(summary="One segment with its size over time", responses=OutputSerializer)
    def get(self, request, segment_id: int):
        return Response(self.OutputSerializer(get_object_or_404(Segment, pk=segment_id)).data)


class SegmentRefreshApi(APIView):
    required_permissions = {"POST": "segments.change_segment"}

    @extend_schema(summary="Re-evaluate a segment now", request=None,
                   responses=inline_serializer("SegmentRefreshResult", {"size": serializers.IntegerField(),
                                               "entered": serializers.IntegerField(),
                                               "left": serializers.IntegerField()}))  # fmt: skip
    def post(self, request, segment_id: int):
        get_object_or_404(Segment, pk=segment_id)
        result = segment_refresh(segment_id=segment_id)
        return Response({"size": result.size, "entered": result.entered, "left": result.left})


class SegmentFreezeApi(APIView):
    required_permissions = {"POST": "segments.change_segment"}

    @extend_schema(summary="Freeze a dynamic segment into a static snapshot", request=None,
                   responses=SegmentOutputSerializer)  # fmt: skip
    def post(self, request, segment_id: int):
        segment = segment_freeze(segment=get_object_or_404(Segment, pk=segment_id), user=request.user)
        return Response(SegmentOutputSerializer(segment).data)


class SegmentUploadApi(APIView):
    """A static segment from a list of customer ids or emails."""

    required_permissions = {"POST": "segments.add_segment"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SegmentUpload"

        name = serializers.CharField(max_length=200)
        identifiers = serializers.ListField(child=serializers.CharField(), max_length=1_000_000)

    @extend_schema(summary="Create a static segment from customer ids or emails", request=InputSerializer,
                   responses={201: inline_serializer("SegmentUploadResult", {
                       "segment": SegmentOutputSerializer(), "matched": serializers.IntegerField(),
                       "unknown": serializers.ListField(child=serializers.CharField())})})  # fmt: skip
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        upload = segment_create_from_list(user=request.user, **params.validated_data)
        return Response(
            {"segment": SegmentOutputSerializer(upload.segment).data, "matched": upload.matched,
             "unknown": upload.unknown},
            status=201,
        )  # fmt: skip


class ReadyMadeKind(TextChoices):
    RFM = "rfm", "RFM segments"
    INTEREST = "interest", "Interest segments"


class ReadyMadeSegmentsApi(APIView):
    """Add the standard RFM segments or "Interested in <category>" segments; the ones that
    exist already are left alone, so calling twice adds nothing."""

    required_permissions = {"POST": "segments.add_segment"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReadyMadeSegments"

        kind = serializers.ChoiceField(choices=ReadyMadeKind.choices)
        categories = serializers.ListField(
            child=serializers.CharField(max_length=128), required=False, allow_empty=False, max_length=200,
            help_text="interest only: the categories (default: the 12 with the most products)",
        )  # fmt: skip

        def validate(self, data):
            if data["kind"] == "rfm" and "categories" in data:
                raise serializers.ValidationError({"categories": "only interest segments take categories"})
            return data

    @extend_schema(summary="Add ready-made segments (RFM or interest)", request=InputSerializer,
                   responses={201: SegmentOutputSerializer(many=True)},
                   examples=[OpenApiExample("Interest", value={"kind": "interest", "categories": ["Shoes"]},
                                            request_only=True)])  # fmt: skip
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        if params.validated_data["kind"] == "rfm":
            created = rfm_segments_create(user=request.user)
        else:
            created = interest_segments_create(categories=params.validated_data.get("categories"), user=request.user)
        for segment in created:
            transaction.on_commit(lambda segment_id=segment.pk: segment_refresh_task.delay(segment_id))
        return Response(SegmentOutputSerializer(created, many=True).data, status=201)


MEMBER_COLUMNS = ["external_id", "email", "name", "phone", "country", "city", "entered_at"]


class SegmentMembersCsvApi(APIView):
    """Current members as CSV (streamed, so a million rows need little memory)."""

    required_permissions = {"GET": "segments.view_segment"}

    @extend_schema(summary="Export the members of a segment as CSV", responses={(200, "text/csv"): bytes})
    def get(self, request, segment_id: int):
        segment = get_object_or_404(Segment, pk=segment_id)
        rows = segment_members(segment_id=segment.pk).values_list(*MEMBER_COLUMNS).iterator(chunk_size=5000)

        def lines():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(MEMBER_COLUMNS)
            for row in rows:
                writer.writerow([value.isoformat() if hasattr(value, "isoformat") else value for value in row])
                if buffer.tell() > 1 << 16:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}-members.csv"'
        return response


def _rule_errors(invalid: RuleInvalid) -> Response:
    errors = [{"path": e.path, "code": e.code.value, "message": e.message} for e in invalid.errors]
    return Response({"errors": errors}, status=400)
