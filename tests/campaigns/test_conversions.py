"""Conversion attribution: each basis and its window, once per order across campaigns
whatever the run order, the holdout basis, idempotence, cancelled orders."""

import datetime as dt
from decimal import Decimal

import pytest

from campaigns.conversions import conversions_attribute, conversions_attribute_recent
from campaigns.models import Conversion, Dispatch, Message
from customers.models import Order
from tests.campaigns.experiments.factories import (
    T0,
    campaign_create,
    customers_create,
    holdout_create,
    messages_create,
    order_create,
)

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def credited() -> dict[int, tuple[int, str]]:
    """order id → (message id, basis)."""
    return {c.order_id: (c.message_id, c.basis) for c in Conversion.objects.all()}


def test_send_basis_counts_orders_within_the_window_after_the_send():
    campaign, variants, dispatch = campaign_create(conversion_window_days=7)
    (customer,) = customers_create(1)
    (message,) = messages_create(dispatch, [customer], variant=variants["B"])
    inside = order_create(customer, T0 + 2 * DAY, "59.90")
    last_moment = order_create(customer, T0 + 7 * DAY - dt.timedelta(seconds=1))
    order_create(customer, T0 + 7 * DAY)  # the window is [send, send + 7 days)
    order_create(customer, T0 - dt.timedelta(hours=1))  # before the send
    order_create(customer, T0 + DAY, status=Order.Status.CANCELLED)
    order_create(customer, T0 + DAY, status=Order.Status.RETURNED)
    (other,) = customers_create(1)
    order_create(other, T0 + DAY)  # someone who got nothing

    assert conversions_attribute(campaign_id=campaign.pk) == 2
    assert credited() == {inside.pk: (message.pk, "send"), last_moment.pk: (message.pk, "send")}
    conversion = Conversion.objects.get(order=inside)
    assert conversion.revenue == Decimal("59.90")
    assert conversion.campaign_id == campaign.pk
    assert conversion.variant_id == variants["B"].pk
    assert conversion.converted_at == inside.ordered_at


def test_click_basis_opens_its_own_window_and_beats_the_send():
    campaign, variants, dispatch = campaign_create(conversion_window_days=7)
    (customer,) = customers_create(1)
    (message,) = messages_create(dispatch, [customer], variant=variants["A"], clicked_at=T0 + 5 * DAY)
    before_click = order_create(customer, T0 + 2 * DAY)
    after_click = order_create(customer, T0 + 6 * DAY)
    late = order_create(customer, T0 + 11 * DAY)  # outside the send window, inside the click's
    order_create(customer, T0 + 12 * DAY + dt.timedelta(hours=1))  # after both windows

    assert conversions_attribute(campaign_id=campaign.pk) == 3
    assert credited() == {
        before_click.pk: (message.pk, "send"),
        after_click.pk: (message.pk, "click"),
        late.pk: (message.pk, "click"),
    }


def test_coupon_basis_has_no_window_but_needs_the_send_and_the_customer():
    campaign, variants, dispatch = campaign_create(conversion_window_days=7)
    customer, stranger = customers_create(2)
    (message,) = messages_create(dispatch, [customer], variant=variants["A"], coupon_code="SPRING-7XK2")
    with_code = order_create(customer, T0 + 30 * DAY, coupon_code="SPRING-7XK2")
    order_create(customer, T0 - DAY, coupon_code="SPRING-7XK2")  # before it was sent
    order_create(stranger, T0 + DAY, coupon_code="SPRING-7XK2")  # another customer's order
    order_create(customer, T0 + 40 * DAY, coupon_code="OTHER")

    assert conversions_attribute(campaign_id=campaign.pk) == 1
    assert credited() == {with_code.pk: (message.pk, "coupon")}


