"""REST routes of the customers app, mounted under /api/."""

from django.urls import path

from customers.api.bulk import BulkIngestApi
from customers.api.privacy import CustomerEraseApi, CustomerExportApi
from customers.api.profiles import CustomerDetailApi, CustomerListApi, CustomerTimelineApi

urlpatterns: list = [
    # bulk ingestion (customers/api/bulk.py): /api/bulk/<kind>/
    path("bulk/<str:kind>/", BulkIngestApi.as_view(), name="bulk-ingest"),
    # read endpoints (customers/api/profiles.py): /api/customers/ ...
    path("customers/", CustomerListApi.as_view(), name="customer-list"),
    path("customers/<str:external_id>/", CustomerDetailApi.as_view(), name="customer-detail"),
    path("customers/<str:external_id>/timeline/", CustomerTimelineApi.as_view(), name="customer-timeline"),
    # data subject requests (customers/api/privacy.py)
    path("customers/<str:external_id>/export/", CustomerExportApi.as_view(), name="customer-export"),
    path("customers/<str:external_id>/erase/", CustomerEraseApi.as_view(), name="customer-erase"),
]
