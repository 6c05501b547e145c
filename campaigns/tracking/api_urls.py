"""Delivery report webhooks, included under /api/.

Importing the receivers here connects anymail's ``tracking`` signal whenever the URLs
that send it are loaded (campaigns.apps may import them too; the dispatch_uid keeps one).
"""

from django.urls import include, path

from campaigns.tracking import receivers  # noqa: F401
from campaigns.tracking.api import DeliveryWebhookApi

urlpatterns = [
    path("campaigns/webhooks/delivery/", DeliveryWebhookApi.as_view(), name="campaigns-delivery-webhook"),
    # django-anymail's ESP webhooks: <esp>/tracking/ (e.g. mailgun/tracking/), see receivers.py.
    path("campaigns/webhooks/anymail/", include("anymail.urls")),
]