def test_unsent_messages_earn_nothing():
    campaign, variants, dispatch = campaign_create()
    failed, waiting, no_consent = customers_create(3)
    messages_create(dispatch, [failed], variant=variants["A"], status=Message.Status.FAILED)
    messages_create(dispatch, [waiting], status=Message.Status.WAITING, in_test=False)
    messages_create(dispatch, [no_consent], status=Message.Status.SKIPPED, skip_reason=Message.SkipReason.NO_CONSENT)
    for customer in (failed, waiting, no_consent):
        order_create(customer, T0 + DAY)
    assert conversions_attribute(campaign_id=campaign.pk) == 0


def test_holdout_basis_counts_orders_after_the_freeze():
    campaign, _variants, dispatch = campaign_create(holdout_percent=10, conversion_window_days=3)
    (member,) = customers_create(1)
    (message,) = holdout_create(dispatch, [member], created_at=T0)
    inside = order_create(member, T0 + 2 * DAY, "80.00")
    order_create(member, T0 + 4 * DAY)

    assert conversions_attribute(campaign_id=campaign.pk) == 1
    conversion = Conversion.objects.get()
    assert (conversion.order_id, conversion.message_id, conversion.basis) == (inside.pk, message.pk, "holdout")
    assert conversion.variant_id is None and conversion.revenue == Decimal("80.00")


def test_running_twice_adds_nothing_and_new_orders_are_added_later():
    campaign, variants, dispatch = campaign_create()
    customers = customers_create(3)
    messages_create(dispatch, customers, variant=variants["A"])
    for customer in customers:
        order_create(customer, T0 + DAY)
    assert conversions_attribute(campaign_id=campaign.pk) == 3
    assert conversions_attribute(campaign_id=campaign.pk) == 0
    order_create(customers[0], T0 + 2 * DAY)
    assert conversions_attribute(campaign_id=campaign.pk) == 1
    assert Conversion.objects.count() == 4


def test_an_order_cancelled_after_it_was_credited_is_taken_back():
    campaign, variants, dispatch = campaign_create()
    (customer,) = customers_create(1)
    messages_create(dispatch, [customer], variant=variants["A"])
    order = order_create(customer, T0 + DAY)
    conversions_attribute(campaign_id=campaign.pk)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    assert conversions_attribute(campaign_id=campaign.pk) == 0
    assert not Conversion.objects.exists()


@pytest.mark.parametrize("first", ["earlier", "later"])
def test_an_order_is_credited_once_to_the_latest_send_whatever_campaign_runs_first(first):
    earlier, earlier_variants, earlier_dispatch = campaign_create(conversion_window_days=7)
    later, later_variants, later_dispatch = campaign_create(conversion_window_days=7)
    (customer,) = customers_create(1)
    messages_create(earlier_dispatch, [customer], variant=earlier_variants["A"], sent_at=T0)
    (latest,) = messages_create(later_dispatch, [customer], variant=later_variants["A"], sent_at=T0 + DAY)
    order = order_create(customer, T0 + 2 * DAY)

    order_of_runs = [earlier, later] if first == "earlier" else [later, earlier]
    added = [conversions_attribute(campaign_id=c.pk) for c in order_of_runs]
    assert sum(added) == 1
    assert credited() == {order.pk: (latest.pk, "send")}
    assert Conversion.objects.get().campaign_id == later.pk


@pytest.mark.parametrize("first", ["coupon", "send"])
def test_a_coupon_beats_a_later_send_of_another_campaign(first):
    coupon_campaign, coupon_variants, coupon_dispatch = campaign_create()
    send_campaign, send_variants, send_dispatch = campaign_create()
    (customer,) = customers_create(1)
    (with_code,) = messages_create(coupon_dispatch, [customer], variant=coupon_variants["A"], coupon_code="GOLD10")
    messages_create(send_dispatch, [customer], variant=send_variants["A"], sent_at=T0 + DAY, clicked_at=T0 + DAY)
    order = order_create(customer, T0 + 2 * DAY, coupon_code="GOLD10")

    runs = [coupon_campaign, send_campaign] if first == "coupon" else [send_campaign, coupon_campaign]
    for campaign in runs:
        conversions_attribute(campaign_id=campaign.pk)
    assert credited() == {order.pk: (with_code.pk, "coupon")}


