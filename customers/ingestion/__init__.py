"""Ingestion of shop data: one validation and one write path shared by the bulk REST API
(customers/api/bulk.py) and CSV import (csv_import.py, the import page, ``import_data``).

Validation (validation.py) is pure pandas over raw strings and imports no models; writing
(upsert.py) is set-based SQL keyed on the shop's external ids, so re-sending data is a no-op.
"""
