"""Sentiment REST API: score texts, read the active model's figures, start a retrain, and
read sentiment per category / product over time and per aspect."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.models import SentimentModel, SourceKind
from analytics.sentiment.errors import SentimentError
from analytics.sentiment.model import ASPECTS, MAX_TEXT_CHARS
from analytics.sentiment.selectors import sentiment_aspects, sentiment_model_active, sentiment_over_time
from analytics.sentiment.services import MAX_TEXTS_PER_CALL, sentiment_train_start, texts_score

SCORE_PERMISSION = "analytics.view_sentimentmodel"
# Marketers own the shop's reviews (customers.*), analysts the models (analytics.*): either may retrain.
TRAIN_PERMISSIONS = ("analytics.add_sentimentmodel", "customers.change_review")


def sentiment_train_allowed(user) -> bool:
    return bool(user and user.is_authenticated and any(user.has_perm(p) for p in TRAIN_PERMISSIONS))


class CanTrainSentiment(BasePermission):
    def has_permission(self, request, view) -> bool:
        return sentiment_train_allowed(request.user)


class SentimentErrorsSerializer(serializers.Serializer):
    errors = serializers.ListField(child=serializers.DictField())


def _refused(error: SentimentError) -> Response:
    return Response({"errors": [{"field": error.field, "code": error.code.value, "message": error.message}]},
                    status=400)  # fmt: skip


class TextScoreSerializer(serializers.Serializer):
    label = serializers.ChoiceField(choices=["positive", "neutral", "negative"])
    score = serializers.FloatField(help_text="−1 (negative) .. 1 (positive).")
    language = serializers.ChoiceField(choices=["en", "zh"])
    aspects = serializers.DictField(
        child=serializers.FloatField(),
        help_text=f"Aspect → sentiment −1..1, for the aspects mentioned ({', '.join(ASPECTS)}).",
    )


class SentimentModelSerializer(serializers.ModelSerializer):
    # A plain string, not an enum: "kind" enums of other apps would collide in the schema.
    kind = serializers.CharField(read_only=True, help_text='"trained" (on the shop\'s rated reviews) or "lexicon".')

    class Meta:
        model = SentimentModel
        ref_name = "SentimentModel"
        fields = ["id", "kind", "active", "trained_at", "rated_reviews", "train_count", "test_count",
                  "held_out_accuracy", "external_accuracy", "metrics"]  # fmt: skip


class SentimentScoreApi(APIView):
    """Score up to 1,000 texts (Chinese or English) with the active model, else the lexicon."""

    required_permissions = {"POST": SCORE_PERMISSION}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SentimentScoreRequest"

        texts = serializers.ListField(
            child=serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=MAX_TEXT_CHARS),
            allow_empty=False,
            max_length=MAX_TEXTS_PER_CALL,
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SentimentScoreResult"

        model = serializers.CharField(help_text='"trained" or "lexicon".')
        model_id = serializers.IntegerField(allow_null=True)
        results = TextScoreSerializer(many=True)

    @extend_schema(
        summary="Score texts",
        request=InputSerializer,
        responses={200: OutputSerializer},
        examples=[
            OpenApiExample(
                "two texts",
                request_only=True,
                value={"texts": ["物流很快，但是质量很差。", "Great value for money, fast delivery."]},
            )
        ],
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        active = sentiment_model_active()
        results = texts_score(params.validated_data["texts"])
        kind = active.kind if active is not None else SentimentModel.Kind.LEXICON
        data = {"model": kind, "model_id": active.pk if active else None,
                "results": [vars(result) for result in results]}  # fmt: skip
        return Response(self.OutputSerializer(data).data)


class SentimentModelApi(APIView):
    """The active sentiment model and its figures (held-out and external accuracy, confusion
    matrix, counts); ``null`` before the first training."""

    required_permissions = {"GET": SCORE_PERMISSION}

    @extend_schema(summary="The active sentiment model", responses={200: SentimentModelSerializer})
    def get(self, request):
        active = sentiment_model_active()
        return Response(SentimentModelSerializer(active).data if active else None)


class SentimentTrainApi(APIView):
    """Retrain on the shop's rated reviews, activate if not worse, rescore (a Celery job)."""

    permission_classes = [CanTrainSentiment]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SentimentTrainRequest"

        force = serializers.BooleanField(default=False, help_text="Activate the new model even if it is worse.")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SentimentTrainJob"

        job_id = serializers.UUIDField()
        status = serializers.CharField()

    @extend_schema(summary="Retrain the sentiment model", request=InputSerializer, responses={202: OutputSerializer})
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        job = sentiment_train_start(user=request.user, force=params.validated_data["force"])
        job.refresh_from_db()
        return Response(self.OutputSerializer({"job_id": job.pk, "status": job.status}).data, status=202)


