"""Campaign rows for the channel, content and tracking tests: a campaign with a variant,
a dispatch and queued messages for given customers (what the lead's freeze would write)."""

from decimal import Decimal

from django.utils import timezone

from campaigns.models import Campaign, CouponPool, Dispatch, Message, Variant

HTML = (
    "<html><body><p>Hi {{ customer.first_name }},</p>"
    '<p><a href="https://shop.example.com/sale?a=1&amp;b=2">Sale</a></p></body></html>'
)
TEXT = "Hi {{ customer.first_name }}, see https://shop.example.com/sale."


def pool_make(*, kind: str = CouponPool.Kind.UNIQUE, **fields) -> CouponPool:
    defaults = {
        "name": "Spring",
        "kind": kind,
        "discount_kind": CouponPool.DiscountKind.PERCENT,
        "discount_value": Decimal("15.00"),
        "min_spend": Decimal("100.00"),
        "prefix": "SP-",
        "code_length": 8,
    }
    return CouponPool.objects.create(**{**defaults, **fields})


def campaign_make(*, channel: str = "email", pool: CouponPool | None = None, **variant_fields) -> Variant:
    """A campaign with variant "A"; returns the variant (``variant.campaign`` is the campaign)."""
    campaign = Campaign.objects.create(name="Spring sale", channel=channel, coupon_pool=pool)
    fields = {"subject": "Hello {{ customer.first_name }}", "body_text": TEXT, "body_html": HTML, **variant_fields}
    return Variant.objects.create(campaign=campaign, key="A", **fields)


def messages_make(variant: Variant, customers, *, coupon_codes: list[str] | None = None) -> list[Message]:
    campaign = variant.campaign
    dispatch, _ = Dispatch.objects.get_or_create(campaign=campaign, occurrence=0)
    now = timezone.now()
    codes = coupon_codes or [""] * len(customers)
    return Message.objects.bulk_create(
        Message(
            dispatch=dispatch,
            campaign=campaign,
            customer=customer,
            variant=variant,
            status=Message.Status.QUEUED,
            coupon_code=code,
            created_at=now,
        )
        for customer, code in zip(customers, codes, strict=True)
    )
