"""The coupons REST API: pools, counts, generation, CSV export, redeeming; viewers only read."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from campaigns.coupons import services
from campaigns.coupons.services import coupon_codes_generate, coupons_assign
from campaigns.models import CouponPool, Message, Redemption
from jobs.models import Job
from tests.campaigns.coupons.conftest import dispatch_with_messages, shared_pool
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client(viewer) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=viewer)
    return client


def test_create_a_unique_pool_and_list_it(api_client):
    answer = api_client.post(
        "/api/coupons/pools/",
        {"name": "Spring", "discount_kind": "percent", "discount_value": "15", "min_spend": "200", "prefix": "sp-"},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["kind"], body["prefix"], body["discount_value"], body["min_spend"]) == (
        "unique",
        "SP-",
        "15.00",
        "200.00",
    )
    listed = api_client.get("/api/coupons/pools/").json()
    assert [(row["id"], row["code_count"], row["redeemed_count"]) for row in listed] == [(body["id"], 0, 0)]


def test_bad_terms_answer_400_with_field_and_code(api_client):
    answer = api_client.post(
        "/api/coupons/pools/",
        {"name": "Too much", "discount_kind": "percent", "discount_value": "150"},
        format="json",
    )
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert (error["field"], error["code"]) == ("discount_value", "percent_out_of_range")
    taken = shared_pool(shared_code="SAME")
    answer = api_client.post(
        "/api/coupons/pools/",
        {"name": "Again", "kind": "shared", "discount_kind": "fixed", "discount_value": "5", "shared_code": "same"},
        format="json",
    )
    assert answer.json()["errors"][0]["code"] == "shared_code_taken"
    assert CouponPool.objects.get() == taken


def test_generate_few_codes_at_once_and_read_the_counts(api_client, pool):
    answer = api_client.post(f"/api/coupons/pools/{pool.pk}/generate/", {"count": 25}, format="json")
    assert answer.status_code == 201
    assert answer.json() == {"generated": 25, "job": None}
    dispatch = dispatch_with_messages(pool, statuses=["queued"] * 2)
    coupons_assign(dispatch_id=dispatch.pk)
    detail = api_client.get(f"/api/coupons/pools/{pool.pk}/").json()
    assert detail["counts"] == {"codes": 25, "assigned": 2, "free": 23, "redeemed": 0, "refused": 0}


def test_generate_many_codes_starts_a_job(api_client, pool, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "GENERATE_INLINE_MAX", 10)
    with django_capture_on_commit_callbacks(execute=True):
        answer = api_client.post(f"/api/coupons/pools/{pool.pk}/generate/", {"count": 300}, format="json")
    assert answer.status_code == 202
    job = Job.objects.get(pk=answer.json()["job"])
    assert (job.status, job.progress_done, job.progress_total) == ("succeeded", 300, 300)
    assert pool.coupons.count() == 300


def test_generate_refusals(api_client, pool):
    shared = shared_pool()
    answer = api_client.post(f"/api/coupons/pools/{shared.pk}/generate/", {"count": 5}, format="json")
    assert (answer.status_code, answer.json()["errors"][0]["code"]) == (400, "shared_pool_has_one_code")
    assert api_client.post(f"/api/coupons/pools/{pool.pk}/generate/", {"count": 0}, format="json").status_code == 400


def test_codes_csv_export_streams_every_code(api_client, pool):
    coupon_codes_generate(pool_id=pool.pk, count=30)
    dispatch = dispatch_with_messages(pool, statuses=["queued"])
    coupons_assign(dispatch_id=dispatch.pk)
    message = Message.objects.select_related("customer").get(dispatch=dispatch)
    OrderFactory(customer=message.customer, coupon_code=message.coupon_code)
    services.redemptions_record()
    answer = api_client.get(f"/api/coupons/pools/{pool.pk}/codes.csv")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 30
    assert {row["code"] for row in rows} == set(pool.coupons.values_list("code", flat=True))
    [given] = [row for row in rows if row["customer_id"]]
    assert (given["code"], given["customer_id"], given["redeemed"]) == (
        message.coupon_code,
        message.customer.external_id,
        "yes",
    )


def test_redeem_answers_201_then_409_with_the_reason(api_client, pool):
    dispatch = dispatch_with_messages(pool, statuses=["queued"])
    coupons_assign(dispatch_id=dispatch.pk)
    message = Message.objects.select_related("customer").get(dispatch=dispatch)
    first, second = OrderFactory.create_batch(2, customer=message.customer)
    answer = api_client.post("/api/coupons/redeem/", {"code": message.coupon_code, "order_id": first.external_id})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["status"], body["reason"], body["code"], body["order_id"]) == (
        "accepted",
        "",
        message.coupon_code,
        first.external_id,
    )
    again = api_client.post("/api/coupons/redeem/", {"code": message.coupon_code, "order_id": second.external_id})
    assert again.status_code == 409
    assert (again.json()["status"], again.json()["reason"]) == ("refused", "already_redeemed")
    assert again.json()["message"] == "Already redeemed"
    assert Redemption.objects.filter(status="accepted").count() == 1


def test_redeem_an_unknown_code_or_order(api_client):
    order = OrderFactory()
    unknown = api_client.post("/api/coupons/redeem/", {"code": "NOPE", "order_id": order.external_id})
    assert (unknown.status_code, unknown.json()["errors"][0]["code"]) == (400, "unknown_code")
    assert api_client.post("/api/coupons/redeem/", {"code": "NOPE", "order_id": "missing"}).status_code == 404


def test_viewers_read_but_do_not_change(viewer_client, pool):
    assert viewer_client.get("/api/coupons/pools/").status_code == 200
    assert viewer_client.get(f"/api/coupons/pools/{pool.pk}/").status_code == 200
    assert viewer_client.get(f"/api/coupons/pools/{pool.pk}/codes.csv").status_code == 200
    denied = viewer_client.post(
        "/api/coupons/pools/", {"name": "x", "discount_kind": "fixed", "discount_value": "1"}, format="json"
    )
    assert denied.status_code == 403
    assert viewer_client.post(f"/api/coupons/pools/{pool.pk}/generate/", {"count": 1}).status_code == 403
    assert viewer_client.post("/api/coupons/redeem/", {"code": "X", "order_id": "Y"}).status_code == 403


def test_anonymous_requests_are_refused(pool):
    assert APIClient().get("/api/coupons/pools/").status_code in (401, 403)


def test_a_shared_pool_counts_the_messages_given_its_code(api_client):
    pool = shared_pool(shared_code="TEN")
    dispatch = dispatch_with_messages(pool, statuses=["queued", "queued", "skipped"])
    coupons_assign(dispatch_id=dispatch.pk)
    counts = api_client.get(f"/api/coupons/pools/{pool.pk}/").json()["counts"]
    assert counts == {"codes": 1, "assigned": 2, "free": 0, "redeemed": 0, "refused": 0}
