"""Segments REST API: preview a rule's audience."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from segments.rules.schema import RuleInvalid
from segments.selectors import segment_preview


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
            errors = [{"path": e.path, "code": e.code.value, "message": e.message} for e in invalid.errors]
            return Response({"errors": errors}, status=400)
        return Response(self.OutputSerializer(preview).data)
