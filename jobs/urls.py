from django.urls import path

from jobs import views

urlpatterns = [path("jobs/<uuid:job_id>/progress/", views.job_progress_partial, name="job-progress")]
