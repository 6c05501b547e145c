from django.urls import path

from segments import api
from segments.clustering import api as clustering_api

urlpatterns = [
    path("segments/", api.SegmentListApi.as_view(), name="segment-list"),
    path("segments/preview/", api.SegmentPreviewApi.as_view(), name="segment-preview"),
    path("segments/ready-made/", api.ReadyMadeSegmentsApi.as_view(), name="segment-ready-made"),
    path("segments/upload/", api.SegmentUploadApi.as_view(), name="segment-upload"),
    path("segments/<int:segment_id>/", api.SegmentDetailApi.as_view(), name="segment-detail"),
    path("segments/<int:segment_id>/refresh/", api.SegmentRefreshApi.as_view(), name="segment-refresh"),
    path("segments/<int:segment_id>/freeze/", api.SegmentFreezeApi.as_view(), name="segment-freeze"),
    path("segments/<int:segment_id>/members.csv", api.SegmentMembersCsvApi.as_view(), name="segment-members-csv"),
    path("segments/clustering/runs/", clustering_api.ClusteringRunListApi.as_view(), name="clustering-run-list"),
    path(
        "segments/clustering/runs/<int:run_id>/",
        clustering_api.ClusteringRunDetailApi.as_view(),
        name="clustering-run-detail",
    ),
    path(
        "segments/clustering/runs/<int:run_id>/clusters/<int:cluster>/segment/",
        clustering_api.ClusterSegmentApi.as_view(),
        name="clustering-cluster-segment",
    ),
    path("segments/clustering/assign/", clustering_api.ClustersAssignNewApi.as_view(), name="clustering-assign"),
]
