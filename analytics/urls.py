from django.urls import path

from analytics import views
from analytics.churn import views as churn_views
from analytics.recommendations import views as recommendations_views
from analytics.sequences import views as sequences_views

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    path("churn/", churn_views.churn_page, name="churn"),
    path("churn/train/", churn_views.churn_train, name="churn-train"),
    path("churn/alerts/", churn_views.churn_alerts_page, name="churn-alerts"),
    path("churn/alerts/enroll/", churn_views.churn_alerts_enroll_view, name="churn-alerts-enroll"),
    path("churn/<int:model_id>/choose/", churn_views.churn_choose, name="churn-choose"),
    path("sentiment/", views.sentiment_page, name="sentiment"),
    path("sentiment/train/", views.sentiment_train, name="sentiment-train"),
    path("sentiment/try/", views.sentiment_try, name="sentiment-try"),
    path("clv/", views.clv_page, name="clv"),
    path("clv/fit/", views.clv_fit_create, name="clv-fit"),
    path("recommendations/", recommendations_views.recommendations_page, name="recommendations"),
    path("recommendations/fit/", recommendations_views.recommendations_fit, name="recommendations-fit"),
    path("recommendations/customer/", recommendations_views.recommendations_customer, name="recommendations-customer"),
    path("paths/", sequences_views.paths_page, name="paths"),
    path("paths/compute/", sequences_views.paths_compute, name="paths-compute"),
]
