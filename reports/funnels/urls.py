"""Funnel pages, included under /reports/funnels/ in the reports namespace."""

from django.urls import path

from reports.funnels import views

urlpatterns = [
    path("", views.funnel_list, name="funnels"),
    path("step-row/", views.funnel_step_row, name="funnel-step-row"),
    path("<int:funnel_id>/", views.funnel_page, name="funnel"),
    path("<int:funnel_id>/edit/", views.funnel_edit, name="funnel-edit"),
    path("<int:funnel_id>/delete/", views.funnel_remove, name="funnel-delete"),
    path("<int:funnel_id>/funnel.csv", views.funnel_csv, name="funnel-csv"),
]
