from django.urls import path

from campaigns.sending import api

urlpatterns = [
    path("campaigns/sending-policy/", api.SendingPolicyApi.as_view(), name="api-sending-policy"),
    path(
        "campaigns/dispatches/<int:dispatch_id>/progress/",
        api.DispatchProgressApi.as_view(),
        name="api-dispatch-progress",
    ),
]
