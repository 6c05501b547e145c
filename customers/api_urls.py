"""REST routes of the customers app, mounted under /api/."""

from django.urls import path

from customers.api.bulk import BulkIngestApi

urlpatterns: list = [
    # bulk ingestion (customers/api/bulk.py): /api/bulk/<kind>/
    path("bulk/<str:kind>/", BulkIngestApi.as_view(), name="bulk-ingest"),
    # read endpoints (customers/api/profiles.py): /api/customers/ ...
]
