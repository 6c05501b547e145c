"""REST routes of the customers app, mounted under /api/."""
from django.urls import path  # noqa: F401

urlpatterns: list = [
    # bulk ingestion (customers/api/bulk.py): /api/bulk/<kind>/
    # read endpoints (customers/api/profiles.py): /api/customers/ ...
]
