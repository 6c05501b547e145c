import pytest

from accounts.models import AuditEntry
from customers.models import Customer, Event, Order, Review
from tests.factories import (
    CustomerFactory,
    EventFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ReviewFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_with_history():
    customer = CustomerFactory(external_id="C-ALICE", email="alice@example.com", name="Alice Wong")
    product = ProductFactory(sku="SKU-TEA")
    order = OrderFactory(customer=customer, external_id="O-1")
    OrderLineFactory(order=order, product=product, quantity=2)
    EventFactory(customer=customer, query="green tea", path="/p/tea")
    ReviewFactory(customer=customer, product=product, text="Lovely tea, fast delivery")
    other = CustomerFactory(external_id="C-BOB", email="bob@example.com")
    OrderFactory(customer=other, external_id="O-2")
    return customer


def test_export_holds_every_record_of_that_customer_only(api_client, customer_with_history):
    response = api_client.get("/api/customers/C-ALICE/export/")
    assert response.status_code == 200
    data = response.json()
    assert data["profile"]["email"] == "alice@example.com"
    assert [order["order_id"] for order in data["orders"]] == ["O-1"]
    unit_price = str(Order.objects.get(external_id="O-1").lines.get().unit_price)
    assert data["orders"][0]["lines"] == [{"sku": "SKU-TEA", "quantity": 2, "unit_price": unit_price}]
    assert [event["query"] for event in data["events"]] == ["green tea"]
    assert [review["text"] for review in data["reviews"]] == ["Lovely tea, fast delivery"]
    assert "bob@example.com" not in response.content.decode()


def test_erase_anonymises_but_keeps_orders_for_reports(api_client, customer_with_history):
    response = api_client.post("/api/customers/C-ALICE/erase/")
    assert response.status_code == 200
    anonymous_id = response.json()["anonymous_id"]
    assert anonymous_id.startswith("erased-")
    customer = Customer.objects.get(pk=customer_with_history.pk)
    assert (customer.external_id, customer.email, customer.name, customer.phone) == (anonymous_id, "", "", "")
    assert customer.birth_date is None and not customer.email_opt_in and not customer.sms_opt_in
    assert Order.objects.filter(customer=customer).count() == 1
    assert Review.objects.get(customer=customer).text == ""
    assert Event.objects.get(customer=customer).query == ""
    assert not Customer.objects.filter(external_id="C-ALICE").exists()
    assert Customer.objects.get(external_id="C-BOB").email == "bob@example.com"
    entry = AuditEntry.objects.get(action="customer.erase")
    assert entry.target_id == str(customer.pk) and entry.actor.username == "marketer-user"


def test_viewer_may_export_but_not_erase(viewer, customer_with_history):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=viewer)
    assert client.get("/api/customers/C-ALICE/export/").status_code == 200
    assert client.post("/api/customers/C-ALICE/erase/").status_code == 403
    assert Customer.objects.filter(external_id="C-ALICE").exists()


def test_profile_page_download_and_erase(marketer_client, customer_with_history):
    page = marketer_client.get("/customers/C-ALICE/")
    assert b'data-testid="erase-customer"' in page.content
    download = marketer_client.get("/customers/C-ALICE/export.json")
    assert download.json()["profile"]["name"] == "Alice Wong"
    response = marketer_client.post("/customers/C-ALICE/erase/")
    erased = Customer.objects.get(pk=customer_with_history.pk)
    assert response.status_code == 302 and response["Location"] == f"/customers/{erased.external_id}/"
    assert erased.name == "" and erased.email == ""


def test_viewer_sees_no_erase_button_and_cannot_post(client, viewer, customer_with_history):
    client.force_login(viewer)
    assert b'data-testid="erase-customer"' not in client.get("/customers/C-ALICE/").content
    assert client.post("/customers/C-ALICE/erase/").status_code == 403
    assert Customer.objects.get(pk=customer_with_history.pk).name == "Alice Wong"
