"""Orders arriving by CSV import or bulk REST with coupon codes get their redemptions
recorded: customers ingestion sends ``orders_saved`` after the batch commits, the coupons
receiver queues ``campaigns.redemptions_record`` (run eagerly in tests)."""

import pytest

from campaigns.coupons.services import coupons_assign
from campaigns.models import Message, Redemption
from customers.ingestion.csv_import import csv_import
from customers.models import Order
from customers.signals import orders_saved
from tests.campaigns.coupons.conftest import dispatch_with_messages, shared_pool
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def recipients(pool, count):
    customers = [CustomerFactory(external_id=f"cust-{i}") for i in range(count)]
    dispatch = dispatch_with_messages(pool, statuses=["queued"] * count, customers=customers)
    coupons_assign(dispatch_id=dispatch.pk)
    codes = dict(Message.objects.filter(dispatch=dispatch).values_list("customer__external_id", "coupon_code"))
    return [(f"cust-{i}", codes[f"cust-{i}"]) for i in range(count)]


def test_a_csv_import_of_orders_records_their_redemptions(pool, tmp_path, django_capture_on_commit_callbacks):
    (ann, ann_code), (bob, bob_code) = recipients(pool, 2)
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,ordered_at,total,currency,coupon_code\n"
        f"o-1,{ann},2025-03-01 10:00,120.00,CNY,{ann_code}\n"
        f"o-2,{ann},2025-03-02 10:00,80.00,CNY,{ann_code}\n"  # the same code again
        f"o-3,{ann},2025-03-03 10:00,80.00,CNY,{bob_code}\n"  # Bob's code
        f"o-4,{bob},2025-03-03 11:00,99.00,CNY,\n"  # no code
        f"o-5,{bob},2025-03-04 11:00,99.00,CNY,UNKNOWN-CODE\n",
        encoding="utf-8",
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = csv_import(kind="orders", path=path, report_path=tmp_path / "errors.csv")
    assert result.error_count == 0
    outcomes = dict(Redemption.objects.values_list("order__external_id", "reason"))
    assert outcomes == {"o-1": "", "o-2": "already_redeemed", "o-3": "not_assigned"}
    assert Redemption.objects.get(order__external_id="o-1").status == "accepted"

    # Importing the same file again records nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        csv_import(kind="orders", path=path, report_path=tmp_path / "errors.csv")
    assert Redemption.objects.count() == 3


def test_bulk_rest_orders_record_their_redemptions(api_client, django_capture_on_commit_callbacks):
    shared_pool(shared_code="WELCOME")
    CustomerFactory(external_id="c-1")
    records = [
        {"order_id": "b-1", "customer_id": "c-1", "ordered_at": "2025-04-01T09:00:00Z", "total": "50",
         "coupon_code": "WELCOME"},
        {"order_id": "b-2", "customer_id": "c-1", "ordered_at": "2025-04-02T09:00:00Z", "total": "60",
         "coupon_code": "welcome"},
    ]  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post("/api/bulk/orders/", {"records": records}, format="json")
    assert answer.status_code == 200, answer.content
    assert dict(Redemption.objects.values_list("order__external_id", "status")) == {
        "b-1": "accepted",
        "b-2": "refused",
    }


def test_nothing_is_sent_before_the_batch_commits_or_for_orders_without_codes(
    tmp_path, django_capture_on_commit_callbacks
):
    CustomerFactory(external_id="c-9")
    sent = []

    def listen(sender, **kwargs):
        sent.append(kwargs["order_ids"])

    orders_saved.connect(listen)
    try:
        path = tmp_path / "orders.csv"
        path.write_text(
            "order_id,customer_id,ordered_at,total,coupon_code\nx-1,c-9,2025-01-01,10,\nx-2,c-9,2025-01-02,10,ABC\n"
        )
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            csv_import(kind="orders", path=path, report_path=tmp_path / "errors.csv")
        assert sent == []
        for callback in callbacks:
            callback()
        assert sent == [[Order.objects.get(external_id="x-2").pk]]
    finally:
        orders_saved.disconnect(listen)
