"""REST routes of the analytics app, mounted under /api/."""

from django.urls import path

from analytics.churn import api as churn_api
from analytics.clv import api as clv_api
from analytics.recommendations import api as recommendations_api
from analytics.sentiment import api as sentiment_api
from analytics.sequences import api as sequences_api

urlpatterns: list = [
    path("churn/models/", churn_api.ChurnModelListApi.as_view(), name="churn-model-list"),
    path("churn/models/<int:model_id>/", churn_api.ChurnModelDetailApi.as_view(), name="churn-model-detail"),
    path("churn/alerts/", churn_api.ChurnAlertListApi.as_view(), name="churn-alert-list"),
    path("sentiment/", sentiment_api.SentimentScoreApi.as_view(), name="sentiment-score"),
    path("sentiment/model/", sentiment_api.SentimentModelApi.as_view(), name="sentiment-model"),
    path("sentiment/train/", sentiment_api.SentimentTrainApi.as_view(), name="sentiment-train"),
    path("sentiment/trend/", sentiment_api.SentimentTrendApi.as_view(), name="sentiment-trend"),
    path("sentiment/aspects/", sentiment_api.SentimentAspectsApi.as_view(), name="sentiment-aspects"),
    path("clv/fits/", clv_api.ClvFitListApi.as_view(), name="clv-fit-list"),
    path("clv/fits/<int:fit_id>/", clv_api.ClvFitDetailApi.as_view(), name="clv-fit-detail"),
    path("recommendations/", recommendations_api.RecommendationRunApi.as_view(), name="recommendations-run"),
    path("recommendations/fit/", recommendations_api.RecommendationFitApi.as_view(), name="recommendations-fit"),
    path(
        "recommendations/customers/<int:customer_id>/",
        recommendations_api.CustomerRecommendationsApi.as_view(),
        name="recommendations-customer",
    ),
    path(
        "recommendations/products/<int:product_id>/together/",
        recommendations_api.FrequentlyBoughtTogetherApi.as_view(),
        name="recommendations-together",
    ),
    path("paths/", sequences_api.BehaviourPathsApi.as_view(), name="behaviour-paths"),
]
