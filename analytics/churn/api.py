"""Churn REST API: list trainings with their figures, start one, pick the model in use."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.churn.alerts import churn_alerts
from analytics.churn.model import MODEL_NAMES
from analytics.churn.selectors import churn_models
from analytics.churn.services import (
    MAX_HORIZON_DAYS,
    MIN_HORIZON_DAYS,
    ChurnTrainingError,
    churn_model_choose,
    churn_train_start,
)
from analytics.models import ChurnAlert, ChurnModel


class ChurnModelOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChurnModel
        ref_name = "ChurnModel"
        fields = ["id", "status", "created_at", "finished_at", "horizon_days", "train_cutoff", "test_cutoff",
                  "chosen", "active", "evaluations", "baseline", "error", "job"]  # fmt: skip


class ChurnModelListApi(APIView):
    """Trainings, newest first (view), or start one (add): the figures arrive when its job ends."""

    queryset = ChurnModel.objects.all()

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ChurnTrain"

        horizon_days = serializers.IntegerField(min_value=MIN_HORIZON_DAYS, max_value=MAX_HORIZON_DAYS, default=90)

    @extend_schema(summary="List churn model trainings", responses=ChurnModelOutputSerializer(many=True))
    def get(self, request):
        return Response(ChurnModelOutputSerializer(churn_models(limit=50), many=True).data)

    @extend_schema(summary="Train and compare the churn models", request=InputSerializer,
                   responses={201: ChurnModelOutputSerializer})  # fmt: skip
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        version = churn_train_start(user=request.user, **params.validated_data)
        version.refresh_from_db()
        return Response(ChurnModelOutputSerializer(version).data, status=201)


class ChurnModelDetailApi(APIView):
    """One training; PATCH ``{"chosen": name}`` makes that model score every customer."""

    queryset = ChurnModel.objects.all()

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ChurnChoose"

        chosen = serializers.ChoiceField(choices=list(MODEL_NAMES))

    @extend_schema(summary="One churn model training", responses=ChurnModelOutputSerializer)
    def get(self, request, model_id: int):
        return Response(ChurnModelOutputSerializer(get_object_or_404(ChurnModel, pk=model_id)).data)

    @extend_schema(summary="Use another model for scoring", request=InputSerializer,
                   responses=ChurnModelOutputSerializer)  # fmt: skip
    def patch(self, request, model_id: int):
        get_object_or_404(ChurnModel, pk=model_id)
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            version = churn_model_choose(model_id=model_id, name=params.validated_data["chosen"])
        except ChurnTrainingError as refusal:
            return Response({"chosen": [str(refusal)]}, status=400)
        return Response(ChurnModelOutputSerializer(version).data)


class ChurnAlertOutputSerializer(serializers.ModelSerializer):
    customer = serializers.CharField(source="customer.external_id")

    class Meta:
        model = ChurnAlert
        ref_name = "ChurnAlert"
        fields = ["id", "day", "customer", "risk", "previous_risk", "monetary", "enrolled_in", "enrolled_at"]


class ChurnAlertListApi(APIView):
    """The early-warning list of the last ``days`` days (1–90, default 7), highest risk first."""

    queryset = ChurnAlert.objects.all()

    @extend_schema(summary="Churn early-warning alerts", responses=ChurnAlertOutputSerializer(many=True),
                   parameters=[OpenApiParameter("days", int, description="1–90, default 7")])  # fmt: skip
    def get(self, request):
        days = request.query_params.get("days", "7")
        if not days.isdigit() or not 1 <= int(days) <= 90:
            return Response({"days": ["a whole number of days from 1 to 90"]}, status=400)
        return Response(ChurnAlertOutputSerializer(churn_alerts(days=int(days))[:5_000], many=True).data)
