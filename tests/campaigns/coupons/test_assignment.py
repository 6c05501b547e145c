"""coupons_assign: one code per queued or waiting message, each code to one recipient."""

import pytest

from campaigns.coupons.services import coupon_codes_generate, coupons_assign
from campaigns.models import Campaign, Coupon, Message
from tests.campaigns.coupons.conftest import dispatch_with_messages, shared_pool

pytestmark = pytest.mark.django_db


def test_each_queued_and_waiting_message_gets_its_own_code(pool):
    coupon_codes_generate(pool_id=pool.pk, count=10)
    dispatch = dispatch_with_messages(pool, statuses=["queued"] * 4 + ["waiting"] * 2 + ["skipped", "sent"])
    assert coupons_assign(dispatch_id=dispatch.pk) == 6

    messages = {m.pk: m for m in Message.objects.filter(dispatch=dispatch)}
    given = {m.pk: m.coupon_code for m in messages.values() if m.coupon_code}
    assert {messages[pk].status for pk in given} == {"queued", "waiting"}
    assert len(set(given.values())) == 6
    for coupon in Coupon.objects.filter(message__isnull=False):
        message = messages[coupon.message_id]
        assert coupon.code == message.coupon_code
        assert coupon.customer_id == message.customer_id
        assert coupon.assigned_at is not None
    assert Coupon.objects.filter(pool=pool, message__isnull=True).count() == 4


def test_assigning_again_changes_nothing(pool):
    dispatch = dispatch_with_messages(pool, statuses=["queued"] * 3)
    coupons_assign(dispatch_id=dispatch.pk)
    before = dict(Message.objects.filter(dispatch=dispatch).values_list("pk", "coupon_code"))
    assert coupons_assign(dispatch_id=dispatch.pk) == 0
    assert dict(Message.objects.filter(dispatch=dispatch).values_list("pk", "coupon_code")) == before
    assert Coupon.objects.filter(message__isnull=False).count() == 3


def test_codes_are_generated_when_the_pool_runs_short(pool):
    coupon_codes_generate(pool_id=pool.pk, count=2)
    dispatch = dispatch_with_messages(pool, statuses=["queued"] * 5)
    assert coupons_assign(dispatch_id=dispatch.pk) == 5
    assert pool.coupons.count() == 5
    assert not Message.objects.filter(dispatch=dispatch, coupon_code="").exists()


def test_waiting_rows_released_later_get_codes_then(pool):
    """The lead's sender calls again when the winner is released: only the new rows change."""
    dispatch = dispatch_with_messages(pool, statuses=["queued", "queued", "waiting"])
    Message.objects.filter(dispatch=dispatch, status="waiting").update(status="skipped")
    assert coupons_assign(dispatch_id=dispatch.pk) == 2
    first = dict(Message.objects.filter(dispatch=dispatch, status="queued").values_list("pk", "coupon_code"))
    Message.objects.filter(dispatch=dispatch, status="skipped").update(status="queued")
    assert coupons_assign(dispatch_id=dispatch.pk) == 1
    after = dict(Message.objects.filter(dispatch=dispatch).values_list("pk", "coupon_code"))
    assert all(after[pk] == code for pk, code in first.items())
    assert len(set(after.values())) == 3


def test_two_dispatches_of_one_pool_never_share_a_code(pool):
    first = dispatch_with_messages(pool, statuses=["queued"] * 3)
    second = dispatch_with_messages(pool, statuses=["queued"] * 3, campaign=Campaign.objects.create(
        name="Second", coupon_pool=pool))  # fmt: skip
    coupons_assign(dispatch_id=first.pk)
    coupons_assign(dispatch_id=second.pk)
    codes = list(Message.objects.values_list("coupon_code", flat=True))
    assert len(codes) == len(set(codes)) == 6


def test_a_message_half_assigned_by_an_interrupted_run_gets_its_code_copied(pool):
    """Crash between the two statements: the coupon names the message, the message has no
    code yet; the next run copies it instead of giving a second code."""
    dispatch = dispatch_with_messages(pool, statuses=["queued"])
    coupons_assign(dispatch_id=dispatch.pk)
    message = Message.objects.get(dispatch=dispatch)
    code = message.coupon_code
    Message.objects.filter(pk=message.pk).update(coupon_code="")
    assert coupons_assign(dispatch_id=dispatch.pk) == 1
    message.refresh_from_db()
    assert message.coupon_code == code
    assert pool.coupons.filter(message__isnull=False).count() == 1


def test_a_shared_pool_gives_everyone_the_shared_code():
    pool = shared_pool(shared_code="HELLO")
    dispatch = dispatch_with_messages(pool, statuses=["queued", "waiting", "skipped"])
    assert coupons_assign(dispatch_id=dispatch.pk) == 2
    assert sorted(Message.objects.values_list("status", "coupon_code")) == [
        ("queued", "HELLO"),
        ("skipped", ""),
        ("waiting", "HELLO"),
    ]
    assert coupons_assign(dispatch_id=dispatch.pk) == 0
    assert pool.coupons.count() == 1


def test_a_campaign_without_a_pool_assigns_nothing(pool):
    campaign = Campaign.objects.create(name="No offer")
    dispatch = dispatch_with_messages(None, statuses=["queued"], campaign=campaign)
    assert coupons_assign(dispatch_id=dispatch.pk) == 0
    assert Message.objects.get(dispatch=dispatch).coupon_code == ""
