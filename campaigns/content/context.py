"""What a campaign template may see: plain data about one recipient, built for a whole
batch of messages with a handful of queries.

A template context holds only dicts, lists, strings, numbers and dates, never a model
instance, so a template cannot follow a relation to another customer, reach a manager or
call a method that touches the database. The names a template can use:

- ``customer``: id (the shop's customer id), name, first_name, email, phone, gender,
  city, region, country, occupation, member_tier, signed_up_at, language
- ``features``: the whitelisted columns of the customer's computed features
  (``FEATURE_FIELDS``), empty before the first feature refresh
- ``recommended_products``: up to ``PRECIS_TEMPLATE_RECOMMENDATIONS`` of the active
  recommendation run's products, best first: name, sku, category, brand, price, url
- ``coupon``: code, discount (display text such as "15%" or "20.00"), discount_kind,
  discount_value, min_spend, expires_at; None without an offer or a code
- ``unsubscribe_url``, ``shop_name``
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db.models import F
from django.db.models.fields.json import KT

from analytics.models import ProductRecommendation
from campaigns.content.links import unsubscribe_url
from campaigns.models import Campaign, CouponPool, Message
from customers.models import Customer
from segments.models import ORDER_WINDOWS, CustomerFeatures

CUSTOMER_FIELDS = (
    "id", "external_id", "name", "email", "phone", "gender", "city", "region", "country", "occupation",
    "member_tier", "signed_up_at",
)  # fmt: skip
FEATURE_FIELDS = (
    "recency_days", "frequency", "monetary", "avg_order_value", "first_order_at", "last_order_at",
    "favourite_category", "favourite_brand", "interest_categories", "review_count", "avg_rating",
    "rfm_segment", "consumption_tier", "churn_risk", "clv", "probability_alive", "expected_purchases",
    "recommended_category",
    *(f"frequency_{days}d" for days in ORDER_WINDOWS),
    *(f"monetary_{days}d" for days in ORDER_WINDOWS),
)  # fmt: skip
POOL_FIELDS = ("id", "kind", "shared_code", "prefix", "code_length", "discount_kind", "discount_value", "min_spend",
               "expires_at")  # fmt: skip
PREVIEW_CODE = "SAMPLE0000000000"


@dataclass
class MessageContext:
    """One recipient's rendering input. ``values`` is the template context;
    ``message_id`` is None for a preview (no tracking links are signed then)."""

    message_id: int | None
    customer_id: int
    campaign_id: int
    campaign_name: str
    channel: str
    variant_id: int | None
    variant_key: str
    to: str
    coupon_code: str
    language: str = ""
    values: dict[str, Any] = field(default_factory=dict)


def first_name(name: str) -> str:
    """The first word of a Western name; a name written without spaces (as Chinese names
    are) is kept whole."""
    parts = name.split()
    return parts[0] if parts else ""


def customer_values(row: dict) -> dict[str, Any]:
    return {
        "id": row["external_id"],
        "name": row["name"],
        "first_name": first_name(row["name"]),
        "email": row["email"],
        "phone": row["phone"],
        "gender": row["gender"],
        "city": row["city"],
        "region": row["region"],
        "country": row["country"],
        "occupation": row["occupation"],
        "member_tier": row["member_tier"],
        "signed_up_at": row["signed_up_at"],
        "language": str(row.get("language") or ""),
    }


def discount_text(kind: str, value: Decimal) -> str:
    if kind == CouponPool.DiscountKind.PERCENT:
        return f"{value.normalize():f}%"
    return f"{value:.2f}"


def coupon_values(pool: dict | None, code: str) -> dict[str, Any] | None:
    if pool is None or not code:
        return None
    return {
        "code": code,
        "discount": discount_text(pool["discount_kind"], pool["discount_value"]),
        "discount_kind": pool["discount_kind"],
        "discount_value": pool["discount_value"],
        "min_spend": pool["min_spend"],
        "expires_at": pool["expires_at"],
    }


def _product_url(row: dict) -> str:
    url = (row["product__attributes"] or {}).get("url") if isinstance(row["product__attributes"], dict) else ""
    if url:
        return str(url)
    pattern = getattr(settings, "PRECIS_PRODUCT_URL", "")
    return pattern.replace("{sku}", quote(row["product__sku"], safe="")) if pattern else ""


def recommendations_by_customer(customer_ids: list[int]) -> dict[int, list[dict]]:
    """The active run's top products of each customer, one query for the batch."""
    limit = getattr(settings, "PRECIS_TEMPLATE_RECOMMENDATIONS", 5)
    if not customer_ids or not limit:
        return {}
    rows = (
        ProductRecommendation.objects.filter(customer_id__in=customer_ids, run__active=True, rank__lte=limit)
        .order_by("customer_id", "rank")
        .values("customer_id", "product__sku", "product__name", "product__category", "product__brand",
                "product__price", "product__attributes")
    )  # fmt: skip
    products: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        products[row["customer_id"]].append(
            {
                "name": row["product__name"],
                "sku": row["product__sku"],
                "category": row["product__category"],
                "brand": row["product__brand"],
                "price": row["product__price"],
                "url": _product_url(row),
            }
        )
    return products


