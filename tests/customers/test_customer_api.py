"""GET /api/customers/, /api/customers/<id>/ and /timeline/: same rows as the page,
cursors that walk every customer, profile with an independently computed summary."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from customers.models import Order
from tests.factories import BASE_TIME, CustomerFactory, EventFactory, OrderFactory

pytestmark = pytest.mark.django_db

ROW = re.compile(r'data-customer="([^"]+)"')


@pytest.fixture
def crowd():
    return [
        CustomerFactory(
            external_id=f"api-{n:02d}",
            name=["Ann Lee", "Bo Wang", ""][n % 3],
            country=["CN", "US"][n % 2],
            email_opt_in=n % 4 != 0,
            signed_up_at=None if n == 7 else BASE_TIME - dt.timedelta(days=n % 9),
        )
        for n in range(30)
    ]


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=viewer)
    return client


def walk(client, params: dict) -> list[str]:
    seen, cursor = [], None
    while True:
        body = client.get("/api/customers/", {**params, **({"after": cursor} if cursor else {})}).json()
        seen += [row["external_id"] for row in body["results"]]
        if not (cursor := body["next"]):
            return seen


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"country": "CN", "sort": "name"},
        {"email_opt_in": "false"},
        {"q": "wang"},
        {"signed_up_from": "2023-12-28", "signed_up_to": "2023-12-30"},
    ],
)
def test_api_returns_the_same_rows_as_the_page(crowd, viewer_api, client, viewer, params):
    client.force_login(viewer)
    page_params = {key: value for key, value in params.items() if key != "email_opt_in"}
    if "email_opt_in" in params:
        page_params["email_consent"] = "no"
    page_rows = ROW.findall(client.get("/customers/", page_params).content.decode())
    api_rows = walk(viewer_api, {**params, "limit": 4})
    assert api_rows == page_rows
    assert len(set(api_rows)) == len(api_rows)


def test_api_list_shape_and_backward_cursor(crowd, viewer_api):
    first = viewer_api.get("/api/customers/", {"limit": 10, "sort": "name"}).json()
    assert first["previous"] is None and first["estimated_total"] == 30
    assert set(first["results"][0]) >= {"external_id", "name", "email", "country", "signed_up_at", "sms_opt_in"}
    second = viewer_api.get("/api/customers/", {"limit": 10, "sort": "name", "after": first["next"]}).json()
    back = viewer_api.get("/api/customers/", {"limit": 10, "sort": "name", "before": second["previous"]}).json()
    assert back["results"] == first["results"]
    filtered = viewer_api.get("/api/customers/", {"country": "US"}).json()
    assert filtered["estimated_total"] is None
    assert {row["external_id"] for row in filtered["results"]} == {c.external_id for c in crowd if c.country == "US"}


def test_api_rejects_bad_input(crowd, viewer_api):
    assert viewer_api.get("/api/customers/", {"after": "garbage"}).status_code == 400
    first = viewer_api.get("/api/customers/", {"limit": 5}).json()
    assert viewer_api.get("/api/customers/", {"sort": "name", "after": first["next"]}).status_code == 400
    assert viewer_api.get("/api/customers/", {"limit": 0}).status_code == 400
    assert viewer_api.get("/api/customers/", {"gender": "robot"}).status_code == 400
    assert viewer_api.get("/api/customers/", {"signed_up_from": "yesterday"}).status_code == 400


def test_api_needs_authentication():
    anonymous = APIClient()
    for url in ["/api/customers/", "/api/customers/x/", "/api/customers/x/timeline/"]:
        assert anonymous.get(url).status_code in (401, 403)


def test_api_detail_with_order_summary(viewer_api):
    customer = CustomerFactory(external_id="vip-1", attributes={"vip": True}, member_tier="gold")
    totals = [Decimal("10.10"), Decimal("20.20"), Decimal("30.33")]
    for total in totals:
        OrderFactory(customer=customer, total=total)
    OrderFactory(customer=customer, total=Decimal("500"), status=Order.Status.RETURNED)
    body = viewer_api.get("/api/customers/vip-1/").json()
    assert body["profile"]["external_id"] == "vip-1" and body["profile"]["attributes"] == {"vip": True}
    assert body["profile"]["member_tier"] == "gold"
    summary = body["order_summary"]
    assert Decimal(summary["total_spend"]) == sum(totals)
    assert Decimal(summary["average_order_value"]) == (sum(totals) / 3).quantize(Decimal("0.01"))
    assert (summary["order_count"], summary["returned_count"]) == (3, 1)
    assert viewer_api.get("/api/customers/nobody/").status_code == 404


def test_api_timeline_pages(viewer_api):
    customer = CustomerFactory(external_id="walker")
    events = [EventFactory(customer=customer, occurred_at=BASE_TIME + dt.timedelta(minutes=n % 5)) for n in range(12)]
    expected = [e.external_id for e in sorted(events, key=lambda e: (e.occurred_at, e.pk), reverse=True)]
    seen, cursor = [], None
    while True:
        params = {"limit": 5, **({"before": cursor} if cursor else {})}
        body = viewer_api.get("/api/customers/walker/timeline/", params).json()
        seen += [event["external_id"] for event in body["results"]]
        if not (cursor := body["next"]):
            break
    assert seen == expected
    assert viewer_api.get("/api/customers/walker/timeline/", {"before": "zzz"}).status_code == 400
    assert viewer_api.get("/api/customers/nobody/timeline/").status_code == 404


def test_schema_documents_the_read_endpoints(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    for path in ["/api/customers/", "/api/customers/{external_id}/", "/api/customers/{external_id}/timeline/"]:
        assert "get" in schema["paths"][path]
    names = {p["name"] for p in schema["paths"]["/api/customers/"]["get"]["parameters"]}
    assert {"q", "country", "city", "gender", "member_tier", "email_opt_in", "after", "before", "limit"} <= names
