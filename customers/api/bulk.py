"""POST /api/bulk/<kind>/: validated, idempotent bulk upsert of up to 10,000 records.

Validation is vectorised (customers/ingestion), so the records are not run through a DRF
serializer one by one; the serializers here document the API in /api/schema/.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.ingestion.errors import IngestionError
from customers.ingestion.formats import KINDS
from customers.services import TooManyRecords, records_ingest


class BulkIngestApi(APIView):
    """Upsert customers, products, orders (with nested ``lines``), order lines, events, reviews
    or customer-service transcripts by their external ids. Re-sending the same records changes nothing."""

    required_permissions = {"POST": "customers.add_customer"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "BulkIngestRequest"

        records = serializers.ListField(child=serializers.DictField(), max_length=settings.PRECIS_BULK_MAX_RECORDS)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "BulkIngestResult"

        received = serializers.IntegerField()
        inserted = serializers.IntegerField()
        updated = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        rejected = serializers.IntegerField()
        errors = inline_serializer(
            "BulkIngestError",
            fields={
                "index": serializers.IntegerField(),
                "id": serializers.CharField(),
                "field": serializers.CharField(),
                "code": serializers.ChoiceField(choices=[code.value for code in IngestionError]),
                "message": serializers.CharField(),
            },
            many=True,
        )
        lines = serializers.DictField(child=serializers.IntegerField(), required=False)

    @extend_schema(
        operation_id="bulk_ingest",
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(KINDS))],
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: inline_serializer("BulkIngestBadRequest", fields={"detail": serializers.CharField()}),
        },
        examples=[
            OpenApiExample(
                "events",
                request_only=True,
                value={
                    "records": [
                        {
                            "event_id": "e-1",
                            "customer_id": "c-1",
                            "type": "view",
                            "occurred_at": "2024-05-01T10:00:00Z",
                            "sku": "SKU-1",
                            "properties": {"source": "app"},
                        }
                    ]
                },
            )
        ],
    )
    def post(self, request: Request, kind: str) -> Response:
        if kind not in KINDS:
            return Response(
                {
                    "detail": _("Unknown kind %(kind)s; use one of: %(kinds)s.")
                    % {"kind": kind, "kinds": ", ".join(KINDS)}
                },
                status=status.HTTP_404_NOT_FOUND,
            )
        records = request.data.get("records") if isinstance(request.data, dict) else None
        if not isinstance(records, list):
            return Response(
                {"detail": _('The body must be a JSON object {"records": [...]}.')},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            summary = records_ingest(kind=kind, records=records)
        except TooManyRecords as error:
            return Response(
                {"detail": str(error), "code": str(IngestionError.TOO_MANY_RECORDS)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(summary.as_api())