def _features_by_customer(customer_ids: list[int]) -> dict[int, dict]:
    rows = CustomerFeatures.objects.filter(customer_id__in=customer_ids).values("customer_id", *FEATURE_FIELDS)
    return {row.pop("customer_id"): row for row in rows}


def _customers(customer_ids: list[int]) -> dict[int, dict]:
    rows = Customer.objects.filter(pk__in=customer_ids).values(*CUSTOMER_FIELDS, language=KT("attributes__language"))
    return {row["id"]: row for row in rows}


def _address(channel: str, customer: dict) -> str:
    if channel == "email":
        return customer["email"]
    if channel == "sms":
        return customer["phone"]
    return customer["external_id"]


def _contexts(rows: list[dict], *, preview: bool) -> dict[int, MessageContext]:
    """Contexts for rows of (key, customer, campaign, variant, coupon) facts: four
    queries whatever the number of rows."""
    customer_ids = sorted({row["customer_id"] for row in rows})
    customers = _customers(customer_ids)
    features = _features_by_customer(customer_ids)
    products = recommendations_by_customer(customer_ids)
    pool_ids = {row["pool_id"] for row in rows if row["pool_id"]}
    pools = (
        {pool["id"]: pool for pool in CouponPool.objects.filter(pk__in=pool_ids).values(*POOL_FIELDS)}
        if pool_ids
        else {}
    )
    shop_name = getattr(settings, "PRECIS_SHOP_NAME", "") or "Precis"
    contexts = {}
    for row in rows:
        customer = customers.get(row["customer_id"])
        if customer is None:
            continue
        pool = pools.get(row["pool_id"])
        code = row["coupon_code"] or (_sample_code(pool) if preview and pool else "")
        values = {
            "customer": customer_values(customer),
            "features": features.get(row["customer_id"], {}),
            "recommended_products": products.get(row["customer_id"], []),
            "coupon": coupon_values(pool, code),
            "unsubscribe_url": "#unsubscribe" if preview else unsubscribe_url(row["message_id"]),
            "shop_name": shop_name,
        }
        contexts[row["key"]] = MessageContext(
            message_id=None if preview else row["message_id"],
            customer_id=row["customer_id"],
            campaign_id=row["campaign_id"],
            campaign_name=row["campaign_name"],
            channel=row["channel"],
            variant_id=row["variant_id"],
            variant_key=row["variant_key"] or "",
            to=row["to_address"] or _address(row["channel"], customer),
            coupon_code=code,
            language=values["customer"]["language"],
            values=values,
        )
    return contexts


def _sample_code(pool: dict) -> str:
    if pool["kind"] == CouponPool.Kind.SHARED and pool["shared_code"]:
        return pool["shared_code"]
    return pool["prefix"] + PREVIEW_CODE[: max(pool["code_length"], 1)]


def message_contexts(*, message_ids: list[int]) -> dict[int, MessageContext]:
    """Rendering contexts of a batch of messages, by message id, in five queries
    (messages, customers, features, recommendations, coupon pools). Messages whose
    customer is gone are left out."""
    if not message_ids:
        return {}
    rows = [
        {**row, "key": row["message_id"]}
        for row in Message.objects.filter(pk__in=message_ids).values(
            "customer_id",
            "campaign_id",
            "variant_id",
            "coupon_code",
            "to_address",
            message_id=F("id"),
            variant_key=F("variant__key"),
            campaign_name=F("campaign__name"),
            channel=F("campaign__channel"),
            pool_id=F("campaign__coupon_pool_id"),
        )
    ]
    return _contexts(rows, preview=False)


def preview_context(
    *, campaign: Campaign, customer_id: int, variant_id: int | None, variant_key: str
) -> MessageContext | None:
    """The context a message of ``campaign`` would get for the customer, without a
    message: no tracking tokens, and a sample coupon code when the offer has unique codes."""
    row = {
        "key": customer_id,
        "message_id": None,
        "customer_id": customer_id,
        "campaign_id": campaign.pk,
        "campaign_name": campaign.name,
        "channel": campaign.channel,
        "variant_id": variant_id,
        "variant_key": variant_key,
        "coupon_code": "",
        "to_address": "",
        "pool_id": campaign.coupon_pool_id,
    }
    return _contexts([row], preview=True).get(customer_id)
