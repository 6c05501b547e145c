"""The customer's features show on the profile page once a refresh has computed them."""

import datetime as dt
from decimal import Decimal

import pytest

from segments.services import features_refresh_full
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_profile_shows_features_after_a_refresh(marketer_client):
    customer = CustomerFactory(external_id="C-FEAT")
    as_of = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    for days_ago, total in [(3, "120.00"), (40, "80.00"), (200, "50.00")]:
        OrderFactory(customer=customer, total=Decimal(total), ordered_at=as_of - dt.timedelta(days=days_ago))

    before = marketer_client.get("/customers/C-FEAT/").content.decode()
    assert 'data-testid="customer-features"' not in before
    assert "appear here once they have been computed" in before

    features_refresh_full(as_of=as_of)
    page = marketer_client.get("/customers/C-FEAT/").content.decode()
    assert 'data-testid="customer-features"' in page
    assert "<dt>Days since last order</dt><dd>3</dd>" in page
    assert "<dt>Orders in the last 90 days</dt><dd>2</dd>" in page
