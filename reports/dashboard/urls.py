"""Pages of the overview dashboard, included into the reports namespace (``reports:index``
is the dashboard itself)."""

from django.urls import path

from reports.dashboard import views

urlpatterns = [
    path("", views.dashboard_page, name="index"),
    path("dashboard/<slug:table>.csv", views.dashboard_csv, name="dashboard-csv"),
]
