"""Clustering REST API: start a run, list runs, read one run with its cluster profiles,
save a cluster as a static segment, place new customers in the applied run's clusters."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from segments.api import SegmentOutputSerializer
from segments.clustering import model
from segments.clustering.catalogue import CLUSTER_FEATURES, traits_description
from segments.clustering.errors import ClusteringError
from segments.clustering.selectors import clustering_runs
from segments.clustering.services import (
    cluster_segment_create,
    clustering_run_start,
    clusters_assign_new,
)
from segments.models import ClusteringRun


class ClusteringErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The input at fault, or null when it is the data.")
    code = serializers.CharField(help_text="e.g. too_many_customers, unknown_feature, no_applied_run")
    message = serializers.CharField()


class ClusteringErrorsSerializer(serializers.Serializer):
    errors = ClusteringErrorSerializer(many=True)


def _refused(error: ClusteringError, status: int = 400) -> Response:
    return Response({"errors": [{"field": error.field, "code": error.code.value, "message": error.message}]},
                    status=status)  # fmt: skip


class ClusterTraitSerializer(serializers.Serializer):
    feature = serializers.CharField()
    direction = serializers.ChoiceField(choices=["high", "low"])


class ClusterProfileSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="1..k; 1 is the largest cluster.")
    size = serializers.IntegerField()
    share = serializers.FloatField(help_text="Of the customers clustered (0..1).")
    description = serializers.CharField(help_text='e.g. "recent, frequent, high spend", in your language.')
    traits = ClusterTraitSerializer(many=True)
    means = serializers.DictField(
        child=serializers.FloatField(allow_null=True), help_text="Mean of each feature in its own units."
    )
    z = serializers.DictField(
        child=serializers.FloatField(), help_text="Standardised mean: 0 = all clustered customers, 1 = one std above."
    )


class ClusteringRunOutputSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField(help_text="Percent done (the run's job).")
    error_message = serializers.CharField(read_only=True)
    silhouette_scores = serializers.DictField(child=serializers.FloatField(), help_text="Silhouette by k (auto k).")

    class Meta:
        model = ClusteringRun
        ref_name = "ClusteringRun"
        fields = [
            "id", "algorithm", "features", "k_requested", "k_used", "silhouette", "silhouette_scores", "scope",
            "segment", "sample_size", "include_non_buyers", "seed", "customers", "status", "progress",
            "error_message", "applied", "applied_at", "timings", "created_at", "started_at", "finished_at",
        ]  # fmt: skip

    def get_progress(self, run: ClusteringRun) -> int:
        if run.status == ClusteringRun.Status.SUCCEEDED:
            return 100
        return run.job.percent if run.job_id else 0


class ClusteringRunDetailSerializer(ClusteringRunOutputSerializer):
    profiles = serializers.SerializerMethodField()

    class Meta(ClusteringRunOutputSerializer.Meta):
        ref_name = "ClusteringRunDetail"
        fields = [*ClusteringRunOutputSerializer.Meta.fields, "profiles", "scaler", "centroids"]

    @extend_schema_field(ClusterProfileSerializer(many=True))
    def get_profiles(self, run: ClusteringRun) -> list[dict]:
        profiles = [
            {**profile, "description": traits_description(profile["traits"]),
             "traits": [{"feature": feature, "direction": direction} for feature, direction in profile["traits"]]}
            for profile in run.profiles
        ]  # fmt: skip
        return ClusterProfileSerializer(profiles, many=True).data


class ClusteringRunListApi(APIView):
    """List clustering runs, or start one (fitted by a worker; poll the run for progress)."""

    required_permissions = {"GET": "segments.view_segment", "POST": "segments.add_segment"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ClusteringRunStart"

        algorithm = serializers.ChoiceField(choices=ClusteringRun.Algorithm.choices, default="kmeans")
        features = serializers.ListField(
            child=serializers.ChoiceField(choices=sorted(CLUSTER_FEATURES)), min_length=1, max_length=40
        )
        k = serializers.IntegerField(
            min_value=model.MIN_K, max_value=model.MAX_K, required=False, allow_null=True, default=None,
            help_text="Number of clusters; leave out to choose it by silhouette among 2..8.",
        )  # fmt: skip
        scope = serializers.ChoiceField(choices=ClusteringRun.Scope.choices, default="all")
        segment_id = serializers.IntegerField(required=False, allow_null=True, default=None,
                                              help_text="With scope=segment: whose current members.")  # fmt: skip
        sample_size = serializers.IntegerField(required=False, allow_null=True, default=None,
                                               help_text="With scope=sample: how many random customers.")  # fmt: skip
        include_non_buyers = serializers.BooleanField(
            default=False, help_text="Also cluster customers without orders (their recency counts as max + 1)."
        )
        seed = serializers.IntegerField(default=0, min_value=0, max_value=2**31 - 1)

    @extend_schema(summary="List clustering runs", responses=ClusteringRunOutputSerializer(many=True))
    def get(self, request):
        return Response(ClusteringRunOutputSerializer(clustering_runs(limit=200), many=True).data)

    @extend_schema(
        summary="Start a clustering run",
        request=InputSerializer,
        responses={202: ClusteringRunOutputSerializer, 400: ClusteringErrorsSerializer},
        examples=[
            OpenApiExample(
                "k-means on RFM, k chosen automatically",
                request_only=True,
                value={"algorithm": "kmeans", "features": ["recency_days", "frequency", "monetary"]},
            ),
            OpenApiExample(
                "Ward on a segment, 4 clusters",
                request_only=True,
                value={
                    "algorithm": "ward",
                    "features": ["monetary_365d", "view_count_30d"],
                    "k": 4,
                    "scope": "segment",
                    "segment_id": 7,
                },
            ),  # fmt: skip
        ],
    )
    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            run = clustering_run_start(user=request.user, **params.validated_data)
        except ClusteringError as refusal:
            return _refused(refusal)
        return Response(ClusteringRunOutputSerializer(run).data, status=202)


class ClusteringRunDetailApi(APIView):
    required_permissions = {"GET": "segments.view_segment"}

    @extend_schema(summary="One clustering run with its cluster profiles", responses=ClusteringRunDetailSerializer)
    def get(self, request, run_id: int):
        run = get_object_or_404(ClusteringRun.objects.select_related("job"), pk=run_id)
        return Response(ClusteringRunDetailSerializer(run).data)


class ClusterSegmentApi(APIView):
    """Save one cluster of a run as a static segment of the customers fitted into it."""

    required_permissions = {"POST": "segments.add_segment"}

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ClusterSegmentCreate"

        name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                     help_text='Empty: "Cluster N: <description>".')  # fmt: skip

    @extend_schema(summary="Save a cluster as a static segment", request=InputSerializer,
                   responses={201: SegmentOutputSerializer, 400: ClusteringErrorsSerializer})  # fmt: skip
    def post(self, request, run_id: int, cluster: int):
        get_object_or_404(ClusteringRun, pk=run_id)
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            segment = cluster_segment_create(run_id=run_id, cluster=cluster, user=request.user,
                                             name=params.validated_data["name"])  # fmt: skip
        except ClusteringError as refusal:
            return _refused(refusal)
        return Response(SegmentOutputSerializer(segment).data, status=201)


class ClustersAssignNewApi(APIView):
    """Place customers without a cluster (new since the applied run) in its nearest cluster."""

    required_permissions = {"POST": "segments.add_segment"}

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ClustersAssigned"

        run_id = serializers.IntegerField(help_text="The applied run whose clusters were used.")
        assigned = serializers.IntegerField(help_text="Customers placed now.")

    @extend_schema(summary="Place new customers in the applied run's clusters", request=None,
                   responses={200: OutputSerializer, 409: ClusteringErrorsSerializer})  # fmt: skip
    def post(self, request):
        try:
            result = clusters_assign_new()
        except ClusteringError as refusal:
            return _refused(refusal, status=409)
        return Response(self.OutputSerializer(result).data)
