"""Coupon pages with the test client: list, new pool form, detail, generate, export."""

import pytest

from campaigns.coupons import services
from campaigns.coupons.services import coupon_codes_generate, coupons_assign, redemptions_record
from campaigns.models import CouponPool, Message
from jobs.models import Job
from tests.campaigns.coupons.conftest import dispatch_with_messages, shared_pool
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_the_list_shows_pools_and_the_new_pool_form(marketer_client, pool):
    page = marketer_client.get("/campaigns/coupons/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="coupon-pool-rows"' in html and pool.name in html
    assert 'data-testid="new-pool-form"' in html


def test_creating_a_pool_from_the_form_goes_to_its_page(marketer_client):
    answer = marketer_client.post(
        "/campaigns/coupons/",
        {"name": "Gold welcome", "kind": "shared", "discount_kind": "fixed", "discount_value": "20",
         "min_spend": "100", "shared_code": "gold20", "code_length": "10"},
    )  # fmt: skip
    pool = CouponPool.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/campaigns/coupons/{pool.pk}/"
    assert pool.shared_code == "GOLD20"
    page = marketer_client.get(answer["Location"]).content.decode()
    assert "GOLD20" in page and 'data-testid="pool-terms"' in page


def test_a_refused_pool_shows_the_reason_next_to_the_field(marketer_client):
    answer = marketer_client.post(
        "/campaigns/coupons/",
        {"name": "Shared without code", "kind": "shared", "discount_kind": "percent", "discount_value": "10"},
    )
    assert answer.status_code == 400
    assert 'data-testid="error-shared_code"' in answer.content.decode()
    assert not CouponPool.objects.exists()


def test_the_pool_page_shows_counts_and_latest_redemptions_with_reasons(marketer_client, pool):
    coupon_codes_generate(pool_id=pool.pk, count=5)
    dispatch = dispatch_with_messages(pool, statuses=["queued"])
    coupons_assign(dispatch_id=dispatch.pk)
    message = Message.objects.select_related("customer").get()
    OrderFactory(customer=message.customer, coupon_code=message.coupon_code)
    OrderFactory(coupon_code=message.coupon_code)  # another customer
    redemptions_record()
    html = marketer_client.get(f"/campaigns/coupons/{pool.pk}/").content.decode()
    assert 'data-testid="count-codes">5<' in html
    assert 'data-testid="count-redeemed">1<' in html and 'data-testid="count-refused">1<' in html
    assert "Assigned to another customer" in html
    assert f'href="/campaigns/coupons/{pool.pk}/codes.csv"' in html


def test_generating_with_htmx_answers_the_panel(marketer_client, pool):
    answer = marketer_client.post(f"/campaigns/coupons/{pool.pk}/generate/", {"count": "40"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'data-testid="generated"' in html and 'data-testid="count-codes">40<' in html
    assert "<html" not in html
    assert pool.coupons.count() == 40


def test_generating_many_shows_the_job_progress(marketer_client, pool, monkeypatch):
    monkeypatch.setattr(services, "GENERATE_INLINE_MAX", 10)
    answer = marketer_client.post(f"/campaigns/coupons/{pool.pk}/generate/", {"count": "50"}, HTTP_HX_REQUEST="true")
    job = Job.objects.get(kind="coupons.generate")
    assert f'id="job-{job.pk}"' in answer.content.decode()


def test_generating_without_javascript_redirects_back(marketer_client, pool):
    answer = marketer_client.post(f"/campaigns/coupons/{pool.pk}/generate/", {"count": "3"})
    assert answer.status_code == 302 and answer["Location"] == f"/campaigns/coupons/{pool.pk}/"
    assert pool.coupons.count() == 3
    refused = marketer_client.post(f"/campaigns/coupons/{shared_pool().pk}/generate/", {"count": "3"}, follow=True)
    assert "no codes to generate" in refused.content.decode()


def test_the_codes_export_downloads(marketer_client, pool):
    coupon_codes_generate(pool_id=pool.pk, count=3)
    answer = marketer_client.get(f"/campaigns/coupons/{pool.pk}/codes.csv")
    assert answer.status_code == 200
    assert len(b"".join(answer.streaming_content).decode("utf-8-sig").strip().splitlines()) == 4


def test_viewers_see_pages_without_forms(client, viewer, pool):
    client.force_login(viewer)
    html = client.get("/campaigns/coupons/").content.decode()
    assert 'data-testid="new-pool-form"' not in html
    assert 'data-testid="generate-codes"' not in client.get(f"/campaigns/coupons/{pool.pk}/").content.decode()
    assert client.post("/campaigns/coupons/", {"name": "x"}).status_code == 403
    assert client.post(f"/campaigns/coupons/{pool.pk}/generate/", {"count": "3"}).status_code == 403
