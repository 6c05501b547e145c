"""Campaign, variant, dispatch and message rows for the experiment and conversion tests.

Messages and customers are made in bulk (a test with a thousand recipients should not
spend its time in factory calls); campaigns, variants and dispatches through factory_boy.
"""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from campaigns.models import Campaign, Conversion, Dispatch, Message, Variant
from customers.models import Customer, Order

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)


class CampaignFactory(DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Spring sale {n}")
    status = Campaign.Status.SENDING
    seed = 12345
    holdout_percent = 0
    test_percent = 100
    winner_metric = Campaign.WinnerMetric.CLICK
    min_sample_per_variant = 100
    conversion_window_days = 7


class VariantFactory(DjangoModelFactory):
    class Meta:
        model = Variant

    campaign = factory.SubFactory(CampaignFactory)
    key = "A"
    name = factory.LazyAttribute(lambda v: f"Variant {v.key}")
    weight = 1
    subject = "Hello {{ customer.name }}"
    body_text = "Our spring sale starts now."


class DispatchFactory(DjangoModelFactory):
    class Meta:
        model = Dispatch

    campaign = factory.SubFactory(CampaignFactory)
    occurrence = 0
    status = Dispatch.Status.SENDING
    frozen_at = T0


def campaign_create(*, keys: Sequence[str] = ("A", "B"), weights: Sequence[int] | None = None, **fields):
    """A campaign with its variants (by key) and its first dispatch."""
    campaign = CampaignFactory(**fields)
    weights = weights or [1] * len(keys)
    variants = {
        key: VariantFactory(campaign=campaign, key=key, weight=weight)
        for key, weight in zip(keys, weights, strict=True)
    }
    return campaign, variants, DispatchFactory(campaign=campaign)


_customer_numbers = iter(range(10**9))


def customers_create(count: int) -> list[Customer]:
    return Customer.objects.bulk_create(
        [Customer(external_id=f"EXP{next(_customer_numbers):08d}") for _ in range(count)]
    )


def messages_create(
    dispatch: Dispatch,
    customers: Sequence[Customer],
    *,
    variant: Variant | None = None,
    status: str = Message.Status.SENT,
    sent_at: dt.datetime | list | None = T0,
    created_at: dt.datetime = T0,
    in_test: bool = True,
    skip_reason: str = "",
    **fields,
) -> list[Message]:
    """One message per customer; ``fields`` may be a value or a list (one per customer)."""
    if status != Message.Status.SENT and sent_at == T0:
        sent_at = None
    rows = []
    for index, customer in enumerate(customers):
        values = {name: value[index] if isinstance(value, list) else value for name, value in fields.items()}
        rows.append(
            Message(
                dispatch=dispatch,
                campaign_id=dispatch.campaign_id,
                customer=customer,
                occurrence=dispatch.occurrence,
                variant=variant,
                in_test=in_test,
                status=status,
                skip_reason=skip_reason,
                created_at=created_at,
                sent_at=sent_at[index] if isinstance(sent_at, list) else sent_at,
                **values,
            )
        )
    return Message.objects.bulk_create(rows)


def holdout_create(dispatch: Dispatch, customers: Sequence[Customer], **fields) -> list[Message]:
    return messages_create(
        dispatch,
        customers,
        status=Message.Status.SKIPPED,
        skip_reason=Message.SkipReason.HOLDOUT,
        in_test=False,
        **fields,
    )


_order_counter = iter(range(10**9))


def order_create(customer: Customer, at: dt.datetime, total: str | Decimal = "100.00", **fields) -> Order:
    return Order.objects.create(
        external_id=f"T{next(_order_counter):08d}", customer=customer, ordered_at=at, total=Decimal(total), **fields
    )


def conversion_create(message: Message, total: str | Decimal, *, at: dt.datetime | None = None) -> Conversion:
    """A credited order, written directly (for tests of the readers, not of attribution)."""
    at = at or (message.sent_at or message.created_at) + dt.timedelta(hours=1)
    order = order_create(message.customer, at, total)
    basis = Conversion.Basis.HOLDOUT if message.skip_reason == Message.SkipReason.HOLDOUT else Conversion.Basis.SEND
    return Conversion.objects.create(
        order=order,
        message=message,
        campaign_id=message.campaign_id,
        variant_id=message.variant_id,
        revenue=Decimal(total),
        converted_at=at,
        basis=basis,
    )
