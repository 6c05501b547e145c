from django.urls import include, path

from campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.pages.new, name="new"),
    path("audience/", views.partials.audience, name="audience"),
    path("template-check/", views.partials.template_check, name="template-check"),
    path("preview/", views.partials.preview_draft, name="preview-draft"),
    path("<int:campaign_id>/", views.pages.detail, name="detail"),
    path("<int:campaign_id>/edit/", views.pages.edit, name="edit"),
    path("<int:campaign_id>/launch/", views.pages.launch, name="launch"),
    path("<int:campaign_id>/pause/", views.pages.pause, name="pause"),
    path("<int:campaign_id>/resume/", views.pages.resume, name="resume"),
    path("<int:campaign_id>/cancel/", views.pages.cancel, name="cancel"),
    path("<int:campaign_id>/duplicate/", views.pages.duplicate, name="duplicate"),
    path("<int:campaign_id>/progress/", views.partials.progress, name="progress"),
    path("<int:campaign_id>/preview/", views.partials.preview, name="preview"),
    path("coupons/", include("campaigns.coupons.urls")),
    path("tiers/", include("campaigns.tiers.urls")),
    path("sending/", include("campaigns.sending.urls")),
]
