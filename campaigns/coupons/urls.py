from django.urls import path

from campaigns.coupons import views

app_name = "coupons"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pool_id>/", views.detail, name="detail"),
    path("<int:pool_id>/generate/", views.generate, name="generate"),
    path("<int:pool_id>/codes.csv", views.codes_csv, name="codes-csv"),
]
