"""GDPR-style data subject requests: export everything held about one customer, and erase it.

Erasure anonymises instead of deleting rows, so that revenue and order counts in reports do
not change retroactively: every field that can identify the person (contact data, names,
birth date, location below country, free attributes, review and search text, page paths)
is cleared, the shop's id is replaced by a random one, and consent is withdrawn.
"""

import secrets
from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from accounts.services import audit_record
from customers.models import Customer, Event, Order, OrderLine, Review

PROFILE_FIELDS = [
    "external_id", "email", "phone", "name", "gender", "birth_date", "country", "region", "city",
    "occupation", "signed_up_at", "member_tier", "email_opt_in", "email_opt_in_at", "sms_opt_in",
    "sms_opt_in_at", "attributes", "created_at", "updated_at",
]  # fmt: skip


def customer_data_export(*, customer: Customer) -> dict[str, Any]:
    """Everything stored about the customer, as JSON-ready data."""
    lines_by_order: dict[int, list[dict]] = {}
    for line in OrderLine.objects.filter(order__customer=customer).values(
        "order_id", "product__sku", "quantity", "unit_price"
    ):
        lines_by_order.setdefault(line["order_id"], []).append(
            {"sku": line["product__sku"], "quantity": line["quantity"], "unit_price": str(line["unit_price"])}
        )
    orders = [
        {
            "order_id": order["external_id"],
            "ordered_at": order["ordered_at"].isoformat(),
            "total": str(order["total"]),
            "currency": order["currency"],
            "coupon_code": order["coupon_code"],
            "status": order["status"],
            "lines": lines_by_order.get(order["id"], []),
        }
        for order in Order.objects.filter(customer=customer).order_by("ordered_at").values()
    ]
    profile = {
        key: value.isoformat() if hasattr(value, "isoformat") else value
        for key, value in model_to_dict(customer, fields=PROFILE_FIELDS).items()
    }
    profile["created_at"] = customer.created_at.isoformat()
    profile["updated_at"] = customer.updated_at.isoformat()
    events = [
        {**event, "occurred_at": event["occurred_at"].isoformat()}
        for event in Event.objects.filter(customer=customer)
        .order_by("occurred_at")
        .values("external_id", "type", "occurred_at", "sku", "category", "query", "path", "properties")
    ]
    reviews = [
        {**review, "created_at": review["created_at"].isoformat()}
        for review in Review.objects.filter(customer=customer)
        .order_by("created_at")
        .values("external_id", "sku", "rating", "text", "language", "created_at")
    ]
    return {
        "exported_at": timezone.now().isoformat(),
        "profile": profile,
        "orders": orders,
        "events": events,
        "reviews": reviews,
    }


@transaction.atomic
def customer_erase(*, customer: Customer, actor=None) -> Customer:
    """Anonymise the customer in place (idempotent: erasing twice changes nothing more)."""
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(
        external_id=f"erased-{secrets.token_hex(8)}",
        email="",
        phone="",
        name="",
        birth_date=None,
        region="",
        city="",
        occupation="",
        attributes={"erased_at": now.isoformat()},
        email_opt_in=False,
        email_opt_in_at=now,
        sms_opt_in=False,
        sms_opt_in_at=now,
        updated_at=now,
    )
    Review.objects.filter(customer=customer).update(text="")
    Event.objects.filter(customer=customer).update(query="", path="", properties={})
    Order.objects.filter(customer=customer).update(attributes={})
    # The original id is not kept: the audit entry records that an erasure happened.
    audit_record(actor=actor, action="customer.erase", target_type="customer", target_id=customer.pk)
    customer.refresh_from_db()
    return customer
