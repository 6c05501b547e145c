from django.urls import include, path

from reports.campaigns import views as campaign_views
from reports.churn import views as churn_views
from reports.paths import views as paths_views
from reports.retention import views as retention_views

app_name = "reports"
urlpatterns = [
    path("", include("reports.dashboard.urls")),  # the dashboard: reports:index, reports:dashboard-csv
    path("retention/", retention_views.retention_page, name="retention"),
    path("funnels/", include("reports.funnels.urls")),
    path("retention/refresh/", retention_views.retention_refresh_view, name="retention-refresh"),
    path("retention/<slug:table>.csv", retention_views.retention_csv, name="retention-csv"),
    path("campaigns/", campaign_views.campaign_list_page, name="campaigns"),
    path("campaigns/campaigns.csv", campaign_views.campaign_list_csv, name="campaigns-csv"),
    path("campaigns/<int:campaign_id>/", campaign_views.campaign_report_page, name="campaign"),
    path("campaigns/<int:campaign_id>/<slug:table>.csv", campaign_views.campaign_report_csv, name="campaign-csv"),
    path("churn/", churn_views.churn_page, name="churn"),
    path("churn/<slug:table>.csv", churn_views.churn_csv, name="churn-csv"),
    path("paths/", paths_views.paths_page, name="paths"),
    path("paths/<slug:table>.csv", paths_views.paths_csv, name="paths-csv"),
]
