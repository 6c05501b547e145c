"""POST /api/bulk/<kind>/ against the real database: counts, stored values, error rows."""

import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Customer, Event, Order, OrderLine, Product, Review

pytestmark = pytest.mark.django_db


def post(client, kind, records):
    return client.post(f"/api/bulk/{kind}/", {"records": records}, format="json")


def test_customers_insert_then_resend_changes_nothing(api_client):
    records = [
        {
            "customer_id": "c1",
            "email": "a@example.com",
            "name": "Ann",
            "gender": "F",
            "birth_date": "1990-02-03",
            "email_opt_in": "yes",
            "tier_note": "gold",
        },
        {"customer_id": "c2", "name": "Bo", "signed_up_at": "12/1/2009 7:45"},
    ]
    first = post(api_client, "customers", records).json()
    assert first == {"received": 2, "inserted": 2, "updated": 0, "unchanged": 0, "rejected": 0, "errors": []}
    ann = Customer.objects.get(external_id="c1")
    assert (ann.email, ann.name, ann.gender, ann.birth_date) == (
        "a@example.com",
        "Ann",
        "female",
        dt.date(1990, 2, 3),
    )
    assert ann.email_opt_in is True and ann.email_opt_in_at is not None
    assert ann.attributes == {"tier_note": "gold"}
    assert Customer.objects.get(external_id="c2").signed_up_at == dt.datetime(2009, 12, 1, 7, 45, tzinfo=dt.UTC)
    stamp = ann.updated_at
    again = post(api_client, "customers", records).json()
    assert again["inserted"] == 0 and again["updated"] == 0 and again["unchanged"] == 2
    assert Customer.objects.get(external_id="c1").updated_at == stamp
    assert Customer.objects.count() == 2


def test_update_only_touches_given_columns(api_client):
    post(
        api_client,
        "customers",
        [{"customer_id": "c1", "email": "a@example.com", "name": "Ann", "city": "Paris"}],
    )
    answer = post(api_client, "customers", [{"customer_id": "c1", "email": "new@example.com"}]).json()
    assert answer["updated"] == 1
    ann = Customer.objects.get(external_id="c1")
    assert (ann.email, ann.name, ann.city) == ("new@example.com", "Ann", "Paris")


def test_consent_time_moves_only_when_consent_changes(api_client):
    post(api_client, "customers", [{"customer_id": "c1", "sms_opt_in": "no"}])
    first = Customer.objects.get(external_id="c1").sms_opt_in_at
    post(api_client, "customers", [{"customer_id": "c1", "sms_opt_in": "0", "name": "X"}])
    assert Customer.objects.get(external_id="c1").sms_opt_in_at == first
    post(api_client, "customers", [{"customer_id": "c1", "sms_opt_in": True}])
    changed = Customer.objects.get(external_id="c1")
    assert changed.sms_opt_in is True and changed.sms_opt_in_at > first


def test_bad_records_are_reported_and_good_ones_kept(api_client):
    Customer.objects.create(external_id="c1")
    records = [
        {
            "event_id": "e1",
            "customer_id": "c1",
            "type": "view",
            "occurred_at": "2024-05-01T10:00:00+02:00",
            "sku": "S1",
            "properties": {"source": "app"},
            "campaign": "spring",
        },
        {"event_id": "e2", "customer_id": "c1", "type": "teleport", "occurred_at": "2024-05-01"},
        {"event_id": "e3", "customer_id": "nobody", "type": "view", "occurred_at": "2024-05-01"},
        {"event_id": "e1", "customer_id": "c1", "type": "search", "occurred_at": "2024-05-02"},
        {"event_id": "", "customer_id": "c1", "type": "view", "occurred_at": "not a date"},
        "not an object",
    ]
    answer = post(api_client, "events", records).json()
    assert (answer["received"], answer["inserted"], answer["rejected"]) == (6, 1, 5)
    assert [(e["index"], e["id"], e["field"], e["code"]) for e in answer["errors"]] == [
        (1, "e2", "type", "invalid_choice"),
        (2, "e3", "customer_id", "unknown_customer"),
        (3, "e1", "event_id", "duplicate_id"),
        (4, "", "event_id", "required"),
        (4, "", "occurred_at", "invalid_date"),
        (5, "", "", "invalid_record"),
    ]
    event = Event.objects.get()
    assert event.occurred_at == dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)
    assert event.properties == {"source": "app", "campaign": "spring"}
    assert event.customer.external_id == "c1"


def test_orders_with_nested_lines(api_client):
    Customer.objects.create(external_id="c1")
    Product.objects.create(sku="P1", price=Decimal("2.50"))
    Product.objects.create(sku="P2", price=Decimal("4.00"))
    records = [
        {
            "order_id": "o1",
            "customer_id": "c1",
            "ordered_at": "2024-01-02 03:04:05",
            "total": "9.00",
            "lines": [
                {"sku": "P1", "quantity": 2},
                {"sku": "P2", "quantity": 1, "unit_price": "4.00"},
                {"sku": "P404", "quantity": 1},
            ],
        },
        {"order_id": "o2", "customer_id": "ghost", "ordered_at": "2024-01-02", "lines": [{"sku": "P1"}]},
    ]
    answer = post(api_client, "orders", records).json()
    assert answer["inserted"] == 1 and answer["rejected"] == 1
    assert answer["lines"] == {"inserted": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    assert [(e["index"], e["field"], e["code"]) for e in answer["errors"]] == [
        (0, "lines.sku", "unknown_product"),
        (1, "customer_id", "unknown_customer"),
    ]
    lines = {line.product.sku: (line.quantity, line.unit_price) for line in OrderLine.objects.all()}
    assert lines == {"P1": (2, Decimal("2.50")), "P2": (1, Decimal("4.00"))}
    assert Order.objects.get().total == Decimal("9.00")


def test_reviews_rating_range_and_language(api_client):
    Customer.objects.create(external_id="c1")
    Product.objects.create(sku="P1")
    records = [
        {
            "review_id": "r1",
            "customer_id": "c1",
            "sku": "P1",
            "rating": 5,
            "text": "质量很好",
            "created_at": "2024-03-01",
        },
        {"review_id": "r2", "customer_id": "c1", "rating": 4, "text": "Nice", "created_at": "2024-03-01"},
        {"review_id": "r3", "customer_id": "c1", "rating": 6, "created_at": "2024-03-01"},
        {"review_id": "r4", "customer_id": "c1", "rating": 0, "created_at": "2024-03-01"},
    ]
    answer = post(api_client, "reviews", records).json()
    assert [(e["id"], e["code"]) for e in answer["errors"]] == [
        ("r3", "out_of_range"),
        ("r4", "out_of_range"),
    ]
    stored = {r.external_id: (r.rating, r.language, r.product.sku if r.product else None) for r in Review.objects.all()}
    assert stored == {"r1": (5, "zh", "P1"), "r2": (4, "en", None)}


def test_too_many_records(api_client, settings):
    settings.PRECIS_BULK_MAX_RECORDS = 3
    response = post(api_client, "products", [{"sku": str(i)} for i in range(4)])
    assert response.status_code == 400
    assert "At most 3 records" in response.json()["detail"]
    assert Product.objects.count() == 0


def test_viewer_cannot_ingest(viewer):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=viewer)
    assert post(client, "products", [{"sku": "P1"}]).status_code == 403


def test_schema_documents_bulk_endpoint(api_client):
    schema = api_client.get("/api/schema/").content.decode()
    assert "/api/bulk/{kind}/" in schema and "bulk_ingest" in schema
