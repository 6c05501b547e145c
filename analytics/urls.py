from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    path("sentiment/", views.sentiment_page, name="sentiment"),
    path("sentiment/train/", views.sentiment_train, name="sentiment-train"),
    path("sentiment/try/", views.sentiment_try, name="sentiment-try"),
]
