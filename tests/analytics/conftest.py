import datetime as dt

import pytest

from customers.demo.generator import demo_data_generate

DEMO_END = dt.datetime(2025, 6, 30, tzinfo=dt.UTC)


@pytest.fixture
def demo_reviews(db):
    """A small demo shop: about 1,700 reviews in Chinese and English (≈1,500 rated 1–2 or 4–5)."""
    return demo_data_generate(customers=1500, seed=3, end=DEMO_END, flush=True)
