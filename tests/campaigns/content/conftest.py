import pytest


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PRECIS_PUBLIC_BASE_URL = "https://shop.example.com"
    settings.PRECIS_SHOP_NAME = "Lotus Shop"