def test_holdout_and_sends_compete_by_time():
    """A holdout member's order goes to a later send of another campaign, and stays with
    the holdout when the other campaign's send came before the freeze."""
    held, _held_variants, held_dispatch = campaign_create(holdout_percent=10)
    other, other_variants, other_dispatch = campaign_create()
    first_customer, second_customer = customers_create(2)
    holdout_create(held_dispatch, [first_customer], created_at=T0)
    (later_send,) = messages_create(other_dispatch, [first_customer], variant=other_variants["A"], sent_at=T0 + DAY)
    (holdout_message,) = holdout_create(held_dispatch, [second_customer], created_at=T0 + DAY)
    messages_create(other_dispatch, [second_customer], variant=other_variants["A"], sent_at=T0)
    first_order = order_create(first_customer, T0 + 2 * DAY)
    second_order = order_create(second_customer, T0 + 2 * DAY)

    assert conversions_attribute(campaign_id=held.pk) == 1
    assert conversions_attribute(campaign_id=other.pk) == 1
    assert credited() == {first_order.pk: (later_send.pk, "send"), second_order.pk: (holdout_message.pk, "holdout")}


def test_the_latest_occurrence_of_a_recurring_campaign_gets_the_order():
    campaign, variants, first_dispatch = campaign_create()
    second_dispatch = Dispatch.objects.create(campaign=campaign, occurrence=1, status=Dispatch.Status.SENDING)
    (customer,) = customers_create(1)
    messages_create(first_dispatch, [customer], variant=variants["A"], sent_at=T0)
    (second,) = messages_create(second_dispatch, [customer], variant=variants["B"], sent_at=T0 + DAY)
    order = order_create(customer, T0 + 2 * DAY)
    assert conversions_attribute(campaign_id=campaign.pk) == 1
    assert credited() == {order.pk: (second.pk, "send")}
    assert Conversion.objects.get().variant_id == variants["B"].pk


def test_recent_attribution_covers_the_campaigns_sent_lately():
    now = T0 + 3 * DAY
    recent, recent_variants, recent_dispatch = campaign_create()
    old, old_variants, old_dispatch = campaign_create()
    Dispatch.objects.filter(pk=recent_dispatch.pk).update(created_at=T0, finished_at=T0 + DAY)
    Dispatch.objects.filter(pk=old_dispatch.pk).update(created_at=T0 - 90 * DAY, finished_at=T0 - 89 * DAY)
    new_customer, old_customer = customers_create(2)
    messages_create(recent_dispatch, [new_customer], variant=recent_variants["A"])
    messages_create(old_dispatch, [old_customer], variant=old_variants["A"], sent_at=T0 - 90 * DAY)
    order_create(new_customer, T0 + DAY)
    order_create(old_customer, T0 - 88 * DAY)

    assert conversions_attribute_recent(days=30, now=now) == 1
    assert list(Conversion.objects.values_list("campaign_id", flat=True)) == [recent.pk]
    assert conversions_attribute_recent(days=30, now=now) == 0
    assert conversions_attribute(campaign_id=old.pk) == 1


def test_recent_attribution_credits_an_order_once_when_both_campaigns_are_in_scope():
    first, first_variants, first_dispatch = campaign_create()
    second, second_variants, second_dispatch = campaign_create()
    (customer,) = customers_create(1)
    messages_create(first_dispatch, [customer], variant=first_variants["A"], sent_at=T0)
    (latest,) = messages_create(second_dispatch, [customer], variant=second_variants["B"], sent_at=T0 + DAY)
    order = order_create(customer, T0 + 2 * DAY)
    assert conversions_attribute_recent(days=30) == 1
    assert credited() == {order.pk: (latest.pk, "send")}
    assert conversions_attribute(campaign_id=first.pk) == 0
    assert conversions_attribute(campaign_id=second.pk) == 0
