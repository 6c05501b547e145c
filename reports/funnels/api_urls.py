"""Funnel REST routes, included under /api/reports/funnels/."""

from django.urls import path

from reports.funnels import api

urlpatterns = [
    path("", api.FunnelListApi.as_view(), name="report-funnels"),
    path("<int:funnel_id>/", api.FunnelDetailApi.as_view(), name="report-funnel"),
    path("<int:funnel_id>/result/", api.FunnelResultApi.as_view(), name="report-funnel-result"),
]
