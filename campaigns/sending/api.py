"""The sending policy over the API, and a dispatch's progress."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.errors import CampaignError
from campaigns.models import Dispatch, SendingPolicy
from campaigns.sending.policy import sending_policy
from campaigns.sending.selectors import dispatch_progress
from campaigns.sending.services import sending_policy_update


class SendingPolicySerializer(serializers.Serializer):
    class Meta:
        ref_name = "SendingPolicy"

    quiet_hours_enabled = serializers.BooleanField()
    quiet_start = serializers.TimeField(help_text="Local time in each recipient's time zone, e.g. 21:00.")
    quiet_end = serializers.TimeField(help_text="May be earlier than the start: the quiet hours wrap midnight.")
    frequency_cap_messages = serializers.IntegerField(min_value=0, help_text="0: no frequency cap.")
    frequency_cap_days = serializers.IntegerField(min_value=1)


class ErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class SendingPolicyApi(APIView):
    queryset = SendingPolicy.objects.all()

    @extend_schema(responses=SendingPolicySerializer, summary="Quiet hours and the frequency cap")
    def get(self, request):
        return Response(SendingPolicySerializer(sending_policy()).data)

    @extend_schema(
        request=SendingPolicySerializer,
        responses={200: SendingPolicySerializer, 400: ErrorSerializer},
        summary="Change quiet hours and the frequency cap",
    )
    def put(self, request):
        serializer = SendingPolicySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            policy = sending_policy_update(**serializer.validated_data)
        except CampaignError as error:
            return Response(error.as_dict() | {"message": error.message}, status=400)
        return Response(SendingPolicySerializer(policy).data)


class DispatchProgressSerializer(serializers.Serializer):
    dispatch_id = serializers.IntegerField()
    status = serializers.CharField()
    total = serializers.IntegerField()
    queued = serializers.IntegerField()
    waiting = serializers.IntegerField()
    sending = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()
    skipped_by_reason = serializers.DictField(child=serializers.IntegerField())
    percent = serializers.IntegerField()
    done = serializers.BooleanField()


class DispatchProgressApi(APIView):
    queryset = Dispatch.objects.all()

    @extend_schema(responses=DispatchProgressSerializer, summary="Progress of one send (dispatch)")
    def get(self, request, dispatch_id: int):
        get_object_or_404(Dispatch, pk=dispatch_id)
        return Response(DispatchProgressSerializer(dispatch_progress(dispatch_id=dispatch_id).as_dict()).data)
