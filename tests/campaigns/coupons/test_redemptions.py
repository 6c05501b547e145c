"""redemptions_record and coupon_redeem: every refusal reason, and never two accepted uses."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from campaigns.coupons.errors import CouponError, CouponErrorCode
from campaigns.coupons.services import coupon_redeem, coupons_assign, redemptions_record
from campaigns.models import Coupon, Message, Redemption
from tests.campaigns.coupons.conftest import dispatch_with_messages, shared_pool, unique_pool
from tests.factories import BASE_TIME, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def sent_codes(pool, count):
    """``count`` recipients with their unique code: [(customer, code)]."""
    dispatch = dispatch_with_messages(pool, statuses=["queued"] * count)
    coupons_assign(dispatch_id=dispatch.pk)
    return [(m.customer, m.coupon_code) for m in Message.objects.filter(dispatch=dispatch).select_related("customer")]


def outcome(order):
    redemption = Redemption.objects.get(order=order)
    return (redemption.status, redemption.reason)


def test_the_recipient_using_their_code_is_accepted(pool):
    [(customer, code)] = sent_codes(pool, 1)
    order = OrderFactory(customer=customer, coupon_code=code.lower())  # typed in lower case
    summary = redemptions_record()
    assert summary.as_dict() == {"accepted": 1, "refused": {}, "recorded": 1}
    redemption = Redemption.objects.get(order=order)
    assert (redemption.status, redemption.reason, redemption.customer_id) == ("accepted", "", customer.pk)
    assert redemption.coupon.code == code
    assert redemption.redeemed_at == order.ordered_at


def test_recording_twice_records_nothing_new(pool):
    [(customer, code)] = sent_codes(pool, 1)
    OrderFactory(customer=customer, coupon_code=code)
    redemptions_record()
    assert redemptions_record().recorded == 0
    assert Redemption.objects.count() == 1


def test_a_second_order_with_the_same_unique_code_is_refused(pool):
    [(customer, code)] = sent_codes(pool, 1)
    first = OrderFactory(customer=customer, coupon_code=code)
    redemptions_record()
    second = OrderFactory(customer=customer, coupon_code=code)
    summary = redemptions_record(order_ids=[second.pk])
    assert summary.refused == {"already_redeemed": 1}
    assert outcome(first) == ("accepted", "")
    assert outcome(second) == ("refused", "already_redeemed")


def test_within_one_batch_the_earliest_order_wins(pool):
    [(customer, code)] = sent_codes(pool, 1)
    late = OrderFactory(customer=customer, coupon_code=code, ordered_at=BASE_TIME + dt.timedelta(days=2))
    early = OrderFactory(customer=customer, coupon_code=code, ordered_at=BASE_TIME + dt.timedelta(days=1))
    summary = redemptions_record(order_ids=[late.pk, early.pk])
    assert (summary.accepted, summary.refused) == (1, {"already_redeemed": 1})
    assert outcome(early) == ("accepted", "")
    assert outcome(late) == ("refused", "already_redeemed")


def test_a_code_used_by_another_customer_is_refused_not_assigned(pool):
    [(_recipient, code)] = sent_codes(pool, 1)
    order = OrderFactory(coupon_code=code)  # a new customer
    redemptions_record()
    assert outcome(order) == ("refused", "not_assigned")


def test_a_code_never_given_out_is_refused_not_issued(pool):
    from campaigns.coupons.services import coupon_codes_generate

    coupon_codes_generate(pool_id=pool.pk, count=1)
    order = OrderFactory(coupon_code=Coupon.objects.get().code)
    redemptions_record()
    assert outcome(order) == ("refused", "not_issued")


def test_an_order_after_the_expiry_is_refused_expired():
    pool = unique_pool(expires_at=BASE_TIME + dt.timedelta(days=10))
    (a, code_a), (b, code_b) = sent_codes(pool, 2)
    in_time = OrderFactory(customer=a, coupon_code=code_a, ordered_at=BASE_TIME + dt.timedelta(days=9))
    too_late = OrderFactory(customer=b, coupon_code=code_b, ordered_at=BASE_TIME + dt.timedelta(days=10, seconds=1))
    redemptions_record()
    assert outcome(in_time) == ("accepted", "")
    assert outcome(too_late) == ("refused", "expired")


def test_an_order_under_the_minimum_spend_is_refused():
    pool = unique_pool(min_spend="150")
    (a, code_a), (b, code_b) = sent_codes(pool, 2)
    enough = OrderFactory(customer=a, coupon_code=code_a, total=Decimal("150.00"))
    short = OrderFactory(customer=b, coupon_code=code_b, total=Decimal("149.99"))
    redemptions_record()
    assert outcome(enough) == ("accepted", "")
    assert outcome(short) == ("refused", "below_min_spend")


def test_a_refused_order_does_not_use_up_the_code(pool):
    """An order under the minimum spend is refused; the recipient's next order may use it."""
    pool = unique_pool(name="Min", min_spend="100")
    [(customer, code)] = sent_codes(pool, 1)
    small = OrderFactory(customer=customer, coupon_code=code, total=Decimal("20"), ordered_at=BASE_TIME)
    big = OrderFactory(
        customer=customer, coupon_code=code, total=Decimal("120"), ordered_at=BASE_TIME + dt.timedelta(1)
    )
    redemptions_record()
    assert (outcome(small), outcome(big)) == (("refused", "below_min_spend"), ("accepted", ""))