class AspectFiguresSerializer(serializers.Serializer):
    mentions = serializers.IntegerField(help_text="Texts that mention the aspect.")
    average = serializers.FloatField(allow_null=True, help_text="Their average aspect sentiment, −1..1.")


class AspectRowSerializer(serializers.Serializer):
    class Meta:
        ref_name = "SentimentAspectRow"

    key = serializers.CharField(help_text='Category or SKU; "" for all texts.')
    texts = serializers.IntegerField()
    aspects = serializers.DictField(child=AspectFiguresSerializer(), help_text=", ".join(ASPECTS))


class _GroupingQuery(serializers.Serializer):
    by = serializers.ChoiceField(choices=["category", "product"], default="category")
    source = serializers.ChoiceField(choices=SourceKind.choices, required=False)
    since = serializers.DateTimeField(required=False)


class SentimentTrendApi(APIView):
    """Average sentiment and positive / negative counts per category or product per period."""

    required_permissions = {"GET": SCORE_PERMISSION}

    class InputSerializer(_GroupingQuery):
        class Meta:
            ref_name = "SentimentTrendQuery"

        period = serializers.ChoiceField(choices=["week", "month"], default="month")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SentimentTrendRow"

        key = serializers.CharField(help_text="Category, or SKU when by=product.")
        period = serializers.DateField(help_text="First day of the week / month.")
        texts = serializers.IntegerField()
        average = serializers.FloatField()
        positive = serializers.IntegerField()
        negative = serializers.IntegerField()

    @extend_schema(
        summary="Sentiment over time per category or product",
        parameters=[OpenApiParameter("by", str, enum=["category", "product"]),
                    OpenApiParameter("period", str, enum=["week", "month"]),
                    OpenApiParameter("source", str, enum=SourceKind.values),
                    OpenApiParameter("since", str, description="ISO date-time")],
        responses={200: OutputSerializer(many=True)},
    )  # fmt: skip
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            rows = sentiment_over_time(**params.validated_data)
        except SentimentError as refusal:
            return _refused(refusal)
        return Response(self.OutputSerializer(rows, many=True).data)


class SentimentAspectsApi(APIView):
    """Per aspect: texts that mention it and their average aspect sentiment, overall or per
    category / product."""

    required_permissions = {"GET": SCORE_PERMISSION}

    class InputSerializer(_GroupingQuery):
        class Meta:
            ref_name = "SentimentAspectsQuery"

        by = serializers.ChoiceField(choices=["all", "category", "product"], default="all")

    @extend_schema(
        summary="Aspect sentiment",
        parameters=[OpenApiParameter("by", str, enum=["all", "category", "product"]),
                    OpenApiParameter("source", str, enum=SourceKind.values),
                    OpenApiParameter("since", str, description="ISO date-time")],
        responses={200: AspectRowSerializer(many=True)},
    )  # fmt: skip
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        by = data.pop("by")
        return Response(AspectRowSerializer(sentiment_aspects(by=None if by == "all" else by, **data), many=True).data)
