"""Pools, a campaign with a dispatch and its messages, shared by the coupons tests."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.coupons.services import coupon_pool_create
from campaigns.models import Campaign, Dispatch, Message
from tests.factories import CustomerFactory


def unique_pool(**terms):
    defaults = {"name": "Spring 10%", "kind": "unique", "discount_kind": "percent", "discount_value": Decimal("10")}
    return coupon_pool_create(**(defaults | terms))


def shared_pool(**terms):
    defaults = {
        "name": "Welcome",
        "kind": "shared",
        "discount_kind": "fixed",
        "discount_value": Decimal("5"),
        "shared_code": "WELCOME5",
    }
    return coupon_pool_create(**(defaults | terms))


def dispatch_with_messages(pool, *, statuses=("queued",), customers=None, campaign=None):
    """A campaign offering ``pool`` and one dispatch with a message per status given."""
    campaign = campaign or Campaign.objects.create(name="Coupon send", coupon_pool=pool)
    occurrence = campaign.dispatches.count()
    dispatch = Dispatch.objects.create(campaign=campaign, occurrence=occurrence)
    customers = customers or CustomerFactory.create_batch(len(statuses))
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            dispatch=dispatch,
            campaign=campaign,
            customer=customer,
            occurrence=occurrence,
            status=status,
            skip_reason="holdout" if status == "skipped" else "",
            created_at=now,
        )
        for customer, status in zip(customers, statuses, strict=True)
    )
    return dispatch


@pytest.fixture
def pool(db):
    return unique_pool()


@pytest.fixture
def later():
    return timezone.now() + dt.timedelta(days=30)
