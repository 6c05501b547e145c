from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.generic import TemplateView

from reports.retention import views as retention_views

app_name = "reports"
urlpatterns = [
    path("", login_required(TemplateView.as_view(template_name="reports/index.html")), name="index"),
    path("retention/", retention_views.retention_page, name="retention"),
    path("retention/<slug:table>.csv", retention_views.retention_csv, name="retention-csv"),
]
