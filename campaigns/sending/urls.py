from django.urls import path

from campaigns.sending import views

app_name = "sending"
urlpatterns = [path("policy/", views.policy, name="policy")]
