"""REST routes of member tiers, mounted under /api/."""

from django.urls import path

from campaigns.tiers import api

urlpatterns = [
    path("campaigns/tiers/", api.TierListApi.as_view(), name="tier-list"),
    path("campaigns/tiers/standard/", api.TierStandardApi.as_view(), name="tier-standard"),
    path("campaigns/tiers/recalculate/", api.TierRecalculateApi.as_view(), name="tier-recalculate"),
    path("campaigns/tiers/distribution/", api.TierDistributionApi.as_view(), name="tier-distribution"),
    path("campaigns/tiers/<int:tier_id>/", api.TierDetailApi.as_view(), name="tier-detail"),
    path(
        "campaigns/tiers/customers/<str:external_id>/history/",
        api.CustomerTierHistoryApi.as_view(),
        name="tier-customer-history",
    ),
]
