from django.urls import path

from segments.api import SegmentPreviewApi

urlpatterns = [path("segments/preview/", SegmentPreviewApi.as_view(), name="segment-preview")]
