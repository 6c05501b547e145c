"""Delivery reports from outside: the generic bounce / complaint webhook.

Any mail or SMS provider (or a small adapter in front of one) can POST JSON
``{"message_id": 123 | "provider_id": "...", "event": "bounce" | "complaint", "hard": true}``
to /api/campaigns/webhooks/delivery/ with the header
``X-Precis-Signature: sha256=<hex HMAC-SHA256 of the raw body with PRECIS_WEBHOOK_SECRET>``.
A missing or wrong signature is a 403 and changes nothing; without a configured secret
the webhook is closed (403). ESPs that django-anymail knows report through anymail's
own webhooks instead (see receivers.py).
"""

import hashlib
import hmac

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import Message
from campaigns.tracking.services import bounce_record, complaint_record

SIGNATURE_HEADER = "X-Precis-Signature"


def signature_valid(body: bytes, header: str) -> bool:
    secret = getattr(settings, "PRECIS_WEBHOOK_SECRET", "")
    if not secret or not header:
        return False
    given = header.strip().removeprefix("sha256=")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.lower(), expected)


class DeliveryWebhookApi(APIView):
    """One bounce or complaint, authenticated by the body's HMAC signature."""

    authentication_classes: list = []
    permission_classes: list = []

    class InputSerializer(serializers.Serializer):
        message_id = serializers.IntegerField(required=False, min_value=1)
        provider_id = serializers.CharField(required=False, max_length=255)
        event = serializers.ChoiceField(choices=["bounce", "complaint"])
        hard = serializers.BooleanField(default=True, help_text="Bounces: a permanent failure (unknown address).")
        at = serializers.DateTimeField(required=False)
        details = serializers.DictField(required=False, default=dict)

        def validate(self, data: dict) -> dict:
            if not data.get("message_id") and not data.get("provider_id"):
                raise serializers.ValidationError("Give message_id or provider_id.")
            return data

    class OutputSerializer(serializers.Serializer):
        message_id = serializers.IntegerField()
        event = serializers.CharField()
        first = serializers.BooleanField(help_text="The message's first report of this kind.")

    @extend_schema(
        operation_id="campaigns_delivery_webhook",
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            403: OpenApiResponse(description="Missing or wrong X-Precis-Signature."),
            404: OpenApiResponse(description="No such message."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        if not signature_valid(request.body, request.headers.get(SIGNATURE_HEADER, "")):
            raise PermissionDenied("Missing or wrong signature.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        messages = Message.objects.select_related("campaign")
        if data.get("message_id"):
            message = messages.filter(pk=data["message_id"]).first()
        else:
            message = messages.filter(provider_id=data["provider_id"]).order_by("-id").first()
        if message is None:
            raise NotFound("No such message.")
        details = {"source": "webhook", **data["details"]}
        if data["event"] == "bounce":
            first = bounce_record(message=message, hard=data["hard"], at=data.get("at"), details=details)
        else:
            first = complaint_record(message=message, at=data.get("at"), details=details)
        answer = {"message_id": message.pk, "event": data["event"], "first": first}
        return Response(self.OutputSerializer(answer).data, status=status.HTTP_200_OK)
