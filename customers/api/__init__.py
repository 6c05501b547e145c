"""Customer data REST API: bulk ingestion (bulk.py) and read endpoints (profiles.py)."""
