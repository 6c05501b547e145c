"""Recommendations REST API: the active run's figures, a customer's recommended products,
a product's frequently-bought-together products, and starting a fit (a Celery job)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.models import RecommendationRun
from analytics.recommendations.selectors import (
    customer_recommendations,
    frequently_bought_together,
    recommendation_run_active,
)
from analytics.recommendations.services import recommendations_fit_start

VIEW_PERMISSION = "analytics.view_recommendationrun"
# Analysts own the models (analytics.*), marketers the shop's orders (customers.*): either may refit.
FIT_PERMISSIONS = ("analytics.add_recommendationrun", "customers.change_order")
MAX_LIMIT = 50


def recommendations_fit_allowed(user) -> bool:
    return bool(user and user.is_authenticated and any(user.has_perm(p) for p in FIT_PERMISSIONS))


class CanFitRecommendations(BasePermission):
    def has_permission(self, request, view) -> bool:
        return recommendations_fit_allowed(request.user)


class RecommendationRunSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="queued, running, succeeded or failed.")

    class Meta:
        model = RecommendationRun
        ref_name = "RecommendationRun"
        fields = ["id", "status", "created_at", "finished_at", "active", "parameters", "figures", "counts",
                  "timings"]  # fmt: skip


class _LimitQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=10)


class _ProductSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    brand = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class RecommendationRunApi(APIView):
    """The active run's evaluation figures (hit rate@10 and precision@10 of item-based CF
    and of the popularity baseline on a time split), counts and parameters; ``null``
    before the first fit."""

    required_permissions = {"GET": VIEW_PERMISSION}

    @extend_schema(summary="Recommendation figures", responses={200: RecommendationRunSerializer})
    def get(self, request):
        run = recommendation_run_active()
        return Response(RecommendationRunSerializer(run).data if run else None)


class CustomerRecommendationsApi(APIView):
    """A customer's recommended products, best first (what campaign templates use)."""

    required_permissions = {"GET": VIEW_PERMISSION}

    class InputSerializer(_LimitQuery):
        class Meta:
            ref_name = "CustomerRecommendationsQuery"

    class OutputSerializer(_ProductSerializer):
        class Meta:
            ref_name = "CustomerRecommendation"

        rank = serializers.IntegerField()
        score = serializers.FloatField(help_text="Similarity score (similar) or popularity 0..1 (popular).")
        source = serializers.ChoiceField(choices=["similar", "popular"])

    @extend_schema(summary="A customer's recommended products", parameters=[InputSerializer],
                   responses={200: OutputSerializer(many=True)})  # fmt: skip
    def get(self, request, customer_id: int):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = customer_recommendations(customer_id, params.validated_data["limit"])
        return Response(self.OutputSerializer(rows, many=True).data)


class FrequentlyBoughtTogetherApi(APIView):
    """Products that orders holding this product also hold (association rules with one
    antecedent product), by lift."""

    required_permissions = {"GET": VIEW_PERMISSION}

    class InputSerializer(_LimitQuery):
        class Meta:
            ref_name = "FrequentlyBoughtTogetherQuery"

    class OutputSerializer(_ProductSerializer):
        class Meta:
            ref_name = "FrequentlyBoughtTogether"

        support = serializers.FloatField(help_text="Share of all orders holding both.")
        confidence = serializers.FloatField(help_text="Share of the orders with this product that hold the other.")
        lift = serializers.FloatField(help_text="Confidence / share of orders holding the other product.")
        baskets = serializers.IntegerField(help_text="Orders holding both.")

    @extend_schema(summary="Frequently bought together", parameters=[InputSerializer],
                   responses={200: OutputSerializer(many=True)})  # fmt: skip
    def get(self, request, product_id: int):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = frequently_bought_together(product_id, params.validated_data["limit"])
        return Response(self.OutputSerializer(rows, many=True).data)


class RecommendationFitApi(APIView):
    """Evaluate and refit the recommender and store every customer's top products (a job)."""

    permission_classes = [CanFitRecommendations]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RecommendationFitJob"

        job_id = serializers.UUIDField()
        status = serializers.CharField()

    @extend_schema(summary="Refit the recommender", request=None, responses={202: OutputSerializer})
    def post(self, request):
        job = recommendations_fit_start(user=request.user)
        job.refresh_from_db()
        return Response(self.OutputSerializer({"job_id": job.pk, "status": job.status}).data, status=202)
