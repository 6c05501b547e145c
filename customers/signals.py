"""Signals customer data sends, so apps on its right can react without being imported here.

``orders_saved``: a batch of orders was written by a bulk request or a CSV import chunk and
the batch is committed. Keyword arguments: ``order_ids`` (list[int]), the primary keys of
the batch's orders that carry a coupon code (campaigns record their redemptions). Batches
without such orders send nothing.
"""

from django.dispatch import Signal

orders_saved = Signal()
