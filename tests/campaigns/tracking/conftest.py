import pytest


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PRECIS_PUBLIC_BASE_URL = "https://shop.example.com"
    settings.PRECIS_SHOP_NAME = "Lotus Shop"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
