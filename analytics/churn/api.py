"""Churn REST API: list trainings with their figures, start one, pick the model in use."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.churn.model import MODEL_NAMES
from analytics.churn.selectors import churn_models
from analytics.churn.services import (
    MAX_HORIZON_DAYS,
    MIN_HORIZON_DAYS,
    ChurnTrainingError,
    churn_model_choose,
    churn_train_start,
)
from analytics.models import ChurnModel


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
