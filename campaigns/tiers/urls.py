from django.urls import path

from campaigns.tiers import views

app_name = "tiers"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.tier_new, name="new"),
    path("standard/", views.tiers_standard, name="standard"),
    path("recalculate/", views.recalculate, name="recalculate"),
    path("<int:tier_id>/edit/", views.tier_edit, name="edit"),
    path("<int:tier_id>/delete/", views.tier_remove, name="delete"),
]
