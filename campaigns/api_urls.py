from django.urls import include, path

from campaigns import api

urlpatterns = [
    path("campaigns/", api.CampaignListApi.as_view(), name="campaign-list"),
    path("campaigns/<int:campaign_id>/", api.CampaignDetailApi.as_view(), name="campaign-detail"),
    path("campaigns/<int:campaign_id>/launch/", api.CampaignLaunchApi.as_view(), name="campaign-launch"),
    path("campaigns/<int:campaign_id>/pause/", api.CampaignPauseApi.as_view(), name="campaign-pause"),
    path("campaigns/<int:campaign_id>/resume/", api.CampaignResumeApi.as_view(), name="campaign-resume"),
    path("campaigns/<int:campaign_id>/cancel/", api.CampaignCancelApi.as_view(), name="campaign-cancel"),
    path("campaigns/<int:campaign_id>/duplicate/", api.CampaignDuplicateApi.as_view(), name="campaign-duplicate"),
    path("campaigns/<int:campaign_id>/preview/", api.CampaignPreviewApi.as_view(), name="campaign-preview"),
    path("campaigns/<int:campaign_id>/progress/", api.CampaignProgressApi.as_view(), name="campaign-progress"),
    path("campaigns/<int:campaign_id>/comparison/", api.CampaignComparisonApi.as_view(), name="campaign-comparison"),
    path("campaigns/<int:campaign_id>/events/", api.CampaignEventsApi.as_view(), name="campaign-events"),
    path("", include("campaigns.coupons.api_urls")),
    path("", include("campaigns.tiers.api_urls")),
    path("", include("campaigns.tracking.api_urls")),
    path("", include("campaigns.sending.api_urls")),
]
