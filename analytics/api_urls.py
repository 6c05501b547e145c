"""REST routes of the analytics app, mounted under /api/."""

from django.urls import path

from analytics.churn import api as churn_api
from analytics.sentiment import api as sentiment_api

urlpatterns: list = [
    path("churn/models/", churn_api.ChurnModelListApi.as_view(), name="churn-model-list"),
    path("churn/models/<int:model_id>/", churn_api.ChurnModelDetailApi.as_view(), name="churn-model-detail"),
    path("sentiment/", sentiment_api.SentimentScoreApi.as_view(), name="sentiment-score"),
    path("sentiment/model/", sentiment_api.SentimentModelApi.as_view(), name="sentiment-model"),
    path("sentiment/train/", sentiment_api.SentimentTrainApi.as_view(), name="sentiment-train"),
    path("sentiment/trend/", sentiment_api.SentimentTrendApi.as_view(), name="sentiment-trend"),
    path("sentiment/aspects/", sentiment_api.SentimentAspectsApi.as_view(), name="sentiment-aspects"),
]
