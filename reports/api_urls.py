"""REST routes of the reports app, mounted under /api/."""

from django.urls import path

from reports.retention import api as retention_api

urlpatterns: list = [
    path("reports/retention/", retention_api.RetentionApi.as_view(), name="report-retention"),
]
