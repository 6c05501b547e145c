from django.urls import path

from segments import views
from segments.clustering import views as clustering_views

app_name = "segments"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.builder, name="new"),
    path("preview/", views.preview, name="preview"),
    path("rfm/", views.rfm_segments, name="rfm"),
    path("interest/", views.interest_segments, name="interest"),
    path("clustering/", clustering_views.clustering_index, name="clustering"),
    path("clustering/assign/", clustering_views.clusters_assign, name="clustering-assign"),
    path("clustering/<int:run_id>/", clustering_views.clustering_run_detail, name="clustering-run"),
    path(
        "clustering/<int:run_id>/clusters/<int:cluster>/segment/",
        clustering_views.cluster_segment_save,
        name="clustering-cluster-segment",
    ),
    path("<int:segment_id>/", views.detail, name="detail"),
    path("<int:segment_id>/edit/", views.builder, name="edit"),
    path("<int:segment_id>/refresh/", views.refresh, name="refresh"),
    path("<int:segment_id>/freeze/", views.freeze, name="freeze"),
]