def test_a_shared_code_is_accepted_once_per_customer():
    shared_pool(shared_code="SPRING")
    ann, bob = CustomerFactory.create_batch(2)
    ann_first = OrderFactory(customer=ann, coupon_code="SPRING", ordered_at=BASE_TIME)
    ann_again = OrderFactory(customer=ann, coupon_code="spring", ordered_at=BASE_TIME + dt.timedelta(hours=1))
    bob_order = OrderFactory(customer=bob, coupon_code="SPRING")
    summary = redemptions_record()
    assert (summary.accepted, summary.refused) == (2, {"already_redeemed": 1})
    assert outcome(ann_first) == outcome(bob_order) == ("accepted", "")
    assert outcome(ann_again) == ("refused", "already_redeemed")


def test_only_the_orders_asked_for_are_recorded(pool):
    (a, code_a), (b, code_b) = sent_codes(pool, 2)
    first = OrderFactory(customer=a, coupon_code=code_a)
    second = OrderFactory(customer=b, coupon_code=code_b)
    OrderFactory(customer=a, coupon_code="NOT-A-CODE")
    assert redemptions_record(order_ids=[first.pk]).accepted == 1
    assert redemptions_record(since_order_id=first.pk).accepted == 1
    assert set(Redemption.objects.values_list("order_id", flat=True)) == {first.pk, second.pk}
    assert redemptions_record(order_ids=[]).recorded == 0


def test_the_database_refuses_a_second_accepted_redemption(pool):
    """The last guard: the partial unique constraint, whatever the code above it does."""
    [(customer, code)] = sent_codes(pool, 1)
    first, second = OrderFactory.create_batch(2, customer=customer, coupon_code=code)
    redemptions_record(order_ids=[first.pk])
    coupon = Coupon.objects.get(code=code)
    with pytest.raises(IntegrityError), transaction.atomic():
        Redemption.objects.create(
            coupon=coupon, order=second, customer=customer, status="accepted", redeemed_at=second.ordered_at
        )


def test_coupon_redeem_records_the_code_on_the_order(pool):
    [(customer, code)] = sent_codes(pool, 1)
    order = OrderFactory(customer=customer, coupon_code="")
    redemption = coupon_redeem(code=f" {code.lower()} ", order=order)
    assert (redemption.status, redemption.coupon.code) == ("accepted", code)
    order.refresh_from_db()
    assert order.coupon_code == code
    assert coupon_redeem(code=code, order=order).pk == redemption.pk  # asked again: the same

    again = OrderFactory(customer=customer)
    refused = coupon_redeem(code=code, order=again)
    assert (refused.status, refused.reason) == ("refused", "already_redeemed")


def test_coupon_redeem_refuses_an_unknown_code_and_a_second_coupon_on_one_order(pool):
    [(customer, code)] = sent_codes(pool, 1)
    shared_pool(shared_code="OTHER")
    order = OrderFactory(customer=customer)
    with pytest.raises(CouponError) as unknown:
        coupon_redeem(code="NOPE", order=order)
    assert (unknown.value.code, unknown.value.field) == (CouponErrorCode.UNKNOWN_CODE, "code")
    coupon_redeem(code=code, order=order)
    with pytest.raises(CouponError) as other:
        coupon_redeem(code="OTHER", order=order)
    assert other.value.code == CouponErrorCode.ORDER_HAS_OTHER_COUPON
