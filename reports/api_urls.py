"""REST routes of the reports app, mounted under /api/."""

from django.urls import include, path

from reports.campaigns import api as campaign_api
from reports.churn import api as churn_api
from reports.dashboard import api as dashboard_api
from reports.paths import api as paths_api
from reports.retention import api as retention_api

urlpatterns: list = [
    path("reports/retention/", retention_api.RetentionApi.as_view(), name="report-retention"),
    path("reports/funnels/", include("reports.funnels.api_urls")),
    path("reports/dashboard/", dashboard_api.DashboardApi.as_view(), name="report-dashboard"),
    path("reports/campaigns/", campaign_api.CampaignReportListApi.as_view(), name="report-campaigns"),
    path("reports/campaigns/<int:campaign_id>/", campaign_api.CampaignReportApi.as_view(), name="report-campaign"),
    path("reports/churn/", churn_api.ChurnReportApi.as_view(), name="report-churn"),
    path("reports/paths/", paths_api.PathsReportApi.as_view(), name="report-paths"),
]
