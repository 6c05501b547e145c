from django.urls import path

from segments import views

app_name = "segments"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.builder, name="new"),
    path("preview/", views.preview, name="preview"),
    path("rfm/", views.rfm_segments, name="rfm"),
    path("<int:segment_id>/", views.detail, name="detail"),
    path("<int:segment_id>/edit/", views.builder, name="edit"),
    path("<int:segment_id>/refresh/", views.refresh, name="refresh"),
    path("<int:segment_id>/freeze/", views.freeze, name="freeze"),
]
