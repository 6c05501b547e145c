from django.urls import path

from analytics import views
from analytics.churn import views as churn_views

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    path("churn/", churn_views.churn_page, name="churn"),
    path("churn/train/", churn_views.churn_train, name="churn-train"),
    path("churn/<int:model_id>/choose/", churn_views.churn_choose, name="churn-choose"),
    path("sentiment/", views.sentiment_page, name="sentiment"),
    path("sentiment/train/", views.sentiment_train, name="sentiment-train"),
    path("sentiment/try/", views.sentiment_try, name="sentiment-try"),
]
